"""A text encoder whose cache key is known before its model is loaded.

The embedding cache keys vectors by :attr:`TextEncoder.identity` and ``hidden_size``. For a model read
from a local folder (the packaged all-MiniLM-L6-v2 included) both follow from the files alone: the
weights fingerprint is a hash of the files (:func:`_weights_file_fingerprint`), the tokenizer
fingerprint needs only the tokenizer, and the hidden size is in ``config.json``. A
:class:`LazyTextEncoder` computes them so, and builds the torch model only when a text has to be
encoded; until then a process that finds every text in the cache never loads a weight.

Even the tokenizer is loaded once per model folder: the description (:class:`ModelDescription`) is
memoised in memory and in a small JSON sidecar, keyed on the folder's path and the name, size and
modification time of each of its files (and the versions of ``transformers`` and ``tokenizers``), so
any change to the folder computes it afresh. A hub name, or a folder whose description cannot be
computed, has no lazy encoder (:meth:`LazyTextEncoder.from_config` returns None): the caller loads a
:class:`TextEncoder` as before, with its errors.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pricegym.encoders.text_encoder import (
    _WEIGHT_SUFFIXES,
    TextEncoder,
    TextEncoderConfig,
    _tokenizer_fingerprint,
    _weights_file_fingerprint,
    check_max_length,
    check_run_id,
    model_identity,
    require_encoder_only,
    resolve_device,
    resolve_model_source,
)

MEMO_FILE = "model-fingerprints.json"
"""The sidecar's name inside an embedding cache folder."""
MEMO_FORMAT = 1
_LIBRARIES = ("transformers", "tokenizers")


@dataclass(frozen=True)
class ModelDescription:
    """What the cache key needs to know about a model folder, read without building the model."""

    weights: str
    tokenizer: str
    revision: str | None
    hidden_size: int
    max_positions: int | None

    @classmethod
    def from_json(cls, data: Any) -> ModelDescription | None:
        """The description stored in the sidecar, or None when it is not one."""
        try:
            description = cls(**data)
        except TypeError:
            return None
        strings = isinstance(description.weights, str) and isinstance(description.tokenizer, str)
        numbers = type(description.hidden_size) is int and type(description.max_positions) in (int, type(None))
        revision = isinstance(description.revision, str | None)
        return description if strings and numbers and revision else None


_MEMO: dict[str, tuple[dict[str, Any], ModelDescription]] = {}
"""Per resolved model folder: the folder's signature and its description (this process's memo)."""


@lru_cache(maxsize=1)
def _library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def folder_signature(folder: Path) -> dict[str, Any]:
    """Name, size and modification time (ns) of every file in ``folder``, and the library versions."""
    with os.scandir(folder) as entries:
        stats = [(entry.name, entry.stat()) for entry in entries if entry.is_file()]
    files = sorted([name, stat.st_size, stat.st_mtime_ns] for name, stat in stats)
    return {"format": MEMO_FORMAT, "libraries": _library_versions(), "files": files}


def _describe_from_files(local_dir: str) -> ModelDescription:
    """Read ``config.json`` and the tokenizer (not the weights) and fingerprint the files as
    :class:`TextEncoder` does after loading the model from ``local_dir``."""
    if not any(path.is_file() and path.name.endswith(_WEIGHT_SUFFIXES) for path in Path(local_dir).iterdir()):
        raise FileNotFoundError(f"no weights file in {local_dir}")  # loading it would fail: let it, eagerly
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers import AutoConfig, AutoTokenizer

    model_config = AutoConfig.from_pretrained(local_dir, local_files_only=True)
    require_encoder_only(model_config, local_dir)
    tokenizer = AutoTokenizer.from_pretrained(local_dir, local_files_only=True)
    max_positions = getattr(model_config, "max_position_embeddings", None)
    return ModelDescription(
        weights=_weights_file_fingerprint(Path(local_dir)),
        tokenizer=_tokenizer_fingerprint(tokenizer),
        revision=getattr(model_config, "_commit_hash", None),
        hidden_size=int(model_config.hidden_size),
        max_positions=max_positions if type(max_positions) is int else None,
    )


def _read_memo_file(path: Path, local_dir: str, signature: dict[str, Any]) -> ModelDescription | None:
    try:
        entry = json.loads(path.read_text())["models"][local_dir]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(entry, dict) or entry.get("signature") != signature:
        return None
    return ModelDescription.from_json(entry.get("description"))


def _write_memo_file(path: Path, local_dir: str, signature: dict[str, Any], description: ModelDescription) -> None:
    """Add (or replace) ``local_dir``'s entry; written atomically, and skipped where it cannot be written."""
    try:
        models = json.loads(path.read_text()).get("models")
    except (OSError, ValueError, AttributeError):
        models = None
    models = models if isinstance(models, dict) else {}
    models[local_dir] = {"signature": signature, "description": asdict(description)}
    text = json.dumps({"format": MEMO_FORMAT, "models": models}, indent=1, sort_keys=True) + "\n"
    with contextlib.suppress(OSError):  # a read-only cache folder: described again next time
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
        try:
            with os.fdopen(handle, "w") as stream:
                stream.write(text)
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def describe_local_model(local_dir: str, memo_file: Path | None = None) -> ModelDescription | None:
    """The description of the model in ``local_dir`` (a resolved folder), from the memo when the folder
    is unchanged; None when it cannot be computed (the eager load then reports why)."""
    try:
        signature = folder_signature(Path(local_dir))
    except OSError:
        return None
    remembered = _MEMO.get(local_dir)
    if remembered is not None and remembered[0] == signature:
        return remembered[1]
    description = _read_memo_file(memo_file, local_dir, signature) if memo_file is not None else None
    if description is None:
        try:
            description = _describe_from_files(local_dir)
        except Exception:  # any failure: TextEncoder(config) raises its own ConfigError
            return None
        if memo_file is not None:
            _write_memo_file(memo_file, local_dir, signature, description)
    _MEMO[local_dir] = (signature, description)
    return description


class LazyTextEncoder:
    """``TextEncoder(config, run_id)`` with its model loaded on first need.

    ``config``, ``run_id``, ``device``, :attr:`identity` and :attr:`hidden_size` are known without the
    model; :meth:`encode` (or any other attribute of a :class:`TextEncoder`, such as ``model``) loads
    it, and from then on everything, the identity included, is the loaded encoder's.
    """

    def __init__(self, config: TextEncoderConfig, run_id: str | None, label: str, description: ModelDescription,
                 device: torch.device) -> None:
        self.config = config
        self.run_id = run_id
        self.device = device
        self._label = label
        self._description = description
        self._encoder: TextEncoder | None = None

    @classmethod
    def from_config(cls, config: TextEncoderConfig | None = None, run_id: str | None = None,
                    memo_file: Path | None = None) -> LazyTextEncoder | None:
        """A lazy encoder for a model from a local folder (or the packaged default), or None where the
        identity needs the model itself (a hub name, a folder that cannot be described).

        The checks of ``TextEncoder(config, run_id)`` that need no weights (device, model path, run id,
        max_length) raise the same :class:`ConfigError` here.
        """
        config = config or TextEncoderConfig()
        device = resolve_device(config.device)
        label, local_dir = resolve_model_source(config.model_name)
        if local_dir is None:
            return None
        description = describe_local_model(local_dir, memo_file)
        if description is None:
            return None
        check_run_id(run_id)
        check_max_length(config, description.max_positions)
        return cls(config, run_id, label, description, device)

    @property
    def loaded(self) -> bool:
        """Whether the model has been loaded."""
        return self._encoder is not None

    def load(self) -> TextEncoder:
        """The loaded :class:`TextEncoder` (loaded now on the first call)."""
        if self._encoder is None:
            self._encoder = TextEncoder(self.config, run_id=self.run_id)
        return self._encoder

    @property
    def identity(self) -> str:
        if self._encoder is not None:
            return self._encoder.identity
        described = self._description
        return model_identity(self._label, described.weights, described.tokenizer, described.revision,
                              self.run_id)

    @property
    def hidden_size(self) -> int:
        return self._encoder.hidden_size if self._encoder is not None else self._description.hidden_size

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """:meth:`TextEncoder.encode`, after loading the model."""
        return self.load().encode(texts, progress=progress)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.load(), name)

    def __repr__(self) -> str:
        state = "loaded" if self.loaded else "not loaded"
        return (f"LazyTextEncoder({self._label!r}, pooling={self.config.pooling!r}, "
                f"max_length={self.config.max_length}, device={str(self.device)!r}, run_id={self.run_id!r}, "
                f"{state})")
