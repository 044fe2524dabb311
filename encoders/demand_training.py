"""Fine-tuning loop of the demand model: AdamW, warmup then linear decay, clipping, early stopping.

Encoding text, not the rows, is what a step costs, so each step fine-tunes on a *block of texts*:
it draws ``products_per_step`` products and ``customer_texts_per_step`` customer profiles, takes
the training rows among them (at most ``max_rows_per_step``), encodes only those texts with
gradients, and minimises the log-loss (exposures) or Poisson loss (counts). An epoch is as many
blocks as it takes to cover the product x customer grid once on average (at most
``max_steps_per_epoch``). After each epoch the
validation loss is measured, and training stops once the validation loss has not improved for
``patience`` epochs; the best epoch's weights are restored. Only the best epoch's checkpoint is kept
on disk (``checkpoint_dir/epoch-N.pt``), replaced whenever an epoch improves on it; with
``keep_all_checkpoints`` every epoch's is kept.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from pricegym.config_checks import Flag, Seed, config_dataclass, integer
from pricegym.encoders.demand_data import DemandData
from pricegym.encoders.demand_model import BertDemandModel
from pricegym.encoders.optimization import (
    Epochs,
    LearningRate,
    MaxGradNorm,
    Patience,
    WarmupShare,
    WeightDecay,
    optimizer_and_schedule,
    require_finite_loss,
)
from pricegym.encoders.text_encoder import TextEncoder


@config_dataclass("demand training")
class DemandTrainingConfig:
    """Hyperparameters of fine-tuning (defaults sized so the synthetic fit takes minutes on 2 cores)."""

    epochs: Epochs = 3
    products_per_step: integer(1, 100_000) = 24
    customer_texts_per_step: integer(1, 100_000) = 16
    max_rows_per_step: integer(1, 10_000_000) = 4_096
    max_steps_per_epoch: integer(1, 10_000_000) = 60
    encoder_learning_rate: LearningRate = 5e-5
    head_learning_rate: LearningRate = 3e-3
    weight_decay: WeightDecay = 0.01
    warmup_share: WarmupShare = 0.1
    max_grad_norm: MaxGradNorm = 1.0
    patience: Patience = 1
    max_validation_rows: integer(1, 100_000_000) = 20_000
    seed: Seed = 0
    keep_all_checkpoints: Flag = False
    """Keep every epoch's checkpoint (about 91 MB each with the default encoder), not only the best one."""


@dataclass
class TrainingHistory:
    """Losses per epoch, the epoch whose weights were kept (0-based) and its checkpoint file."""

    train_loss: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    steps: int = 0
    seconds: float = 0.0
    best_checkpoint: str | None = None


def tokenize(text_encoder: TextEncoder, texts: list[str]) -> dict[str, torch.Tensor]:
    """Tokenise with dynamic padding (to the longest text of the batch), on the encoder's device."""
    tokens = text_encoder.tokenizer(texts, padding=True, truncation=True, max_length=text_encoder.config.max_length,
                                    return_tensors="pt")
    device = text_encoder.device
    return {"input_ids": tokens["input_ids"].to(device), "attention_mask": tokens["attention_mask"].to(device)}


def embed_texts(text_encoder: TextEncoder, texts: tuple[str, ...] | list[str]) -> torch.Tensor:
    """Pooled embeddings of ``texts`` (in order) by the encoder being fine-tuned, without gradients."""
    return torch.from_numpy(text_encoder.encode(list(texts))).to(text_encoder.device)


@torch.inference_mode()
def evaluate_loss(model: BertDemandModel, text_encoder: TextEncoder, data: DemandData,
                  config: DemandTrainingConfig) -> float:
    """Mean loss over (at most ``max_validation_rows`` of) ``data``, texts encoded once."""
    rows = np.arange(len(data))[: config.max_validation_rows]
    customer_texts, product_texts, batch = data.batch(rows, text_encoder.device)
    customer_vectors = embed_texts(text_encoder, customer_texts)
    product_vectors = embed_texts(text_encoder, product_texts)
    model.eval()
    index = model.utility_index(customer_vectors, product_vectors, batch)
    return float(model.loss(index, batch.outcome))


def train_demand_model(model: BertDemandModel, text_encoder: TextEncoder, train: DemandData,
                       validation: DemandData, config: DemandTrainingConfig, checkpoint_dir: Path,
                       progress: bool = True) -> TrainingHistory:
    """Fine-tune ``model`` (whose encoder is ``text_encoder.model``) in place; returns the loss
    history, with the best epoch's weights restored."""
    started = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    steps_per_epoch = _steps_per_epoch(train, config)
    optimizer, schedule = _optimizer_and_schedule(model, config, steps_per_epoch * config.epochs)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    history, best_state, epochs_without_gain = TrainingHistory(), None, 0
    device = text_encoder.device
    model.to(device)
    for epoch in range(config.epochs):
        model.train()
        losses = []
        bar = tqdm(range(steps_per_epoch), desc=f"fine-tune epoch {epoch + 1}/{config.epochs}", disable=not progress)
        for _ in bar:
            batch_rows = text_block_rows(train, config, rng)
            if batch_rows.size == 0:
                continue
            losses.append(_training_step(model, text_encoder, train, batch_rows, optimizer, schedule, config))
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
            history.steps += 1
        history.train_loss.append(float(np.mean(losses)))
        history.validation_loss.append(evaluate_loss(model, text_encoder, validation, config))
        improved = history.best_epoch < 0 or history.validation_loss[-1] < history.validation_loss[history.best_epoch]
        save_checkpoint(model, checkpoint_dir, epoch, improved, config.keep_all_checkpoints)
        if improved:
            history.best_epoch, epochs_without_gain = epoch, 0
            history.best_checkpoint = checkpoint_path(checkpoint_dir, epoch).name
            best_state = {name: value.detach().clone() for name, value in model.state_dict().items()}
        else:
            epochs_without_gain += 1
            if epochs_without_gain >= config.patience:
                break
    model.load_state_dict(best_state)
    history.seconds = time.perf_counter() - started
    return history


def checkpoint_path(checkpoint_dir: Path, epoch: int) -> Path:
    """Where the weights after ``epoch`` (0-based) are saved: ``epoch-<epoch + 1>.pt``."""
    return checkpoint_dir / f"epoch-{epoch + 1}.pt"


def save_checkpoint(model: BertDemandModel, checkpoint_dir: Path, epoch: int, improved: bool, keep_all: bool) -> None:
    """Save the weights after ``epoch``: always when ``keep_all``, else only when the epoch ``improved`` on
    the best so far, removing the previous best's file once the new one is written."""
    if not (keep_all or improved):
        return
    path = checkpoint_path(checkpoint_dir, epoch)
    torch.save(model.state_dict(), path)
    if not keep_all:
        for stale in checkpoint_dir.glob("epoch-*.pt"):
            if stale != path:
                stale.unlink()


def _steps_per_epoch(data: DemandData, config: DemandTrainingConfig) -> int:
    products, customers = np.unique(data.product).size, np.unique(data.customer).size
    blocks = math.ceil(products / min(products, config.products_per_step)) * math.ceil(
        customers / min(customers, config.customer_texts_per_step))
    return min(blocks, config.max_steps_per_epoch)


def text_block_rows(data: DemandData, config: DemandTrainingConfig, rng: np.random.Generator) -> np.ndarray:
    """Rows of a random block of products x customer texts (see the module docstring)."""
    products, customers = np.unique(data.product), np.unique(data.customer)
    chosen_products = rng.choice(products, size=min(products.size, config.products_per_step), replace=False)
    chosen_customers = rng.choice(customers, size=min(customers.size, config.customer_texts_per_step), replace=False)
    rows = np.flatnonzero(np.isin(data.product, chosen_products) & np.isin(data.customer, chosen_customers))
    if rows.size > config.max_rows_per_step:
        rows = np.sort(rng.choice(rows, size=config.max_rows_per_step, replace=False))
    return rows


def _training_step(model: BertDemandModel, text_encoder: TextEncoder, data: DemandData, rows: np.ndarray,
                   optimizer, schedule, config: DemandTrainingConfig) -> float:
    device = text_encoder.device
    customer_texts, product_texts, batch = data.batch(rows, device)
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        index = model(tokenize(text_encoder, customer_texts), tokenize(text_encoder, product_texts), batch)
    loss = model.loss(index.float(), batch.outcome)
    value = require_finite_loss(loss, "the demand model")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
    optimizer.step()
    schedule.step()
    return value


def _optimizer_and_schedule(model: BertDemandModel, config: DemandTrainingConfig, total_steps: int):
    return optimizer_and_schedule(model, model.encoder, config.encoder_learning_rate, config.head_learning_rate,
                                  config.weight_decay, config.warmup_share, total_steps)
