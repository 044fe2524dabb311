"""Action spaces that cannot fail silently: a box mapped to price ranges, or a price ladder.

* ``box``: ``Box(-1, 1, (K,))``; action ``a`` maps affinely to ``low + (a + 1) / 2 * (high - low)``
  within each product's price range.
* ``ladder``: ``Discrete(L)`` for one product, ``MultiDiscrete([L] * K)`` otherwise; rung ``i``
  is the i-th of L evenly spaced prices over the range.

NaN, infinite, wrongly shaped or out-of-space actions raise a :class:`ValueError` that says what was
expected (float32 and float64 are both accepted).
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

BOUND_TOLERANCE = 1e-6


class PriceActions:
    """Maps actions to prices for one episode's products, and prices back to actions."""

    def __init__(self, kind: str, n_products: int, ladder_size: int, env_name: str = "Markdown-v0") -> None:
        self.kind = kind
        self.env_name = env_name
        self.n_products = n_products
        self.ladder_size = ladder_size
        if kind == "box":
            self.space: spaces.Space = spaces.Box(-1.0, 1.0, shape=(n_products,), dtype=np.float32)
        elif n_products == 1:
            self.space = spaces.Discrete(ladder_size)
        else:
            self.space = spaces.MultiDiscrete(np.full(n_products, ladder_size))
        self.low = np.zeros(n_products)
        self.high = np.ones(n_products)

    def set_ranges(self, low: np.ndarray, high: np.ndarray) -> None:
        """The price ranges of the episode's products."""
        self.low, self.high = np.asarray(low, float), np.asarray(high, float)
        self._half_span = 0.5 * (self.high - self.low)
        self._rung_step = (self.high - self.low) / (self.ladder_size - 1)
        tolerance = 1e-6 * np.maximum(self.high - self.low, 1e-12)
        self._near_low, self._near_high = self.low + tolerance, self.high - tolerance
        # plain-Python copies for the per-step fast path (numpy calls cost microseconds each)
        self._low_list, self._half_span_list = self.low.tolist(), self._half_span.tolist()
        self._rung_step_list = self._rung_step.tolist()
        self._near_low_list, self._near_high_list = self._near_low.tolist(), self._near_high.tolist()

    def ladder(self) -> np.ndarray:
        """``[K, L]`` the prices of every rung."""
        shares = np.linspace(0.0, 1.0, self.ladder_size)
        return self.low[:, None] + shares[None, :] * (self.high - self.low)[:, None]

    def to_prices(self, action) -> np.ndarray:
        """Prices for ``action``; raises ValueError for an action outside the space."""
        if self.kind == "box":
            values = np.asarray(action, dtype=np.float64).reshape(-1)
            if values.shape[0] != self.n_products:
                raise ValueError(f"{self.env_name} expects an action of shape ({self.n_products},) in [-1, 1]; "
                                 f"got {action!r}")
            lowest, highest = values.min(), values.max()
            if not (-1.0 - BOUND_TOLERANCE <= lowest and highest <= 1.0 + BOUND_TOLERANCE):  # NaN fails too
                raise ValueError(f"{self.env_name} actions must be finite and lie in [-1, 1] (clip or squash them); "
                                 f"got {action!r}")
            if lowest < -1.0 or highest > 1.0:
                values = np.clip(values, -1.0, 1.0)
            return self.low + (values + 1.0) * self._half_span
        rungs = np.asarray(action).reshape(-1)
        if rungs.size != self.n_products or not np.issubdtype(rungs.dtype, np.integer) and not np.all(
                np.mod(rungs, 1) == 0):
            raise ValueError(f"{self.env_name} expects {self.n_products} integer ladder rung(s) in "
                             f"0..{self.ladder_size - 1}; got {action!r}")
        rungs = rungs.astype(np.int64)
        if np.any((rungs < 0) | (rungs >= self.ladder_size)):
            raise ValueError(f"{self.env_name} ladder rungs must lie in 0..{self.ladder_size - 1}; got {action!r}")
        return self.low + rungs * self._rung_step

    def to_price_list(self, action) -> list[float]:
        """:meth:`to_prices` as a list of floats, without numpy on the way (the environments' hot path)."""
        values = action.tolist() if isinstance(action, np.ndarray) else action
        if isinstance(values, int | float | np.integer | np.floating):
            values = [values]
        if not isinstance(values, list) or len(values) != self.n_products:
            return self.to_prices(action).tolist()  # raises with the full message
        if self.kind == "box":
            prices = []
            for value, low, half_span in zip(values, self._low_list, self._half_span_list, strict=True):
                if not -1.0 - BOUND_TOLERANCE <= value <= 1.0 + BOUND_TOLERANCE:  # NaN fails too
                    return self.to_prices(action).tolist()  # raises with the full message
                prices.append(low + (min(max(value, -1.0), 1.0) + 1.0) * half_span)
            return prices
        prices = []
        for rung, low, step in zip(values, self._low_list, self._rung_step_list, strict=True):
            if not (isinstance(rung, int) or float(rung).is_integer()) or not 0 <= rung < self.ladder_size:
                return self.to_prices(action).tolist()  # raises with the full message
            prices.append(low + int(rung) * step)
        return prices

    def at_bound_list(self, prices: list[float]) -> list[bool]:
        """:meth:`at_bound` for a list of prices."""
        return [price <= near_low or price >= near_high
                for price, near_low, near_high in zip(prices, self._near_low_list, self._near_high_list, strict=True)]

    def to_action(self, prices: np.ndarray):
        """The action whose prices are closest to ``prices`` (for rule-based policies)."""
        share = np.clip((np.asarray(prices, float) - self.low) / np.maximum(self.high - self.low, 1e-12), 0.0, 1.0)
        if self.kind == "box":
            return (2.0 * share - 1.0).astype(np.float32)
        rungs = np.rint(share * (self.ladder_size - 1)).astype(np.int64)
        return int(rungs[0]) if self.n_products == 1 else rungs

    def at_bound(self, prices: np.ndarray) -> np.ndarray:
        """Whether each price sits at the bottom or top of its range."""
        return (prices <= self._near_low) | (prices >= self._near_high)
