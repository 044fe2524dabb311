"""An on-disk cache of text embeddings: each text is encoded once per key, across runs and processes.

Layout under the cache directory::

    <short hash of the key>/
        key.json                  the full key: model identity (weights, tokenizer, run id), pooling,
                                  max_length, dtype, hidden size
        shard-<time>-<pid>-<random>.npz   append-only: 'hashes' (sha256 of each text, uint8 [n, 32]) and
                                  'vectors' (float32 [n, hidden])
    model-fingerprints.json       the identity parts of local model folders, so that a key is known
                                  without loading the model (see :mod:`pricegym.encoders.lazy_text_encoder`)

New vectors go to a new shard written to a temporary file and renamed into place, so a reader never
sees half a shard and two processes filling the same folder at once only cost duplicate work. A key
folder is created the same way (built under a temporary name, then renamed).

:meth:`CachedTextEncoder.from_config` builds a :class:`LazyTextEncoder` where it can: a process whose
texts are all cached reads them without loading the model; the first missing text loads it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pricegym.encoders.lazy_text_encoder import MEMO_FILE, LazyTextEncoder
from pricegym.encoders.text_encoder import TextEncoder, TextEncoderConfig, as_text_list
from pricegym.errors import DataError

CACHE_FORMAT = 1
KEY_FILE = "key.json"
SHARD_PREFIX = "shard-"
SHARD_SUFFIX = ".npz"
_HASH_BYTES = 32  # sha256 digests, stored as uint8 rows (numpy "S" strings would drop trailing NULs)


def text_hash(text: str) -> bytes:
    """The sha256 digest (32 bytes) of a text's UTF-8 bytes: the cache's row key."""
    return hashlib.sha256(text.encode("utf-8")).digest()


def cache_key(encoder: TextEncoder | LazyTextEncoder) -> dict[str, Any]:
    """Everything that changes a vector, as stored in ``key.json``."""
    return {
        "format": CACHE_FORMAT,
        "model": encoder.identity,
        "pooling": encoder.config.pooling,
        "max_length": encoder.config.max_length,
        "dtype": encoder.config.dtype,
        "hidden_size": encoder.hidden_size,
    }


def _key_folder_name(key: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


class _KeyFolder:
    """The vectors of one key folder loaded so far, indexed by text hash."""

    def __init__(self, folder: Path, key: dict[str, Any]) -> None:
        self.folder = folder
        self.key = key
        self.width = int(key["hidden_size"])
        self.dtype = np.dtype(key["dtype"])
        self.loaded: set[str] = set()
        self.rows: dict[bytes, np.ndarray] = {}

    def refresh(self) -> None:
        """Read the shards written since the last look (by this or another process)."""
        for path in sorted(self.folder.glob(f"{SHARD_PREFIX}*{SHARD_SUFFIX}")):
            if path.name not in self.loaded:
                hashes, vectors = self._read_shard(path)
                flat = hashes.tobytes()
                digests = [flat[i:i + _HASH_BYTES] for i in range(0, len(flat), _HASH_BYTES)]
                for digest, vector in zip(digests, vectors, strict=True):
                    self.rows.setdefault(digest, vector)
                self.loaded.add(path.name)

    def _read_shard(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        expected = (f"an .npz with 'hashes' (uint8 [n, {_HASH_BYTES}]) and 'vectors' ({self.dtype.name} "
                    f"[n, {self.width}])")
        fix = f"delete {self.folder} (or this file) or use another cache directory"
        try:
            with np.load(path, allow_pickle=False) as archive:
                hashes, vectors = archive["hashes"], archive["vectors"]
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as err:
            raise DataError(path, f"corrupt embedding cache shard: expected {expected}, got an unreadable "
                                  f"file ({type(err).__name__}: {_one_line(err)}); {fix}") from err
        received = (f"'hashes' {hashes.dtype.name} {list(hashes.shape)}, "
                    f"'vectors' {vectors.dtype.name} {list(vectors.shape)}")
        if (hashes.dtype != np.uint8 or hashes.ndim != 2 or hashes.shape[1] != _HASH_BYTES
                or vectors.dtype != self.dtype or vectors.ndim != 2):
            raise DataError(path, f"corrupt embedding cache shard: expected {expected}, got {received}; "
                                  f"{fix}")
        if vectors.shape[1] != self.width:
            raise DataError(path, f"embedding cache shard holds vectors {vectors.shape[1]} wide, but the "
                                  f"encoder's hidden size is {self.width} (expected {expected}, "
                                  f"got {received}); {fix}")
        if vectors.shape[0] != hashes.shape[0]:
            raise DataError(path, f"corrupt embedding cache shard: expected as many hashes as vectors, got "
                                  f"{received}; {fix}")
        return hashes, vectors

    def append(self, hashes: list[bytes], vectors: np.ndarray) -> Path:
        """Write a new shard atomically (temporary file, then rename) and index its rows."""
        name = f"{SHARD_PREFIX}{time.time_ns()}-{os.getpid()}-{uuid.uuid4().hex[:8]}{SHARD_SUFFIX}"
        hash_array = np.frombuffer(b"".join(hashes), dtype=np.uint8).reshape(len(hashes), _HASH_BYTES)
        vectors = np.ascontiguousarray(vectors, dtype=self.dtype)
        _atomic_write(self.folder / name, lambda handle: np.savez(handle, hashes=hash_array, vectors=vectors))
        for digest, vector in zip(hashes, vectors, strict=True):
            self.rows.setdefault(digest, vector)
        self.loaded.add(name)
        return self.folder / name


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())[:300] or type(err).__name__


def _atomic_write(path: Path, write) -> None:
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


class EmbeddingCache:
    """Text vectors on disk under ``directory``, one subfolder per key (see the module docstring).

    ``get_or_encode(encoder, texts)`` returns the vectors of ``texts`` in order and encodes only
    the texts this key has never seen, in any run or process. A :class:`LazyTextEncoder` is loaded
    only when a text is missing; its vectors are then stored under the loaded encoder's key.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory).expanduser()
        self._folders: dict[str, _KeyFolder] = {}

    def folder_for(self, encoder: TextEncoder | LazyTextEncoder) -> Path:
        """The subfolder that holds ``encoder``'s vectors (it may not exist yet)."""
        return self.directory / _key_folder_name(cache_key(encoder))

    def get_or_encode(self, encoder: TextEncoder | LazyTextEncoder, texts: Sequence[str],
                      progress: bool = False) -> np.ndarray:
        """float32 vectors [len(texts), hidden] in input order; only uncached texts are encoded."""
        texts = as_text_list(texts)
        if isinstance(encoder, LazyTextEncoder) and not encoder.loaded:
            found = self.lookup(encoder, texts)
            if found is not None:
                return found
            encoder = encoder.load()
        entry = self._open(cache_key(encoder))
        entry.refresh()
        hashes = [text_hash(text) for text in texts]
        missing: dict[bytes, str] = {}
        for digest, text in zip(hashes, texts, strict=True):
            if digest not in entry.rows and digest not in missing:
                missing[digest] = text
        if missing:
            vectors = encoder.encode(list(missing.values()), progress=progress)
            expected = (len(missing), entry.width)
            if vectors.shape != expected:
                raise ValueError(f"encoder returned vectors of shape {vectors.shape}; expected {expected}")
            entry.append(list(missing), vectors)
        return _stack(entry, hashes)

    def lookup(self, encoder: TextEncoder | LazyTextEncoder, texts: Sequence[str]) -> np.ndarray | None:
        """The vectors of ``texts`` (as :meth:`get_or_encode`) when every one is cached under ``encoder``'s
        key, else None; nothing is encoded and no folder is created."""
        texts = as_text_list(texts)
        key = cache_key(encoder)
        if not (self.directory / _key_folder_name(key)).exists():
            return None if texts else np.empty((0, int(key["hidden_size"])), dtype=np.dtype(key["dtype"]))
        entry = self._open(key)
        entry.refresh()
        hashes = [text_hash(text) for text in texts]
        if not all(digest in entry.rows for digest in hashes):
            return None
        return _stack(entry, hashes)

    def cached_count(self, encoder: TextEncoder | LazyTextEncoder) -> int:
        """How many distinct texts are cached for ``encoder``'s key."""
        key = cache_key(encoder)
        if not (self.directory / _key_folder_name(key)).exists():
            return 0
        entry = self._open(key)
        entry.refresh()
        return len(entry.rows)

    def _open(self, key: dict[str, Any]) -> _KeyFolder:
        name = _key_folder_name(key)
        if name in self._folders:
            return self._folders[name]
        folder = self.directory / name
        if not folder.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            building = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=self.directory))
            (building / KEY_FILE).write_text(json.dumps(key, indent=2, sort_keys=True) + "\n")
            try:
                os.rename(building, folder)
            except OSError:  # another process created it first: use theirs (checked below)
                shutil.rmtree(building, ignore_errors=True)
        _check_key(folder, key)
        entry = _KeyFolder(folder, key)
        self._folders[name] = entry
        return entry

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self.directory)!r})"


def _stack(entry: _KeyFolder, hashes: list[bytes]) -> np.ndarray:
    """The cached rows of ``hashes`` (all present) as one new array [len(hashes), width]."""
    if not hashes:
        return np.empty((0, entry.width), dtype=entry.dtype)
    return np.stack([entry.rows[digest] for digest in hashes])


def _check_key(folder: Path, key: dict[str, Any]) -> None:
    path = folder / KEY_FILE
    fix = f"delete {folder} or use another cache directory"
    try:
        found = json.loads(path.read_text())
    except FileNotFoundError as err:
        raise DataError(path, f"embedding cache folder without its key file: expected {KEY_FILE} holding "
                              f"{json.dumps(key, sort_keys=True)}, got none; {fix}") from err
    except (OSError, ValueError) as err:
        raise DataError(path, f"unreadable embedding cache key: expected JSON holding "
                              f"{json.dumps(key, sort_keys=True)}, got {type(err).__name__}: "
                              f"{_one_line(err)}; {fix}") from err
    if found != key:
        raise DataError(path, f"embedding cache folder belongs to another key: expected "
                              f"{json.dumps(key, sort_keys=True)}, got {json.dumps(found, sort_keys=True)}; "
                              f"{fix}")


class CachedTextEncoder:
    """A :class:`TextEncoder` behind an :class:`EmbeddingCache`: ``embed(texts)`` and nothing else to know."""

    def __init__(self, encoder: TextEncoder | LazyTextEncoder, cache: EmbeddingCache | str | os.PathLike[str]
                 ) -> None:
        self.encoder = encoder
        self.cache = cache if isinstance(cache, EmbeddingCache) else EmbeddingCache(cache)

    @classmethod
    def load(cls, cache_dir: str | os.PathLike[str], config: TextEncoderConfig | None = None,
             run_id: str | None = None) -> CachedTextEncoder:
        """Load the encoder of ``config`` (default all-MiniLM-L6-v2) with its cache in ``cache_dir``."""
        return cls(TextEncoder(config, run_id=run_id), cache_dir)

    @classmethod
    def from_config(cls, config: TextEncoderConfig | None, cache: EmbeddingCache | str | os.PathLike[str],
                    run_id: str | None = None) -> CachedTextEncoder:
        """The encoder of ``config`` with its cache, loaded only when a text is missing from the cache.

        A model from a local folder (the packaged default included) gets a :class:`LazyTextEncoder`
        (whose key is computed from the files, memoised in the cache folder); any other model, e.g. a
        hub name, is loaded now as by :meth:`load`. Either way the vectors and keys are the same.
        """
        cache = cache if isinstance(cache, EmbeddingCache) else EmbeddingCache(cache)
        lazy = LazyTextEncoder.from_config(config, run_id=run_id, memo_file=cache.directory / MEMO_FILE)
        return cls(lazy if lazy is not None else TextEncoder(config, run_id=run_id), cache)

    @property
    def hidden_size(self) -> int:
        return self.encoder.hidden_size

    @property
    def identity(self) -> str:
        return self.encoder.identity

    def embed(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """float32 vectors [len(texts), hidden] in input order, read from the cache where possible."""
        return self.cache.get_or_encode(self.encoder, texts, progress=progress)

    def __repr__(self) -> str:
        return f"CachedTextEncoder({self.encoder!r}, {self.cache!r})"
