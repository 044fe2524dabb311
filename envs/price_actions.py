"""Action spaces that cannot fail silently: a box mapped to price ranges, or a price ladder.

* ``box``: ``Box(-1, 1, (K,))``; action ``a`` maps affinely to ``low + (a + 1) / 2 * (high - low)``
  within each product's price range.
* ``ladder``: ``Discrete(L)`` for one product, ``MultiDiscrete([L] * K)`` otherwise; rung ``i``
  is the i-th of L evenly spaced prices over the range.

Every environment checks its actions with :meth:`PriceActions.to_price_list` (one check, a few
``isinstance`` and shape tests on the hot path). What is accepted:

* **box**: K floats, as a float array (float16, float32 or float64) of shape ``(K,)``, or a list
  or tuple of K Python or numpy floats. Values within ``BOUND_TOLERANCE`` (1e-6) outside
  ``[-1, 1]`` are clipped to it (float32 rounding of a squashed policy output); values further
  out, NaN and infinities are refused: clip or squash the policy's output first.
* **ladder**: K integer rungs in ``0..L-1``: a Python or numpy int (K = 1 only), an integer array
  of shape ``(K,)`` (or shape ``()`` for K = 1), or a list or tuple of K ints.

Everything else raises a :class:`ValueError` naming the action space and what was received:
bools (``True`` is not a price), strings, ``None``, complex or object arrays, masked arrays with
masked values, ``np.timedelta64`` (a numpy integer, but a duration, not a rung), integers for a box
(an integer usually means a ladder rung was meant) and floats for a ladder, even integral ones like
``2.0`` (a float usually means a box action was meant; pass ``int(rung)``), and wrong shapes
(a scalar for a box, a batch ``(1, K)``: vectorised environments unbatch before stepping).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

BOUND_TOLERANCE = 1e-6
"""How far outside [-1, 1] a box action may stray and still be clipped rather than refused."""

_LOWEST, _HIGHEST = -1.0 - BOUND_TOLERANCE, 1.0 + BOUND_TOLERANCE


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
        self._shape = (n_products,)
        self._rung_shapes = ((), (1,)) if n_products == 1 else (self._shape,)
        self.set_ranges(np.zeros(n_products), np.ones(n_products))

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

    # -- actions to prices (the environments' hot path) -------------------------------------------

    def to_price_list(self, action: Any) -> list[float]:
        """The K prices of ``action``, checked (see the module docstring); raises ValueError otherwise."""
        if self.kind == "box":
            prices = []
            for value, low, half_span in zip(self._box_values(action), self._low_list, self._half_span_list,
                                             strict=True):
                if not _LOWEST <= value <= _HIGHEST:  # NaN fails too
                    raise self._refusal(action, "values must be finite and lie in [-1, 1] (clip or squash the "
                                                "policy's output)")
                prices.append(low + (min(max(value, -1.0), 1.0) + 1.0) * half_span)
            return prices
        prices = []
        for rung, low, step in zip(self._rungs(action), self._low_list, self._rung_step_list, strict=True):
            if not 0 <= rung < self.ladder_size:
                raise self._refusal(action, f"rungs must lie in 0..{self.ladder_size - 1}")
            prices.append(low + rung * step)
        return prices

    def to_prices(self, action: Any) -> np.ndarray:
        """:meth:`to_price_list` as an array."""
        return np.array(self.to_price_list(action))

    def _box_values(self, action: Any) -> list[float]:
        """The K floats of a box action, or a ValueError for a wrong type, dtype or shape."""
        if isinstance(action, np.ndarray):
            array = action if type(action) is np.ndarray else _plain_array(action)
            if array is not None and array.dtype.kind == "f" and array.shape == self._shape:
                return array.tolist()
        elif isinstance(action, list | tuple) and len(action) == self.n_products and all(
                isinstance(value, float | np.floating) for value in action):
            return [float(value) for value in action]
        raise self._refusal(action, self._problem(action, "f", "float"))

    def _rungs(self, action: Any) -> list[int]:
        """The K integer rungs of a ladder action, or a ValueError for a wrong type, dtype or shape."""
        if is_integer(action):
            if self.n_products == 1:
                return [int(action)]
        elif isinstance(action, np.ndarray):
            array = action if type(action) is np.ndarray else _plain_array(action)
            if array is not None and array.dtype.kind in "iu" and array.shape in self._rung_shapes:
                return array.reshape(-1).tolist()
        elif isinstance(action, list | tuple) and len(action) == self.n_products and all(
                is_integer(rung) for rung in action):
            return [int(rung) for rung in action]
        raise self._refusal(action, self._problem(action, "iu", "integer"))

    def _problem(self, action: Any, kinds: str, kind_name: str) -> str:
        """What is wrong with an action of the wrong type, dtype or shape (the error path only)."""
        k = self.n_products
        if isinstance(action, np.ndarray) and _plain_array(action) is None:
            return "masked values are not prices or rungs"
        if isinstance(action, np.ndarray):
            if action.dtype.kind not in kinds:
                return f"dtype {action.dtype} is not a{'n' if kind_name[0] in 'aeiou' else ''} {kind_name} dtype"
            return f"shape {action.shape} is not ({k},)"
        if isinstance(action, list | tuple):
            if len(action) != k:
                return f"{len(action)} value(s) given, not {k}"
            return f"the values are {sorted({type(value).__name__ for value in action})}, not {kind_name}s"
        if isinstance(action, bool | np.bool_):
            return "a bool is not a price or a rung"
        if isinstance(action, np.timedelta64 | np.datetime64):
            return f"a {type(action).__name__} is not a price or a rung"
        if isinstance(action, int | float | np.number):
            if kind_name == "float" or k > 1:
                return f"a scalar {type(action).__name__}, not an array of shape ({k},)"
            return f"{type(action).__name__} {action!r} is not an integer rung"
        return f"type {type(action).__name__} is not an array or a list"

    def _refusal(self, action: Any, problem: str) -> ValueError:
        """The error for a refused action: what the space expects, what was received, how to fix it."""
        k = self.n_products
        if self.kind == "box":
            expected = (f"{k} float(s) in [-1, 1]: a float32/float64 array of shape ({k},) or a list of {k} floats, "
                        f"e.g. np.zeros({k}, dtype=np.float32)")
        else:
            scalar = "an int or " if k == 1 else ""
            expected = (f"{k} integer ladder rung(s) in 0..{self.ladder_size - 1}: {scalar}an integer array of shape "
                        f"({k},) or a list of {k} ints (floats are refused, even integral ones: pass int(rung))")
        return ValueError(f"{self.env_name}: action refused ({problem}); the action space {self.space} expects "
                          f"{expected}; got {describe(action)}")

    # -- prices to actions, and bounds ------------------------------------------------------------

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


def is_integer(value: Any) -> bool:
    """A Python or numpy integer; not a bool (``True`` is not an index) nor a ``np.timedelta64`` (a duration,
    although numpy derives it from its integers)."""
    return type(value) is int or (isinstance(value, np.integer) and not isinstance(value, np.timedelta64))


def _plain_array(array: np.ndarray) -> np.ndarray | None:
    """An ndarray subclass (masked array, matrix) as a plain array; None when some value is masked."""
    if np.ma.is_masked(array):
        return None
    return np.asarray(array)


def describe(value: Any, limit: int = 80) -> str:
    """A short account of a received value for error messages, on one line: its type, dtype and shape, and
    its repr."""
    text = " ".join(repr(value).split())
    text = text if len(text) <= limit else text[:limit - 3] + "..."
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}: {text}"
    return f"{type(value).__name__} {text}"
