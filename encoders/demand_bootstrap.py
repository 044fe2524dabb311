"""Uncertainty of the fitted price slopes: a bootstrap of the price-response head.

With the fine-tuned encoder frozen (its embeddings computed once), the head and the context terms
are refitted from the fitted values on ``rounds`` resamples of the training rows; the standard
deviation of the slope table across rounds is exported beside the tables. It says how far an
agent can trust the model's price response for each customer x product.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from pricegym.encoders.demand_data import DemandData
from pricegym.encoders.demand_model import BertDemandModel
from pricegym.encoders.demand_reduction import head_tables


def head_only_copy(model: BertDemandModel) -> BertDemandModel:
    """A copy of ``model`` without its encoder (head and context terms only)."""
    encoder = model.encoder
    model.encoder = None
    try:
        return copy.deepcopy(model)
    finally:
        model.encoder = encoder


def bootstrap_slope_std(model: BertDemandModel, customer_vectors: torch.Tensor, product_vectors: torch.Tensor,
                        train: DemandData, rounds: int = 8, steps: int = 60, rows_per_step: int = 4096,
                        learning_rate: float = 1e-3, seed: int = 0, anchor_slope: np.ndarray | None = None,
                        anchor_weight: np.ndarray | None = None, anchor_strength: float = 0.0) -> np.ndarray:
    """Standard deviation of ``slope[customer text, product]`` over bootstrap refits of the head.

    With anchors (per training row, as :func:`~pricegym.encoders.head_refit.refit_head` takes them) each refit
    minimises the same anchored objective as the fit, so the spread is that of the anchored slopes.
    """
    if rounds < 2:
        return np.zeros((customer_vectors.shape[0], product_vectors.shape[0]))
    rng = np.random.default_rng(seed)
    device = customer_vectors.device
    slopes = []
    for _ in range(rounds):
        resample = rng.integers(len(train), size=len(train))
        refit = head_only_copy(model).to(device).train()
        optimizer = torch.optim.Adam(refit.parameters(), lr=learning_rate)
        for _ in range(steps):
            rows = resample[rng.integers(resample.size, size=min(rows_per_step, resample.size))]
            _, _, batch = train.batch(rows, device)
            customer_rows = customer_vectors[np.unique(train.customer[rows])]
            product_rows = product_vectors[np.unique(train.product[rows])]
            intercept, slope = refit.head(customer_rows[batch.customer], product_rows[batch.product])
            loss = refit.loss(refit.index_of(intercept, slope, batch), batch.outcome)
            if anchor_slope is not None:
                target = torch.as_tensor(anchor_slope[rows], dtype=slope.dtype, device=device)
                weight = torch.as_tensor(anchor_weight[rows], dtype=slope.dtype, device=device)
                loss = loss + anchor_strength * torch.mean(weight * (slope - target) ** 2)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        slopes.append(head_tables(refit, customer_vectors, product_vectors)[1])
    return np.std(np.stack(slopes), axis=0)
