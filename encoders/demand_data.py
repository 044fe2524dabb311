"""Training rows for the demand model: distinct texts once, rows as integer indices and scalars."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
import torch

from pricegym.encoders.demand_model import DemandRows
from pricegym.errors import DataError
from pricegym.worlds.schema import SEASONS


@dataclass(frozen=True)
class DemandData:
    """Rows of a world as arrays; every text appears once in ``customer_texts`` / ``product_texts``."""

    customer_texts: tuple[str, ...]
    product_texts: tuple[str, ...]
    customer: np.ndarray  # index into customer_texts
    product: np.ndarray  # index into product_texts
    relative_price: np.ndarray
    weekday: np.ndarray
    season: np.ndarray
    holiday: np.ndarray
    competitor_gap: np.ndarray
    outcome: np.ndarray

    @classmethod
    def from_transactions(cls, frame: pd.DataFrame, outcome: np.ndarray, customer_texts: tuple[str, ...],
                          product_ids: tuple[str, ...], product_texts: tuple[str, ...],
                          source: str = "transactions") -> DemandData:
        """Rows of a schema-valid frame.

        Customers are indexed by their text (customers with one profile share a row), products by
        their position in ``product_ids`` (two products may share a text).
        """
        prices, list_prices = frame["price"].to_numpy(float), frame["list_price"].to_numpy(float)
        if not np.all(np.isfinite(prices) & (prices > 0)):
            raise DataError(source, "prices must be finite and positive to fit a demand model; found NaN or <= 0")
        competitor = frame["competitor_price"].to_numpy(float)
        return cls(
            customer_texts=customer_texts,
            product_texts=product_texts,
            customer=_positions(frame["customer_text"], customer_texts),
            product=_positions(frame["product_id"], product_ids),
            relative_price=prices / list_prices,
            weekday=frame["weekday"].to_numpy(np.int64),
            season=pd.Index(SEASONS).get_indexer(frame["season"]).astype(np.int64),
            holiday=frame["holiday"].to_numpy(float),
            competitor_gap=np.nan_to_num(competitor / list_prices - 1.0),
            outcome=np.asarray(outcome, dtype=float),
        )

    def __len__(self) -> int:
        return self.outcome.size

    def take(self, rows: np.ndarray) -> DemandData:
        """The rows at ``rows`` (texts unchanged)."""
        arrays = {f.name: getattr(self, f.name)[rows] for f in fields(self) if f.name not in _TEXT_FIELDS}
        return DemandData(customer_texts=self.customer_texts, product_texts=self.product_texts, **arrays)

    def batch(self, rows: np.ndarray, device: torch.device) -> tuple[list[str], list[str], DemandRows]:
        """The distinct texts of ``rows`` and the rows as tensors that index them."""
        customers, customer_index = np.unique(self.customer[rows], return_inverse=True)
        products, product_index = np.unique(self.product[rows], return_inverse=True)
        batch_rows = self.tensors(rows, device, customer_index, product_index)
        return ([self.customer_texts[i] for i in customers], [self.product_texts[i] for i in products], batch_rows)

    def tensors(self, rows: np.ndarray, device: torch.device, customer: np.ndarray | None = None,
                product: np.ndarray | None = None) -> DemandRows:
        """The rows at ``rows`` as tensors; ``customer`` / ``product`` index the full text tables unless other
        indices are given."""

        def tensor(values: np.ndarray, dtype: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.as_tensor(values, dtype=dtype, device=device)

        return DemandRows(
            customer=tensor(self.customer[rows] if customer is None else customer, torch.long),
            product=tensor(self.product[rows] if product is None else product, torch.long),
            relative_price=tensor(self.relative_price[rows]), weekday=tensor(self.weekday[rows], torch.long),
            season=tensor(self.season[rows], torch.long), holiday=tensor(self.holiday[rows]),
            competitor_gap=tensor(self.competitor_gap[rows]), outcome=tensor(self.outcome[rows]),
        )


_TEXT_FIELDS = ("customer_texts", "product_texts")


def _positions(values: pd.Series, known: tuple[str, ...]) -> np.ndarray:
    positions = pd.Index(known).get_indexer(values)
    if np.any(positions < 0):
        missing = values[positions < 0].iloc[0]
        raise DataError("transactions", f"{missing!r} is not among the world's customers or products")
    return positions.astype(np.int64)
