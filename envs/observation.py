"""The flat, bounded observations of the pricing environments, and where each part sits in them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gymnasium import spaces

MARKET_FEATURES = 7 + 4 + 1  # weekday one-hot, season one-hot, holiday
SCALE_CAP = 10.0


Part = tuple[str, int, float, float]
"""(name, size, lowest value, highest value) of one part of an observation vector."""


@dataclass(frozen=True)
class FeatureLayout:
    """A flat bounded observation made of named parts laid end to end."""

    parts: tuple[Part, ...]

    def slices(self) -> dict[str, slice]:
        start, result = 0, {}
        for name, size, _, _ in self.parts:
            result[name] = slice(start, start + size)
            start += size
        return result

    def space(self) -> spaces.Box:
        low = np.concatenate([np.full(size, lo, np.float32) for _, size, lo, _ in self.parts])
        high = np.concatenate([np.full(size, hi, np.float32) for _, size, _, hi in self.parts])
        return spaces.Box(low, high, dtype=np.float32)


@dataclass(frozen=True)
class ObservationLayout:
    """Slices of the observation vector for K products and d embedding dimensions.

    Parts, in order: product embeddings (K x d), inventory left / initial inventory (K), time
    left / horizon (1), current price's position in its range (K), list price / catalogue median
    (K), last period's sales / arrival rate (K), next period's market (weekday, season, holiday:
    12), competitor price / list price - 1, clipped to [-1, 1] (K).
    """

    n_products: int
    embedding_dim: int

    def _sizes(self) -> list[tuple[str, int, float, float]]:
        k = self.n_products
        return [
            ("embeddings", k * self.embedding_dim, -5.0, 5.0),
            ("inventory_left", k, 0.0, 1.0),
            ("time_left", 1, 0.0, 1.0),
            ("price_position", k, 0.0, 1.0),
            ("list_price", k, 0.0, SCALE_CAP),
            ("recent_sales", k, 0.0, SCALE_CAP),
            ("market", MARKET_FEATURES, 0.0, 1.0),
            ("competitor_gap", k, -1.0, 1.0),
        ]

    def slices(self) -> dict[str, slice]:
        return FeatureLayout(tuple(self._sizes())).slices()

    def space(self) -> spaces.Box:
        return FeatureLayout(tuple(self._sizes())).space()


def market_features(weekday: int, season: int, holiday: bool) -> np.ndarray:
    features = np.zeros(MARKET_FEATURES, dtype=np.float32)
    features[weekday] = 1.0
    features[7 + season] = 1.0
    features[11] = float(holiday)
    return features
