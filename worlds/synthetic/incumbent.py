"""The incumbent pricing policy: the "business as usual" behind the logged prices.

The seller prices by segment x category cost-plus with noise::

    price = unit_cost * markup[segment, category] * exp(normal(0, incumbent_price_noise))

rounded to cents, where ``markup = 2.0 * attitude_factor[segment] * category_factor[category]``:
price-sensitive segments get 0.9, value-seeking 1.0, quality-focused 1.12 (targeted coupons and
premium bundles), and each category a factor drawn in [0.9, 1.15]. The supervised pricing
baseline learns to imitate exactly this rule (the rows whose ``price_source`` is
``"incumbent"``); randomised exploration prices are logged beside it so that price response is
identifiable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pricegym.worlds.synthetic.catalogue import CATEGORIES

BASE_MARKUP = 2.0
ATTITUDE_MARKUP_FACTOR = np.array([0.9, 1.0, 1.12])  # by PRICE_ATTITUDES order


@dataclass(frozen=True)
class IncumbentPricingPolicy:
    """Segment x category cost-plus pricing with multiplicative log-normal noise."""

    markup: np.ndarray  # [segment, category]
    price_noise: float

    @classmethod
    def draw(cls, segments: pd.DataFrame, price_noise: float, rng: np.random.Generator) -> IncumbentPricingPolicy:
        """The markups for a population's segments, with category factors drawn from ``rng``."""
        attitude_factor = ATTITUDE_MARKUP_FACTOR[segments["attitude_index"].to_numpy()]
        category_factor = rng.uniform(0.9, 1.15, len(CATEGORIES))
        return cls(markup=BASE_MARKUP * attitude_factor[:, None] * category_factor[None, :], price_noise=price_noise)

    def mean_price(self, segment: np.ndarray, category: np.ndarray, unit_cost: np.ndarray) -> np.ndarray:
        """The noise-free cost-plus price."""
        return unit_cost * self.markup[segment, category]

    def prices(
        self, segment: np.ndarray, category: np.ndarray, unit_cost: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Logged prices: the cost-plus price with log-normal noise, rounded to cents."""
        noise = rng.normal(0.0, self.price_noise, np.shape(unit_cost))
        return np.maximum(np.round(self.mean_price(segment, category, unit_cost) * np.exp(noise), 2), 0.01)
