"""Rule-based policies for PersonalizedDiscount-v0, with SB3's ``predict`` signature.

Like :mod:`pricegym.agents.baselines`, each answers ``predict(observation, ...)`` with
``(action, None)`` after ``begin_episode(env)`` (called after each reset). Model-based rules read
the visit the next action answers from ``env.current_visit()``: the visitor's reference price, the
budget left, and the demand source's utility for this visitor (what a seller with that demand
model knows; never the visit's random draw).

* :class:`NoDiscountPolicy` - always the list price.
* :class:`BestFixedDiscountPolicy` - one discount for everyone: the candidate with the best mean
  margin over planning episodes drawn with other seeds than the ones evaluated.
* :class:`MyopicDiscountPolicy` - "predict demand, pick the best price": for this visitor, the
  discount with the best expected margin now, given their reference price and the budget left,
  blind to what the discount does to their reference price and to the budget for later visitors.
* :class:`SteadyStatePricePolicy` - a memory-aware rule: for this visitor, the price with the best
  expected margin once their reference price has settled at the price charged (no gain term), so
  it does not chase the temporary lift a discount gets from a higher memory.
* :class:`~pricegym.agents.baselines.RandomPolicy` - uniformly random actions (shared by every environment).

``begin_episode`` before the first ``reset()`` raises :class:`~pricegym.errors.EnvStateError`; planning
that would play more than :data:`MAX_PLANNING_STEPS` steps raises :class:`~pricegym.errors.ConfigError`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from pricegym.agents.baselines import RandomPolicy
from pricegym.agents.rollout import episode_return
from pricegym.envs.discount_config import ENV_NAME
from pricegym.envs.input_checks import episode_of
from pricegym.envs.personalized_discount import PersonalizedDiscountEnv
from pricegym.errors import ConfigError

PLANNING_SEED = 900_000
"""First seed of the planning episodes: apart from the training seasons (from 0) and from the held-out
seasons of the benchmark and the training callback (from 1,000,000), so that no rule plans on what it is scored
on (the text-segment rule's experiment episodes add 10,000)."""
MAX_PLANNING_STEPS = 10_000_000
"""Steps :class:`BestFixedDiscountPolicy` may play to plan (about a minute)."""


class DiscountRule:
    """Base of the PersonalizedDiscount-v0 rules: remembers the episode's environment."""

    name = "rule"

    def __init__(self) -> None:
        self.env = None

    def begin_episode(self, env) -> None:
        """Called after ``env.reset``."""
        self.env = episode_of(env, PersonalizedDiscountEnv, ENV_NAME, f"{type(self).__name__}.begin_episode()")

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        return self._action(), None

    def _action(self):
        raise NotImplementedError

    def _candidate_shares(self) -> np.ndarray:
        """The discount shares the action space can express (ladder rungs, or a fine grid of the box)."""
        actions = self.env.discount_actions
        if actions.kind == "ladder":
            return actions.ladder()[0]
        return np.linspace(0.0, self.env.config.max_discount, 101)

    def _share_action(self, share: float, env=None):
        """The action of ``env`` (default: the episode's) that requests discount ``share`` (a rung on a ladder)."""
        return share_action(env or self.env, share)


def share_action(env, share: float):
    """The action of a PersonalizedDiscount-v0 ``env`` that requests discount ``share`` (the nearest rung on a
    ladder)."""
    actions = env.unwrapped.discount_actions
    if actions.kind == "ladder":
        return int(np.argmin(np.abs(actions.ladder()[0] - share)))
    return actions.to_action(np.array([share]))


def fixed_discount_candidates(env, candidates: int = 11) -> np.ndarray:
    """The discount shares a fixed-discount rule chooses from: the ladder's rungs, or ``candidates`` evenly
    spaced shares of ``[0, max_discount]`` on the box (the list price is always the first)."""
    env = env.unwrapped
    actions = env.discount_actions
    if actions.kind == "ladder":
        return actions.ladder()[0]
    return np.linspace(0.0, env.config.max_discount, candidates)


class _BestExpectedMarginRule(DiscountRule):
    """Rules that offer, for this visitor, the candidate discount with the best expected margin now,
    under their own view of the visitor's utility (:meth:`_utility`)."""

    def _action(self):
        visit = self.env.current_visit()
        shares = self._candidate_shares()
        list_price = visit["list_price"]
        prices = np.maximum(list_price - np.minimum(shares * list_price, visit["budget_left"]), visit["lowest_price"])
        expected_margin = (prices - visit["unit_cost"]) * expit(self._utility(visit, prices))
        return self._share_action(float(shares[int(np.argmax(expected_margin))]))

    def _utility(self, visit: dict[str, float], prices: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class NoDiscountPolicy(DiscountRule):
    name = "list price"

    def _action(self):
        return self._share_action(0.0)


class MyopicDiscountPolicy(_BestExpectedMarginRule):
    name = "myopic"

    def _utility(self, visit, prices):
        list_price = visit["list_price"]
        return (visit["intercept"] - visit["slope"] * (prices / list_price - 1.0)
                + self.env.market.reference_effect.utility_term(prices, np.asarray(visit["reference_price"]),
                                                                list_price))


class SteadyStatePricePolicy(_BestExpectedMarginRule):
    name = "steady-state price"

    def _utility(self, visit, prices):
        return visit["intercept"] - visit["slope"] * (prices / visit["list_price"] - 1.0)  # memory settled at the price


class BestFixedDiscountPolicy(DiscountRule):
    name = "best fixed price"

    def __init__(self, planning_episodes: int = 4, candidates: int = 11) -> None:
        super().__init__()
        self.planning_episodes = planning_episodes
        self.candidates = candidates
        self._planned_for = None
        self.share = 0.0

    def begin_episode(self, env) -> None:
        super().begin_episode(env)
        if self._planned_for != self.env.config:
            self._planned_for = self.env.config
            self.share = self._best_share()

    def _best_share(self) -> float:
        shares = fixed_discount_candidates(self.env, self.candidates)
        self._check_planning_steps(shares.size)
        planner = PersonalizedDiscountEnv(self.env.config)
        self.planning_margins = {float(share): np.mean([
            episode_return(planner, _ConstantAction(self._share_action(share, planner)), PLANNING_SEED + episode)
            for episode in range(self.planning_episodes)]) for share in shares}
        return max(self.planning_margins, key=self.planning_margins.get)

    def _check_planning_steps(self, candidates: int) -> None:
        """Planning plays every candidate discount for ``planning_episodes`` whole episodes: refuse (ConfigError)
        more than :data:`MAX_PLANNING_STEPS` steps rather than plan for hours."""
        steps = candidates * self.planning_episodes * self.env.config.horizon
        if steps > MAX_PLANNING_STEPS:
            raise ConfigError(f"{ENV_NAME}: the best fixed discount would be planned over {candidates} candidate "
                              f"discounts x {self.planning_episodes} episodes x horizon {self.env.config.horizon} = "
                              f"{steps:,} steps, more than the {MAX_PLANNING_STEPS:,} that finish in about a minute; "
                              "lower ladder_size (or candidates), planning_episodes or horizon")

    def _action(self):
        return self._share_action(self.share)


class FixedDiscountPolicy(DiscountRule):
    """One given discount share for everyone (the best-fixed rule without its planning)."""

    def __init__(self, share: float) -> None:
        super().__init__()
        self.share = float(share)
        self.name = f"fixed discount {100.0 * self.share:g}%"

    def _action(self):
        return self._share_action(self.share)


class _ConstantAction:
    """Always the same action (for planning episodes)."""

    def __init__(self, action) -> None:
        self.action = action

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        return self.action, None


DISCOUNT_BASELINES = (NoDiscountPolicy, BestFixedDiscountPolicy, MyopicDiscountPolicy, SteadyStatePricePolicy,
                      RandomPolicy)
"""The listed baselines of PersonalizedDiscount-v0."""
