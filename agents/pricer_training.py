"""Fine-tuning loop of the pricing regressor: AdamW, warmup then linear decay, clipping, early stopping.

Many rows share one input text, so the regressor is fine-tuned on **distinct texts**: each text's
target is the mean ``log(price / list_price)`` of its rows and its loss weight the number of rows
(a weighted mean squared error, so the fit matches a row-level least-squares fit). Targets are
standardised for training; :func:`~pricegym.agents.pricer_model.fold_standardisation` folds the
scale back into the head afterwards. After each epoch the validation RMSE (log ratio, row-weighted)
is measured, and training stops once it has not improved for ``patience`` epochs; the best
epoch's weights are restored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from pricegym.agents.pricer_model import fold_standardisation, predict_log_ratios, regression_output, tokenize
from pricegym.config_checks import config_dataclass, integer
from pricegym.encoders.optimization import (
    Epochs,
    LearningRate,
    MaxGradNorm,
    Patience,
    WarmupShare,
    WeightDecay,
    require_finite_loss,
)
from pricegym.encoders.optimization import optimizer_and_schedule as shared_optimizer_and_schedule


@config_dataclass("pricer training")
class PricerTrainingConfig:
    """Hyperparameters of fine-tuning (defaults sized so a synthetic fit takes minutes on 2 cores).

    Attributes:
        epochs: passes over the training texts (early stopping may end sooner).
        batch_size: texts per optimiser step.
        max_train_texts: distinct training texts fine-tuned on (a random subsample beyond it).
        max_validation_texts: distinct validation texts for early stopping (likewise).
        encoder_learning_rate, head_learning_rate: AdamW learning rates of the encoder and of the head.
        weight_decay, warmup_share, max_grad_norm, patience: the usual.
    """

    epochs: Epochs = 3
    batch_size: integer(1, 65_536) = 32
    max_train_texts: integer(1, 10_000_000) = 1_200
    max_validation_texts: integer(1, 10_000_000) = 400
    encoder_learning_rate: LearningRate = 8e-5
    head_learning_rate: LearningRate = 2e-3
    weight_decay: WeightDecay = 0.01
    warmup_share: WarmupShare = 0.1
    max_grad_norm: MaxGradNorm = 1.0
    patience: Patience = 1


@dataclass(frozen=True)
class TextTargets:
    """Distinct texts with their mean target and loss weight (row count)."""

    texts: list[str]
    targets: np.ndarray
    weights: np.ndarray


@dataclass
class PricerHistory:
    """Losses per epoch, the epoch kept, and the speed of fine-tuning."""

    train_loss: list[float] = field(default_factory=list)
    validation_rmse: list[float] = field(default_factory=list)
    best_epoch: int = -1
    steps: int = 0
    samples: int = 0
    seconds: float = 0.0

    @property
    def samples_per_s(self) -> float:
        return self.samples / max(self.seconds, 1e-9)


def train_pricer(model: nn.Module, tokenizer: Any, train: TextTargets, validation: TextTargets,
                 config: PricerTrainingConfig, max_length: int, device: torch.device, seed: int = 0,
                 progress: bool = True) -> PricerHistory:
    """Fine-tune ``model`` in place on ``train``; afterwards it outputs the (unstandardised) target."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    model.to(device)
    mean = float(np.average(train.targets, weights=train.weights))
    scale = float(np.sqrt(np.average((train.targets - mean) ** 2, weights=train.weights))) or 1.0
    standardised = (train.targets - mean) / scale
    steps_per_epoch = -(-len(train.texts) // config.batch_size)
    optimizer, schedule = optimizer_and_schedule(model, config, steps_per_epoch * config.epochs)
    history, best_state, epochs_without_gain = PricerHistory(), None, 0
    for epoch in range(config.epochs):
        model.train()
        losses = []
        order = rng.permutation(len(train.texts))
        bar = tqdm(range(steps_per_epoch), desc=f"fine-tune pricer {epoch + 1}/{config.epochs}", disable=not progress)
        for step in bar:
            chosen = order[step * config.batch_size:(step + 1) * config.batch_size]
            started = time.perf_counter()
            losses.append(training_step(model, tokenizer, [train.texts[i] for i in chosen], standardised[chosen],
                                        train.weights[chosen], optimizer, schedule, config, max_length, device))
            history.seconds += time.perf_counter() - started
            history.steps, history.samples = history.steps + 1, history.samples + chosen.size
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
        history.train_loss.append(float(np.mean(losses)))
        predicted = predict_log_ratios(model, tokenizer, validation.texts, max_length, device) * scale + mean
        history.validation_rmse.append(weighted_rmse(predicted, validation.targets, validation.weights))
        if history.best_epoch < 0 or history.validation_rmse[-1] < history.validation_rmse[history.best_epoch]:
            history.best_epoch, epochs_without_gain = epoch, 0
            best_state = {name: value.detach().clone() for name, value in model.state_dict().items()}
        else:
            epochs_without_gain += 1
            if epochs_without_gain >= config.patience:
                break
    model.load_state_dict(best_state)
    fold_standardisation(model, mean, scale)
    return history


def training_step(model: nn.Module, tokenizer: Any, texts: list[str], targets: np.ndarray, weights: np.ndarray,
                  optimizer: torch.optim.Optimizer, schedule: Any, config: PricerTrainingConfig, max_length: int,
                  device: torch.device) -> float:
    """One optimiser step on a batch of texts; returns the weighted squared error (standardised units)."""
    tokens = tokenize(tokenizer, texts, max_length, device)
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        output = regression_output(model, tokens)
    target = torch.as_tensor(targets, dtype=torch.float32, device=device)
    weight = torch.as_tensor(weights, dtype=torch.float32, device=device)
    loss = (weight * (output.float() - target).square()).sum() / weight.sum()
    value = require_finite_loss(loss, "the pricing regressor")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
    optimizer.step()
    schedule.step()
    return value


def optimizer_and_schedule(model: nn.Module, config: PricerTrainingConfig, total_steps: int):
    """AdamW with the encoder and the head at their own learning rates; linear warmup, then linear decay."""
    return shared_optimizer_and_schedule(model, model.base_model, config.encoder_learning_rate,
                                         config.head_learning_rate, config.weight_decay, config.warmup_share,
                                         total_steps)


def weighted_rmse(predicted: np.ndarray, target: np.ndarray, weights: np.ndarray) -> float:
    """Root of the weighted mean squared error."""
    return float(np.sqrt(np.average((predicted - target) ** 2, weights=weights)))
