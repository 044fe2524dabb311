"""A batch of actions to prices, checked at once, with the single environments' arithmetic.

:class:`BatchedPriceActions` is :class:`~pricegym.envs.price_actions.PriceActions` for B episodes:
the same spaces, the same tolerance, and the same formulas (``low + (a + 1) x (high - low) / 2`` on
the box, ``low + rung x (high - low) / (L - 1)`` on the ladder), so that a batched episode's prices
equal the single environment's to the last bit. What is accepted:

* **box**: a float array of shape ``[B, K]`` (``[B]`` too when K = 1); values within 1e-6 outside
  ``[-1, 1]`` are clipped, further out, NaN and infinities are refused.
* **ladder**: an integer array of shape ``[B]`` (K = 1) or ``[B, K]``, rungs in ``0..L-1``.

A refusal is one ``ValueError`` that names the space, the first offending slot and its action.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pricegym.envs.price_actions import BOUND_TOLERANCE, PriceActions, describe


class BatchedPriceActions:
    """Maps a batch of actions to ``[B, K]`` prices within each slot's ``[low, high]`` ranges."""

    def __init__(self, kind: str, n_products: int, ladder_size: int, env_name: str) -> None:
        self.single = PriceActions(kind, n_products, ladder_size, env_name)
        self.kind, self.n_products, self.ladder_size, self.env_name = kind, n_products, ladder_size, env_name
        self.space = self.single.space

    def to_prices(self, actions: Any, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """``[B, K]`` prices of ``actions`` given each slot's ranges ``low`` and ``high`` (``[B, K]``)."""
        batch = low.shape[0]
        if self.kind == "box":
            values = self._array(actions, batch, "f", "a float").astype(np.float64)
            bad = ~((values >= -1.0 - BOUND_TOLERANCE) & (values <= 1.0 + BOUND_TOLERANCE))  # NaN is bad too
            if bad.any():
                self._refuse(actions, bad, "values must be finite and lie in [-1, 1] (clip or squash the policy's "
                                           "output)")
            half_span = 0.5 * (high - low)
            return low + (np.clip(values, -1.0, 1.0) + 1.0) * half_span
        rungs = self._array(actions, batch, "iu", "an integer")
        bad = (rungs < 0) | (rungs >= self.ladder_size)
        if bad.any():
            self._refuse(actions, bad, f"rungs must lie in 0..{self.ladder_size - 1}")
        return low + rungs * ((high - low) / (self.ladder_size - 1))

    def ladders(self, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """``[B, K, L]`` every slot's rung prices."""
        shares = np.linspace(0.0, 1.0, self.ladder_size)
        return low[..., None] + shares * (high - low)[..., None]

    def _array(self, actions: Any, batch: int, kinds: str, kind_name: str) -> np.ndarray:
        """The actions as a ``[B, K]`` array of the right kind, or a ValueError."""
        shapes = [(batch, self.n_products)] + ([(batch,)] if self.n_products == 1 else [])
        if type(actions) is np.ndarray and actions.dtype.kind in kinds and actions.shape in shapes:
            return actions.reshape(batch, self.n_products)
        received = (f"an array of dtype {actions.dtype} and shape {actions.shape}" if isinstance(actions, np.ndarray)
                    else describe(actions))
        expected = " or ".join(str(shape) for shape in shapes)
        raise ValueError(f"{self.env_name} ({self.kind} actions, batched): expected {kind_name} array of shape "
                         f"{expected}; got {received}")

    def _refuse(self, actions: np.ndarray, bad: np.ndarray, problem: str) -> None:
        slot = int(np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1))[0])
        raise ValueError(f"{self.env_name} ({self.kind} actions, batched): {problem}; slot {slot} got "
                         f"{describe(actions[slot])}")
