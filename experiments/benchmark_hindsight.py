"""What the seasons themselves held: the hindsight yardsticks of an environment whose optimum is only bounded.

PersonalizedDiscount-v0 has no computable optimum, only bounds (``envs/discount_bounds.py``). Beside the
expected bound (the benchmark's yardstick), a block of such an environment gets, on the very seasons every
policy played:

* ``hindsight bound`` - per season, the clairvoyant bound on that season's realised margin (it sees every
  visitor's draw). No policy may exceed it on any season: ``bound_violations`` counts the seasons where one
  did (a bug in the simulator or the bound, never a good policy), so every row checks the bound;
* ``best uniform discount (hindsight)`` - of the fixed discounts the best-fixed rule plans over (the list
  price included), the one with the highest mean on these seasons: the most one discount for everyone could
  have earned on them. It is a row of the table, with its own interval;
* ``gap_captured_pct`` - per row, the share of the room personalisation may fill that the policy fills:
  ``100 x (policy - best uniform) / (expected bound - best uniform)``, with means over the same seasons.

Every figure is a realised margin of the seasons all policies share (common random numbers), so a rule's
gap captured is the paired comparison the old headroom script reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

BEST_UNIFORM = "best uniform discount (hindsight)"
"""The row of the best fixed discount chosen on the evaluated seasons themselves."""
BEST_UNIFORM_KNOWS = "the evaluated seasons themselves (the best of the fixed discounts, chosen after the fact)"
VIOLATION_TOLERANCE = 1e-9
"""A return above the hindsight bound by more than this is a violation."""


@dataclass(frozen=True)
class HindsightYardsticks:
    """A block's hindsight figures: the per-season bound, the best uniform discount and its returns."""

    bound: np.ndarray
    best_share: float
    best_returns: np.ndarray
    candidate_means: dict[float, float]


def hindsight_bounds(env_id: str, seeds: list[int], options: dict[str, Any]) -> np.ndarray:
    """``[len(seeds)]`` the clairvoyant bound of each season seeded ``seeds[i]`` (the single environment
    reset with the seed, which is what slot i of the benchmark's batch plays)."""
    from pricegym.agents.optimum_evaluation import single_env
    from pricegym.envs.discount_bounds import hindsight_bound

    env = single_env(env_id, {**options, "observe_embeddings": False})
    bounds = np.empty(len(seeds))
    for index, seed in enumerate(seeds):
        env.reset(seed=seed)
        bounds[index] = hindsight_bound(env).value
    return bounds


def uniform_discounts(env_id: str, options: dict[str, Any]) -> tuple[np.ndarray, float]:
    """The fixed discount shares the best-fixed rule plans over (the list price first), and ``max_discount``."""
    from pricegym.agents.discount_baselines import BestFixedDiscountPolicy, fixed_discount_candidates
    from pricegym.agents.optimum_evaluation import single_env

    env = single_env(env_id, {**options, "observe_embeddings": False})
    shares = fixed_discount_candidates(env, BestFixedDiscountPolicy().candidates)
    return np.asarray(shares, dtype=float), float(env.config.max_discount)


Player = Callable[[Any], tuple[np.ndarray, Any]]
"""``factory -> (returns per season, tracker)``: plays a batched policy factory on the block's seasons."""


def best_uniform(env_id: str, options: dict[str, Any], play: Player) -> tuple[float, np.ndarray, Any, dict]:
    """Every fixed discount on the block's seasons; the best one's share, returns and tracker, and each mean."""
    from pricegym.agents.batched_rules import BatchedFixedShareRule

    shares, max_discount = uniform_discounts(env_id, options)
    played = {}
    for share in shares:  # an action share of the [0, max_discount] range: the discount share / max_discount
        played[float(share)] = play(lambda vec_env, share=share: BatchedFixedShareRule(vec_env, share / max_discount))
    means = {share: float(np.mean(returns)) for share, (returns, _) in played.items()}
    best = max(means, key=means.get)
    return best, played[best][0], played[best][1], means


def bound_violations(returns: np.ndarray, bound: np.ndarray | None) -> int | None:
    """Seasons (of every training seed) whose return exceeds the hindsight bound; None without one."""
    if bound is None:
        return None
    return int(np.sum(np.asarray(returns, dtype=float) > np.asarray(bound)[None, :] + VIOLATION_TOLERANCE))


def gap_captured_pct(returns: np.ndarray, best_uniform_returns: np.ndarray | None,
                     yardstick: np.ndarray | None) -> float | None:
    """``100 x (mean policy - mean best uniform) / (mean yardstick - mean best uniform)``; None where there is
    no best uniform discount or no gap to fill."""
    if best_uniform_returns is None or yardstick is None:
        return None
    base, room = float(np.mean(best_uniform_returns)), float(np.mean(yardstick)) - float(np.mean(best_uniform_returns))
    return None if room <= 0 else 100.0 * (float(np.mean(returns)) - base) / room


def hindsight_summary(hindsight: HindsightYardsticks, yardstick: np.ndarray) -> dict[str, float]:
    """The block's hindsight figures for ``benchmark.json``'s yardsticks."""
    best, expected = float(np.mean(hindsight.best_returns)), float(np.mean(yardstick))
    return {"hindsight_bound_mean": float(np.mean(hindsight.bound)), "best_uniform_mean": best,
            "best_uniform_discount_pct": 100.0 * hindsight.best_share,
            "expected_bound_pct_above_best_uniform": 100.0 * (expected / best - 1.0),
            "uniform_discount_means": {f"{100.0 * share:g}%": mean
                                       for share, mean in hindsight.candidate_means.items()}}
