"""The fine-tuning optimiser shared by the demand model and the pricing baseline."""

from __future__ import annotations

import math

import torch
from torch import nn

from pricegym.config_checks import integer, number
from pricegym.errors import PricegymError

# The ranges of the hyperparameters both fine-tuning configs share.
Epochs = integer(1, 1_000)
LearningRate = number(0.0, 1.0, low_open=True)
WeightDecay = number(0.0, 1.0)
WarmupShare = number(0.0, 1.0, high_open=True)
MaxGradNorm = number(0.0, 1e6, low_open=True)
Patience = integer(1, 1_000)


def optimizer_and_schedule(model: nn.Module, encoder: nn.Module, encoder_learning_rate: float,
                           head_learning_rate: float, weight_decay: float, warmup_share: float,
                           total_steps: int) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW with ``encoder``'s parameters and the rest of ``model`` at their own learning rates;
    linear warmup over ``warmup_share`` of the steps, then linear decay to zero."""
    encoder_parameters = list(encoder.parameters())
    encoder_ids = {id(parameter) for parameter in encoder_parameters}
    head_parameters = [parameter for parameter in model.parameters() if id(parameter) not in encoder_ids]
    optimizer = torch.optim.AdamW([
        {"params": encoder_parameters, "lr": encoder_learning_rate},
        {"params": head_parameters, "lr": head_learning_rate},
    ], weight_decay=weight_decay)
    warmup = max(1, int(warmup_share * total_steps))

    def learning_rate_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, learning_rate_factor)


def require_finite_loss(loss: torch.Tensor, what: str) -> float:
    """The batch loss as a float; a NaN or infinite loss stops fine-tuning at once with one clear error
    instead of training on until killed."""
    value = float(loss.detach())
    if not math.isfinite(value):
        raise PricegymError(f"fine-tuning {what} diverged: the batch loss is {value}; lower the learning rates "
                            "(--encoder-lr, or the config's head_learning_rate) or max_grad_norm, and run again")
    return value
