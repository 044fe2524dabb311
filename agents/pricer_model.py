"""The pricing regressor: a BERT encoder with a one-output sequence-regression head.

``AutoModelForSequenceClassification`` with ``num_labels=1`` and ``problem_type="regression"``,
loaded from the same model sources as :class:`~pricegym.encoders.text_encoder.TextEncoder` (the
packaged all-MiniLM-L6-v2 by default, a local folder, or a hub name already in the local cache
when ``offline``), and only for encoder-only models. ``tiny-random-bert`` builds a tiny random
``BertForSequenceClassification`` in code, for tests and smoke runs. The model reads one input
text (:mod:`~pricegym.agents.pricing_texts`) and outputs ``log(price / list_price)``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from pricegym.encoders.text_encoder import TextEncoderConfig, as_text_list, require_encoder_only, resolve_model_source
from pricegym.encoders.tiny_bert import TINY_BERT_NAME, tiny_bert
from pricegym.errors import ConfigError, DataError

REGRESSION = {"num_labels": 1, "problem_type": "regression"}


@contextlib.contextmanager
def quiet_transformers():
    """Silence transformers' load report and bar (the new regression head is *meant* to be initialised)."""
    from transformers.utils import logging

    previous, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(previous)
        if bars:
            logging.enable_progress_bar()


def build_regressor(config: TextEncoderConfig, corpus: Sequence[str] = (), seed: int = 0) -> tuple[nn.Module, Any]:
    """A fresh ``(model, tokenizer)``: pre-trained encoder, new one-output regression head.

    Args:
        config: ``model_name`` (or ``tiny-random-bert``) and ``offline``.
        corpus: texts whose words become whole tokens of the tiny model's vocabulary.
        seed: the head's (and the tiny model's) initialisation.

    Raises:
        ConfigError: for a model that cannot be loaded or is not encoder-only.
    """
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers import (
        AutoConfig,
        AutoModelForSequenceClassification,
        AutoTokenizer,
        BertConfig,
        BertForSequenceClassification,
    )

    if config.model_name == TINY_BERT_NAME:
        encoder, tokenizer = tiny_bert(corpus, seed=seed)
        torch.manual_seed(seed)
        settings = {key: value for key, value in encoder.config.to_dict().items()
                    if key not in ("id2label", "label2id")}
        settings.update(REGRESSION)
        return BertForSequenceClassification(BertConfig(**settings)), tokenizer
    _, local_dir = resolve_model_source(config.model_name)
    source, local_only = local_dir or config.model_name, local_dir is not None or config.offline
    fix = "pass a local model directory, the default all-MiniLM-L6-v2, or tiny-random-bert"
    try:
        model_config = AutoConfig.from_pretrained(source, local_files_only=local_only, **REGRESSION)
    except Exception as error:
        raise ConfigError(f"pricer: cannot load the config of model {config.model_name!r} "
                          f"({type(error).__name__}: {_first_line(error)}); {fix}") from error
    require_encoder_only(model_config, config.model_name)
    torch.manual_seed(seed)
    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only)
            model = AutoModelForSequenceClassification.from_pretrained(source, config=model_config,
                                                                       local_files_only=local_only)
    except Exception as error:
        raise ConfigError(f"pricer: cannot load model {config.model_name!r} "
                          f"({type(error).__name__}: {_first_line(error)}); {fix}") from error
    return model, tokenizer


def load_regressor(directory: str | Path) -> tuple[nn.Module, Any]:
    """A fitted ``(model, tokenizer)`` saved by ``save_pretrained`` into ``directory``."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
            model = AutoModelForSequenceClassification.from_pretrained(str(directory), local_files_only=True)
    except Exception as error:
        raise DataError(directory, f"holds no readable pricing model ({type(error).__name__}: "
                                   f"{_first_line(error)}); expected a folder written by `pricegym fit-pricer`") \
            from error
    if getattr(model.config, "num_labels", None) != 1:
        raise DataError(directory, f"holds a model with {model.config.num_labels} outputs; expected a one-output "
                                   "price regressor written by `pricegym fit-pricer`")
    return model.eval(), tokenizer


def tokenize(tokenizer: Any, texts: list[str], max_length: int, device: torch.device) -> dict[str, torch.Tensor]:
    """Token ids and attention mask, padded to the batch's longest text, on ``device``."""
    tokens = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    return {"input_ids": tokens["input_ids"].to(device), "attention_mask": tokens["attention_mask"].to(device)}


def regression_output(model: nn.Module, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
    """The model's one output per text, ``[batch]``."""
    return model(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"]).logits[:, 0]


def predict_log_ratios(model: nn.Module, tokenizer: Any, texts: Sequence[str], max_length: int,
                       device: torch.device, batch_size: int = 64, progress: bool = False,
                       description: str = "pricing texts") -> np.ndarray:
    """The model's output (``log(price / list_price)`` once fitted) for each text, float64 ``[len(texts)]``.

    Identical texts run once; texts are sorted by length and batched with dynamic padding, under
    ``torch.inference_mode()`` (bf16 autocast on CUDA); the model's training mode is restored after.
    """
    texts = as_text_list(texts)
    unique = list(dict.fromkeys(texts))
    outputs = np.empty(len(unique), dtype=np.float64)
    order = sorted(range(len(unique)), key=lambda i: -len(unique[i]))
    autocast = (torch.autocast(device_type="cuda", dtype=torch.bfloat16) if device.type == "cuda"
                else contextlib.nullcontext())
    was_training = model.training
    model.eval()
    try:
        bar = tqdm(total=len(unique), unit="text", desc=description, disable=not progress)
        with torch.inference_mode(), autocast, bar:
            for start in range(0, len(order), batch_size):
                chunk = order[start:start + batch_size]
                tokens = tokenize(tokenizer, [unique[i] for i in chunk], max_length, device)
                outputs[chunk] = regression_output(model, tokens).float().cpu().numpy()
                bar.update(len(chunk))
    finally:
        model.train(was_training)
    if len(unique) == len(texts):
        return outputs
    position = {text: i for i, text in enumerate(unique)}
    return outputs[[position[text] for text in texts]]


@torch.no_grad()
def fold_standardisation(model: nn.Module, mean: float, scale: float) -> None:
    """Make a head trained on ``(target - mean) / scale`` output the target itself, in place."""
    head = final_linear(model)
    head.weight.mul_(scale)
    head.bias.mul_(scale).add_(mean)


def final_linear(model: nn.Module) -> nn.Linear:
    """The regression head's last linear layer (one output)."""
    linears = [module for module in model.modules() if isinstance(module, nn.Linear) and module.out_features == 1]
    if not linears:
        raise ConfigError(f"pricer: model {type(model).__name__} has no one-output linear head")
    return linears[-1]


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:300] if lines else "no details"
