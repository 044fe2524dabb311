"""The BERT demand model: a text encoder fine-tuned end to end with a monotone price-response head.

Customers and products are read as text by one shared encoder (two towers: customer profile,
product title/description). A head maps the pair of pooled embeddings to

* ``a`` - the utility index at list price, and
* ``beta = softplus(...) + min_slope > 0`` - the price sensitivity,

and the utility index of one row is

    index = a + context_term - beta * (price / list_price - 1) + reference-price term

so demand falls in price and the revenue optimum is finite and interior *by construction*,
whatever the weights. The link is a sigmoid (exposure worlds: purchase probability, log-loss) or
an exponential (count worlds: Poisson rate). The reference-price effect is a documented, fixed
parameter (transactions rarely identify it); during fitting each customer's reference price is
taken to be the list price, as in a log where most exposures are a customer's first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from pricegym.encoders.demand_tables import ContextWeights
from pricegym.encoders.text_encoder import pool
from pricegym.worlds.demand import ReferencePriceEffect


@dataclass
class DemandRows:
    """A batch of rows as tensors: who, what, at which relative price, in which market, and the outcome."""

    customer: torch.Tensor  # index into the batch's customer texts
    product: torch.Tensor  # index into the batch's product texts
    relative_price: torch.Tensor  # price / list_price
    weekday: torch.Tensor
    season: torch.Tensor
    holiday: torch.Tensor
    competitor_gap: torch.Tensor  # competitor_price / list_price - 1, 0 where unknown
    outcome: torch.Tensor  # bought (0/1) or count


MIN_SLOPE = 0.05
"""The head's floor on the price slope ``beta``."""


class PriceResponseHead(nn.Module):
    """(customer embedding, product embedding) -> (a, beta > 0)."""

    def __init__(self, hidden_size: int, head_size: int = 128, min_slope: float = MIN_SLOPE,
                 initial_intercept: float = -1.5, initial_slope: float = 1.5) -> None:
        super().__init__()
        self.customer_norm = nn.LayerNorm(hidden_size)
        self.product_norm = nn.LayerNorm(hidden_size)
        self.mlp = nn.Sequential(nn.Linear(3 * hidden_size, head_size), nn.GELU(), nn.Linear(head_size, 2))
        self.min_slope = min_slope
        with torch.no_grad():  # start at a plausible conversion rate and price sensitivity
            self.mlp[-1].bias.copy_(torch.tensor([initial_intercept, _inverse_softplus(initial_slope - min_slope)]))

    def forward(self, customer_vectors: torch.Tensor,
                product_vectors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        customer, product = self.customer_norm(customer_vectors), self.product_norm(product_vectors)
        out = self.mlp(torch.cat([customer, product, customer * product], dim=-1))
        return out[..., 0], nn.functional.softplus(out[..., 1]) + self.min_slope


class ContextModule(nn.Module):
    """Additive utility of market conditions: weekday, season, holiday, competitor price gap."""

    def __init__(self) -> None:
        super().__init__()
        self.weekday = nn.Embedding(7, 1)
        self.season = nn.Embedding(4, 1)
        self.holiday = nn.Parameter(torch.zeros(()))
        self.competitor = nn.Parameter(torch.zeros(()))
        nn.init.zeros_(self.weekday.weight)
        nn.init.zeros_(self.season.weight)

    def forward(self, rows: DemandRows) -> torch.Tensor:
        return (self.weekday(rows.weekday).squeeze(-1) + self.season(rows.season).squeeze(-1)
                + self.holiday * rows.holiday + self.competitor * rows.competitor_gap)

    def as_weights(self) -> ContextWeights:
        """The numpy form used by the simulation-time tables."""
        return ContextWeights(
            weekday=self.weekday.weight.detach().cpu().double().numpy()[:, 0],
            season=self.season.weight.detach().cpu().double().numpy()[:, 0],
            holiday=float(self.holiday.detach()),
            competitor=float(self.competitor.detach()),
        )


class BertDemandModel(nn.Module):
    """Encoder + price-response head + context terms (see the module docstring)."""

    def __init__(self, encoder: nn.Module, pooling: str, reference_effect: ReferencePriceEffect,
                 response: str, head_size: int = 128, initial_intercept: float = -1.5) -> None:
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling
        self.reference_effect = reference_effect
        self.response = response
        self.head = PriceResponseHead(encoder.config.hidden_size, head_size, initial_intercept=initial_intercept)
        self.context = ContextModule()

    def embed(self, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        """Pooled text embeddings of a tokenised batch."""
        hidden = self.encoder(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"]).last_hidden_state
        return pool(hidden, tokens["attention_mask"], self.pooling)

    def utility_index(self, customer_vectors: torch.Tensor, product_vectors: torch.Tensor,
                      rows: DemandRows) -> torch.Tensor:
        """The index of every row, given the embeddings of the batch's distinct texts."""
        intercept, slope = self.head(customer_vectors[rows.customer], product_vectors[rows.product])
        return self.index_of(intercept, slope, rows)

    def index_of(self, intercept: torch.Tensor, slope: torch.Tensor, rows: DemandRows) -> torch.Tensor:
        """The index of every row, given the head's ``a`` and ``beta`` of every row."""
        relative = rows.relative_price
        effect = self.reference_effect  # reference price = list price: gap = 1 - relative price
        reference_term = effect.gain * torch.clamp(1.0 - relative, min=0.0) - effect.loss * torch.clamp(
            relative - 1.0, min=0.0)
        return intercept + self.context(rows) - slope * (relative - 1.0) + reference_term

    def forward(self, customer_tokens: dict[str, torch.Tensor], product_tokens: dict[str, torch.Tensor],
                rows: DemandRows) -> torch.Tensor:
        return self.utility_index(self.embed(customer_tokens), self.embed(product_tokens), rows)

    def loss(self, index: torch.Tensor, outcome: torch.Tensor) -> torch.Tensor:
        """Log-loss (exposures) or Poisson deviance up to a constant (counts)."""
        if self.response == "purchase_probability":
            return nn.functional.binary_cross_entropy_with_logits(index, outcome)
        return nn.functional.poisson_nll_loss(index, outcome, log_input=True)


def _inverse_softplus(value: float) -> float:
    return float(np.log(np.expm1(value)))
