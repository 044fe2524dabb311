"""The simulation-time form of a fitted demand model: scalar tables, no language model.

After fitting, everything that depends on text is reduced once to two tables over customers (or
customer types / segments) x products:

* ``intercept[c, j]`` - the utility index at list price in a neutral market;
* ``slope[c, j] > 0`` - the price sensitivity per unit of ``price / list_price``;

and the market context enters as additive terms (:class:`ContextWeights`). A simulated decision
then costs two gathers and a few scalar operations, through the same demand interface as the
ground truth (:class:`~pricegym.worlds.demand.LinearPriceDemand`). Each product's observed price
range and the uncertainty of its slope (from a bootstrap of the price-response head) travel with
the tables.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pricegym import __version__
from pricegym.encoders.demand_run_checks import (
    EMBEDDINGS_FILE,
    TABLES_CARD,
    TABLES_FILE,
    TABLES_FORMAT_VERSION,
    read_demand_run,
    reference_effect,
)
from pricegym.worlds.demand import LinearPriceDemand, MarketContext, ReferencePriceEffect, Response

__all__ = ["EMBEDDINGS_FILE", "TABLES_CARD", "TABLES_FILE", "ContextWeights", "DemandTables"]


@dataclass(frozen=True)
class ContextWeights:
    """Additive utility of market conditions, shared by every customer and product."""

    weekday: np.ndarray  # [7], Monday first
    season: np.ndarray  # [4], SEASONS order
    holiday: float
    competitor: float  # per unit of (competitor_price / list_price - 1); NaN competitor price -> 0

    @classmethod
    def zero(cls) -> ContextWeights:
        return cls(np.zeros(7), np.zeros(4), 0.0, 0.0)

    def term(self, context: MarketContext, list_price: np.ndarray) -> np.ndarray:
        """The additive utility of ``context`` for products with ``list_price``."""
        competitor_gap = np.nan_to_num(np.asarray(context.competitor_price, dtype=float) / list_price - 1.0)
        return (
            self.weekday[np.asarray(context.weekday)]
            + self.season[np.asarray(context.season)]
            + self.holiday * np.asarray(context.holiday, dtype=float)
            + self.competitor * competitor_gap
        )


class DemandTables(LinearPriceDemand):
    """A fitted demand model in simulation-time form (see the module docstring).

    Args:
        intercept, slope: ``[n_customers, n_products]`` tables; ``slope`` must be positive.
        list_prices: ``[n_products]``.
        context_weights: additive market terms.
        reference_effect: the documented reference-price parameters, applied as in the ground truth.
        response: ``"purchase_probability"`` (exposure worlds) or ``"expected_quantity"`` (count worlds).
        price_ranges: ``[n_products, 2]`` lowest and highest price observed in training (NaN if unseen).
        slope_std: ``[n_customers, n_products]`` bootstrap standard deviation of ``slope`` (optional).
        customer_ids, product_ids: what the table rows and columns are.
        world: the name of the world the tables were fitted on (None: unknown).
    """

    def __init__(
        self,
        intercept: np.ndarray,
        slope: np.ndarray,
        list_prices: np.ndarray,
        context_weights: ContextWeights,
        reference_effect: ReferencePriceEffect,
        response: Response,
        price_ranges: np.ndarray | None = None,
        slope_std: np.ndarray | None = None,
        customer_ids: tuple[str, ...] = (),
        product_ids: tuple[str, ...] = (),
        world: str | None = None,
    ) -> None:
        super().__init__(list_prices, reference_effect, response)
        self.intercept = np.ascontiguousarray(intercept, dtype=np.float64)
        self.slope = np.ascontiguousarray(slope, dtype=np.float64)
        if self.intercept.shape != self.slope.shape or self.intercept.shape[1] != self.list_prices.size:
            raise ValueError(
                f"intercept {self.intercept.shape}, slope {self.slope.shape} and list prices "
                f"{self.list_prices.shape} disagree; expected [customers, products] tables and [products] prices"
            )
        if not np.all(self.slope > 0):
            raise ValueError("every price slope must be positive, so that demand falls in price")
        self.context_weights = context_weights
        n_products = self.list_prices.size
        self.price_ranges = np.full((n_products, 2), np.nan) if price_ranges is None else np.asarray(price_ranges)
        self.slope_std = np.zeros_like(self.slope) if slope_std is None else np.asarray(slope_std, dtype=float)
        self.customer_ids = tuple(customer_ids)
        self.product_ids = tuple(product_ids)
        self.world = world

    def intercept_and_slope(
        self, customers: np.ndarray, products: np.ndarray, context: MarketContext | None
    ) -> tuple[np.ndarray, np.ndarray]:
        intercept = self.intercept[customers, products]
        if context is not None:
            intercept = intercept + self.context_weights.term(context, self.list_prices[products])
        return intercept, self.slope[customers, products]

    # -- persistence -------------------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write the tables (``.npz``) and their description (``.json``) into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        weights = self.context_weights
        np.savez(
            directory / TABLES_FILE,
            intercept=self.intercept, slope=self.slope, slope_std=self.slope_std, list_prices=self.list_prices,
            price_ranges=self.price_ranges, weekday=weights.weekday, season=weights.season,
        )
        card = {
            "format_version": TABLES_FORMAT_VERSION,
            "pricegym_version": __version__,
            "world": self.world,
            "response": self.response,
            "reference_effect": asdict(self.reference_effect),
            "holiday": weights.holiday,
            "competitor": weights.competitor,
            "customer_ids": list(self.customer_ids),
            "product_ids": list(self.product_ids),
        }
        (directory / TABLES_CARD).write_text(json.dumps(card, indent=1))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> DemandTables:
        """Read tables written by :meth:`save`, after checking the whole run folder (embeddings and model
        card included, when present); a corrupt folder raises :class:`~pricegym.errors.DataError`
        (see :mod:`~pricegym.encoders.demand_run_checks`)."""
        run = read_demand_run(directory)
        arrays, card = run.arrays, run.card
        return cls(
            intercept=arrays["intercept"], slope=arrays["slope"], list_prices=arrays["list_prices"],
            context_weights=ContextWeights(arrays["weekday"], arrays["season"], float(card["holiday"]),
                                           float(card["competitor"])),
            reference_effect=reference_effect(card["reference_effect"]),
            response=card["response"], price_ranges=arrays["price_ranges"], slope_std=arrays["slope_std"],
            customer_ids=tuple(card["customer_ids"]), product_ids=tuple(card["product_ids"]), world=card.get("world"),
        )
