"""Rule baselines that act on a whole batch of episodes, through the batched environments' one interface.

A batched rule is built on a vectorised environment (the SB3 ``VecEnv`` of
:func:`pricegym.envs.make_vec`, or the Gymnasium ``VectorEnv`` of ``gymnasium.make_vec``, wrapped
or not) and answers ``predict(observations, state=None, episode_start=None, deterministic=True)``
with ``(actions, None)`` for all B episodes at once, like an SB3 model, so that
``stable_baselines3.common.evaluation.evaluate_policy(rule, vec_env)`` runs it. What it knows
beyond the observations comes from ``vec_env.policy_context()``: per-episode arrays that each
batched core documents (:meth:`pricegym.envs.batched.BatchedEnv.policy_context`); a rule never
reads a core's private arrays. Every rule says what it knows in ``knows``.

* :class:`BatchedListPriceRule` - every product at its list price (no discount).
* :class:`BatchedFixedShareRule` - one position in every episode's price range (``share`` 0: the
  lowest price, 1: the highest).
* :class:`BatchedRandomRule` - uniformly random actions, seeded.
* :class:`BatchedMyopicDiscountRule` / :class:`BatchedSteadyStateDiscountRule` -
  PersonalizedDiscount-v0's myopic and memory-aware rules (the batched twins of
  :mod:`pricegym.agents.discount_baselines`), which read each visit's true utility.

The planning rules and oracles of the other environments, which plan with the shared ``market``
and ``config`` of the context, live beside them: :mod:`pricegym.agents.batched_markdown_rules`
(best fixed price, myopic, the dynamic program) and :mod:`pricegym.agents.batched_competition_rules`
(list price on the oracle's grid, best fixed price, myopic, the best response).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

DISCOUNT_CANDIDATES = 101
"""Discount shares a PersonalizedDiscount-v0 rule compares on the box (a ladder offers its rungs)."""


class BatchedRule:
    """Base of the batched rules: the vectorised environment, its action space and a price-to-action map."""

    name = "rule"
    knows = "what the agent observes"

    def __init__(self, vec_env: Any) -> None:
        self.vec_env = vec_env
        self.num_envs = vec_env.num_envs
        space = getattr(vec_env, "single_action_space", None) or vec_env.action_space
        self.action_space = space
        self.ladder_size = int(space.n) if hasattr(space, "n") else (int(space.nvec.reshape(-1)[0])
                                                                     if hasattr(space, "nvec") else None)

    def context(self) -> dict[str, np.ndarray]:
        """The environment's per-episode context (through any SB3 wrapper)."""
        return self.vec_env.policy_context()

    def predict(self, observation: np.ndarray, state: Any = None, episode_start: np.ndarray | None = None,
                deterministic: bool = True) -> tuple[np.ndarray, None]:
        return self._actions(np.asarray(observation)), None

    def _actions(self, observations: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def actions_for_prices(self, prices: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """Actions nearest ``prices`` within each episode's ``[low, high]`` (as ``PriceActions.to_action``)."""
        return self.actions_for_shares((prices - low) / np.maximum(high - low, 1e-12))

    def actions_for_shares(self, shares: np.ndarray) -> np.ndarray:
        """Actions that put each episode at ``shares`` (``[B]`` or ``[B, K]``, 0..1) of its price range: the box's
        affine map, or the nearest ladder rung."""
        shares = np.clip(np.asarray(shares, float), 0.0, 1.0)
        if self.ladder_size is None:
            actions = (2.0 * shares - 1.0).astype(np.float32)
            return actions.reshape(self.num_envs, *self.action_space.shape)
        rungs = np.rint(shares * (self.ladder_size - 1)).astype(np.int64)
        return rungs.reshape(self.num_envs) if not hasattr(self.action_space, "nvec") else rungs.reshape(
            self.num_envs, -1)


class BatchedFixedShareRule(BatchedRule):
    """The same position in every episode's price range, every step (share 0 is the lowest price)."""

    def __init__(self, vec_env: Any, share: float) -> None:
        super().__init__(vec_env)
        self.share = float(share)
        self.name = f"fixed share {self.share:g} of the range"

    def _actions(self, observations):
        return self.actions_for_shares(np.full(self.num_envs, self.share))


class BatchedRandomRule(BatchedRule):
    """Uniformly random actions of the single action space, one per episode, from a seeded generator."""

    name = "random"
    knows = "nothing"

    def __init__(self, vec_env: Any, seed: int = 0) -> None:
        super().__init__(vec_env)
        self.action_space.seed(seed)

    def _actions(self, observations):
        return np.stack([self.action_space.sample() for _ in range(self.num_envs)])


class BatchedListPriceRule(BatchedRule):
    """Every product at its list price (the nearest rung on a ladder); PersonalizedDiscount-v0: no discount.

    Reads ``list_price``, ``low`` and ``high`` from the context (``[B]`` or ``[B, K]``); a context without
    ``low`` is a discount environment, whose list price is share 0 of its range.
    """

    name = "list price"
    knows = "the list prices and price ranges"

    def _actions(self, observations):
        context = self.context()
        if "low" not in context:
            return self.actions_for_shares(np.zeros(self.num_envs))
        return self.actions_for_prices(context["list_price"], context["low"], context["high"])


def list_price_rule(vec_env: Any) -> BatchedRule:
    """The list-price rule of any environment (:class:`BatchedListPriceRule`)."""
    return BatchedListPriceRule(vec_env)


class _BatchedBestExpectedMarginRule(BatchedRule):
    """PersonalizedDiscount-v0: per episode, the candidate discount with the best expected margin now under the
    rule's view of the visitor's utility (:meth:`_utility`), after the budget cap and the price floor."""

    knows = "each visit's true utility (intercept and slope of the demand source), no random draw"

    def _actions(self, observations):
        visit = self.context()
        max_discount = visit["max_discount"][:, None]
        candidates = (np.linspace(0.0, 1.0, self.ladder_size) if self.ladder_size
                      else np.linspace(0.0, 1.0, DISCOUNT_CANDIDATES))[None, :]
        shares = candidates * max_discount
        list_price = visit["list_price"][:, None]
        prices = np.maximum(list_price - np.minimum(shares * list_price, visit["budget_left"][:, None]),
                            visit["lowest_price"][:, None])
        expected_margin = (prices - visit["unit_cost"][:, None]) * expit(self._utility(visit, prices))
        best = np.argmax(expected_margin, axis=1)
        return self.actions_for_shares(candidates[0, best])

    def _utility(self, visit: dict[str, np.ndarray], prices: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class BatchedMyopicDiscountRule(_BatchedBestExpectedMarginRule):
    """The myopic rule: best expected margin now, with the visitor's reference price as it stands."""

    name = "myopic"

    def _utility(self, visit, prices):
        list_price = visit["list_price"][:, None]
        gap = (visit["reference_price"][:, None] - prices) / list_price
        memory = visit["gain"][:, None] * np.maximum(gap, 0.0) - visit["loss"][:, None] * np.maximum(-gap, 0.0)
        return visit["intercept"][:, None] - visit["slope"][:, None] * (prices / list_price - 1.0) + memory


class BatchedSteadyStateDiscountRule(_BatchedBestExpectedMarginRule):
    """The memory-aware rule: best expected margin once the visitor's memory has settled at the price."""

    name = "steady-state price"

    def _utility(self, visit, prices):
        return visit["intercept"][:, None] - visit["slope"][:, None] * (prices / visit["list_price"][:, None] - 1.0)
