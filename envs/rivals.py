"""Rival sellers with rule-based strategies, and the multinomial logit by which customers choose.

Every rival's price in period ``t`` is ``clip(follow x agent's price in t - 1 + offset, low, high)``:

=========== ====================== ===============================================
strategy    follow                 offset
=========== ====================== ===============================================
undercut    ``1 - undercut_share`` 0
match       1                      0
fixed       0                      ``rival_fixed_price x`` list price
random      0                      one of ``random_levels`` evenly spaced prices of
                                   the range, uniformly, drawn at reset
=========== ====================== ===============================================

so rivals react to the agent's previous price, never to the current one; in the first period
they react to the list price (clipped to the range), the agent's "previous" price.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np

from pricegym.worlds.demand import ReferencePriceEffect


@dataclass(frozen=True)
class RivalRules:
    """The rivals of one episode (one product).

    Attributes:
        strategies: one name per rival.
        follow: ``[R]`` weight on the agent's previous price.
        fixed_offset: ``[R]`` the constant part of each rival's price (0 for random rivals).
        random_levels: ``[levels]`` the prices random rivals choose among.
        low, high: the price range every seller keeps to.
    """

    strategies: tuple[str, ...]
    follow: np.ndarray
    fixed_offset: np.ndarray
    random_levels: np.ndarray
    low: float
    high: float

    @classmethod
    def build(cls, strategies: tuple[str, ...], undercut_share: float, fixed_price: float, levels: int,
              low: float, high: float) -> RivalRules:
        return cls(strategies, np.array(follow_weights(strategies, undercut_share)),
                   np.array([fixed_price if name == "fixed" else 0.0 for name in strategies]),
                   np.linspace(low, high, levels) if levels > 1 else np.array([0.5 * (low + high)]), low, high)

    @property
    def random_rivals(self) -> np.ndarray:
        return np.array([name == "random" for name in self.strategies])

    def offsets(self, level_draws: np.ndarray) -> np.ndarray:
        """``[..., R]`` each rival's offset given level indices ``[..., n_random]`` of the random rivals."""
        offsets = np.broadcast_to(self.fixed_offset, level_draws.shape[:-1] + self.follow.shape).copy()
        offsets[..., self.random_rivals] = self.random_levels[level_draws]
        return offsets

    def prices(self, previous_agent_price: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Rival prices (broadcast: previous prices ``[..., 1]`` with offsets ``[..., R]``)."""
        return np.clip(self.follow * previous_agent_price + offsets, self.low, self.high)

    def level_combinations(self) -> np.ndarray:
        """``[S, n_random]`` every joint choice of the random rivals' levels (equally likely)."""
        n_random = int(self.random_rivals.sum())
        combinations = list(product(range(self.random_levels.size), repeat=n_random))
        return np.array(combinations, dtype=np.int64).reshape(len(combinations), n_random)


def random_level_prices(low: np.ndarray, high: np.ndarray, levels: int) -> np.ndarray:
    """``[..., levels]`` the prices random rivals choose among, for ranges ``low``, ``high`` (``[...]``):
    ``levels`` evenly spaced prices of each range, or its midpoint for one level (as
    :meth:`RivalRules.build`, to the last bit)."""
    low, high = np.asarray(low, float), np.asarray(high, float)
    if levels > 1:
        return np.linspace(low, high, levels, axis=-1)
    return (0.5 * (low + high))[..., None]


def rival_offsets(strategies: tuple[str, ...], fixed_prices: np.ndarray, level_prices: np.ndarray,
                  level_draws: np.ndarray) -> np.ndarray:
    """``[N, T, R]`` every rival's offset in every period of N seasons (:meth:`RivalRules.offsets` for
    many seasons at once).

    Args:
        strategies: one name per rival.
        fixed_prices: ``[N]`` the fixed rivals' price in each season.
        level_prices: ``[N, levels]`` the random rivals' prices (:func:`random_level_prices`).
        level_draws: ``[N, T, n_random]`` the random rivals' level indices.
    """
    seasons, horizon = level_draws.shape[:2]
    offsets = np.zeros((seasons, horizon, len(strategies)))
    fixed = [rival for rival, name in enumerate(strategies) if name == "fixed"]
    random = [rival for rival, name in enumerate(strategies) if name == "random"]
    offsets[:, :, fixed] = np.asarray(fixed_prices, float)[:, None, None]
    if random:
        offsets[:, :, random] = level_prices[np.arange(seasons)[:, None, None], level_draws]
    return offsets


def follow_weights(strategies: tuple[str, ...], undercut_share: float) -> list[float]:
    """Each rival's weight on the agent's previous price (see the table above)."""
    follow = {"undercut": 1.0 - undercut_share, "match": 1.0, "fixed": 0.0, "random": 0.0}
    return [follow[name] for name in strategies]


def price_utility(intercept: np.ndarray, slope: np.ndarray, prices: np.ndarray, list_price: float,
                  effect: ReferencePriceEffect) -> np.ndarray:
    """The demand source's utility of buying at ``prices`` (reference price at the list price)."""
    relative = prices / list_price - 1.0
    return intercept - slope * relative + effect.gain * np.maximum(-relative, 0.0) - effect.loss * np.maximum(
        relative, 0.0)


def choice_probabilities(utilities: np.ndarray) -> np.ndarray:
    """Multinomial logit over sellers and an outside option of utility 0.

    ``utilities`` is ``[..., J]``; the result is ``[..., J + 1]``, the last column the outside
    option (no purchase), summing to one. With one seller it is the demand source's purchase
    probability, ``sigmoid(utility)``.
    """
    with_outside = np.concatenate([utilities, np.zeros(utilities.shape[:-1] + (1,))], axis=-1)
    shifted = np.exp(with_outside - with_outside.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)
