"""The synthetic world's true purchase model, a logit that is known exactly.

For customer ``i`` of segment ``s``, product ``j`` of category ``k`` and a market context, the
purchase probability of one exposure at price ``p`` with reference price ``r`` is
``sigmoid(u)`` where

    u = base_utility[s, k] + quality_weight[s] * quality[j] + brand_effect[j] + product_appeal[j]
        + taste[i]                                                        (who and what)
        + weekday_effect[weekday] + season_effect[season, k] + holiday_effect * holiday
        + competitor_weight[s] * (competitor_price / list_price[j] - 1)   (market)
        - price_sensitivity[s, k] * (p / list_price[j] - 1)                (price)
        + gain * max(r - p, 0) / list_price[j] - loss * max(p - r, 0) / list_price[j]   (memory)

* ``price_sensitivity > 0`` (segment x category): demand falls in price, and revenue
  ``p * sigmoid(u)`` is log-concave, so its maximum is finite and interior for everyone.
* ``product_appeal`` and ``taste`` are noise that no text reveals.
* The reference price moves as ``r <- theta * r + (1 - theta) * p`` after each price seen
  (:class:`~pricegym.worlds.demand.ReferencePriceEffect`; theta, gain and loss are in the config).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pricegym.worlds.demand import LinearPriceDemand, MarketContext, ReferencePriceEffect
from pricegym.worlds.synthetic.catalogue import CATEGORIES
from pricegym.worlds.synthetic.population import PRICE_ATTITUDES

WEEKDAY_EFFECT = np.array([0.0, 0.0, 0.0, 0.0, 0.05, 0.2, 0.15])
"""Utility by weekday, Monday first: shoppers buy more at the weekend."""

HOLIDAY_EFFECT = 0.3

SEASON_EFFECT_BY_CATEGORY: dict[str, tuple[float, float, float, float]] = {
    # winter, spring, summer, autumn
    "toys": (0.4, -0.1, -0.1, 0.1),
    "garden": (-0.4, 0.4, 0.3, -0.1),
    "apparel": (0.1, 0.0, -0.1, 0.2),
    "home decor": (0.2, 0.0, -0.1, 0.1),
    "personal care": (0.1, 0.0, 0.1, 0.0),
}


@dataclass(frozen=True)
class GroundTruthParameters:
    """Every coefficient of the true purchase model (see the module docstring)."""

    base_utility: np.ndarray  # [segment, category]
    price_sensitivity: np.ndarray  # [segment, category], > 0
    quality_weight: np.ndarray  # [segment]
    competitor_weight: np.ndarray  # [segment]
    brand_effect: np.ndarray  # [product], shared by products of one brand
    product_appeal: np.ndarray  # [product]
    weekday_effect: np.ndarray  # [7]
    season_effect: np.ndarray  # [season, category]
    holiday_effect: float


def draw_ground_truth(
    segments: pd.DataFrame, products: pd.DataFrame, rng: np.random.Generator
) -> GroundTruthParameters:
    """Draw the true coefficients for a population's segments and a catalogue."""
    n_segments, n_categories = len(segments), len(CATEGORIES)
    attitude = segments["attitude_index"].to_numpy()
    typical_sensitivity = np.array([a.price_sensitivity for a in PRICE_ATTITUDES])[attitude]
    typical_sensitivity = typical_sensitivity * segments["sensitivity_multiplier"].to_numpy()
    is_favourite = segments["favourite_category_index"].to_numpy()[:, None] == np.arange(n_categories)[None, :]
    brands = products["brand"].to_numpy()
    brand_names = np.unique(brands)
    effect_by_brand = dict(zip(brand_names, rng.normal(0.0, 0.25, brand_names.size), strict=True))
    return GroundTruthParameters(
        base_utility=-2.3 + 0.9 * is_favourite + rng.normal(0.0, 0.3, (n_segments, n_categories)),
        price_sensitivity=typical_sensitivity[:, None] * rng.lognormal(0.0, 0.15, (n_segments, n_categories)),
        quality_weight=np.array([a.quality_weight for a in PRICE_ATTITUDES])[attitude],
        competitor_weight=np.array([a.competitor_weight for a in PRICE_ATTITUDES])[attitude],
        brand_effect=np.array([effect_by_brand[brand] for brand in brands]),
        product_appeal=rng.normal(0.0, 0.3, len(products)),
        weekday_effect=WEEKDAY_EFFECT.copy(),
        season_effect=_season_table(),
        holiday_effect=HOLIDAY_EFFECT,
    )


def _season_table() -> np.ndarray:
    table = np.zeros((4, len(CATEGORIES)))
    for column, category in enumerate(CATEGORIES):
        table[:, column] = SEASON_EFFECT_BY_CATEGORY.get(category.name, (0.0, 0.0, 0.0, 0.0))
    return table


class GroundTruthDemand(LinearPriceDemand):
    """The true purchase probability of the synthetic world, through the demand interface.

    ``customers`` index the world's customer table and ``products`` its catalogue.
    """

    def __init__(
        self,
        parameters: GroundTruthParameters,
        customers: pd.DataFrame,
        products: pd.DataFrame,
        reference_effect: ReferencePriceEffect,
    ) -> None:
        super().__init__(products["list_price"].to_numpy(float), reference_effect, "purchase_probability")
        self.parameters = parameters
        self.customer_segment = customers["segment_index"].to_numpy()
        self.customer_taste = customers["taste"].to_numpy(float)
        self.product_category = products["category_index"].to_numpy()
        self.product_quality = products["quality"].to_numpy(float)

    def intercept_and_slope(
        self, customers: np.ndarray, products: np.ndarray, context: MarketContext | None
    ) -> tuple[np.ndarray, np.ndarray]:
        truth = self.parameters
        segment = self.customer_segment[customers]
        category = self.product_category[products]
        intercept = (
            truth.base_utility[segment, category]
            + truth.quality_weight[segment] * self.product_quality[products]
            + truth.brand_effect[products]
            + truth.product_appeal[products]
            + self.customer_taste[customers]
        )
        if context is not None:
            intercept = intercept + self._market_term(segment, products, category, context)
        return intercept, truth.price_sensitivity[segment, category]

    def _market_term(self, segment, products, category, context: MarketContext) -> np.ndarray:
        truth = self.parameters
        competitor_gap = np.nan_to_num(np.asarray(context.competitor_price) / self.list_prices[products] - 1.0)
        return (
            truth.weekday_effect[np.asarray(context.weekday)]
            + truth.season_effect[np.asarray(context.season), category]
            + truth.holiday_effect * np.asarray(context.holiday, dtype=float)
            + truth.competitor_weight[segment] * competitor_gap
        )
