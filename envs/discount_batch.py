"""The batched core of PersonalizedDiscount-v0: B episodes of visits, discounts and memories as arrays.

:class:`PersonalizedDiscountBatch` follows the contract of :mod:`pricegym.envs.batched`. One step is
one visit in every slot. What a slot holds:

* **its draws** (made at reset, never touched by actions): the products ``[B, K]``, the pool of
  customers (demand rows, ``[B, M]``) and, per visit, the visitor, the viewed product slot, the
  purchase threshold (utility at list price minus the logit of the visit's uniform), the slope and
  the intercept (``[B, T]`` each); the products' list prices, counted unit costs and lowest prices,
  and the window's budget;
* **its moving state**: every customer's reference price per product ``[B, M, K]``, purchases and
  visits per customer ``[B, M]``, the budget left and the visits made.

A seeded slot copies the draws of the single environment's ``reset(seed=seed)``; unseeded slots
are drawn together from the core's generator, with the single environment's distributions: a
uniform K-subset of the product pool (sorted), M customers drawn without replacement by activity
(successive sampling, as ``Generator.choice(..., replace=False, p=...)``, done with exponential
keys: the M smallest of ``E_i / weight_i``), uniform visitors, viewed products and uniforms.

The step is the single environment's arithmetic, element by element and in the same order: the
requested discount is capped to the budget left, the price raised to the lowest price, the
customer buys iff ``threshold - slope (price / list - 1) + reference term > 0``, the budget pays
the discount of a purchase (never below 0), the reference price moves toward the price seen, and
the budget is refilled after every ``budget_window`` visits. Observations are assembled per step
from tables (embeddings, calendar) instead of precomputed rows per visit, so a batch holds only
``O(B (T + M K))`` numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.special import logit

from pricegym.envs.batched import BatchedEnv, checked_mask, checked_seeds
from pricegym.envs.batched_actions import BatchedPriceActions
from pricegym.envs.discount_config import ENV_NAME
from pricegym.envs.input_checks import check_precomputed
from pricegym.envs.observation import SCALE_CAP
from pricegym.envs.personalized_discount import (
    PersonalizedDiscountEnv,
    counted_unit_costs,
    lowest_prices,
    schedule_shares,
    visit_days,
)
from pricegym.errors import EnvStateError

NOT_STARTED, RUNNING, ENDED = 0, 1, 2
"""A slot's episode state (``PersonalizedDiscountBatch.episode_state``)."""

DRAWS = ("products", "customer_rows", "visitors", "viewed", "threshold", "slope", "intercept", "list_prices",
         "unit_costs", "lowest_prices", "budget")
"""The per-slot arrays drawn at reset (the single environment's attributes of the same names)."""


class PersonalizedDiscountBatch(BatchedEnv):
    """B PersonalizedDiscount-v0 episodes stepped at once (see the module docstring).

    Args:
        num_envs: B, the episodes stepped together.
        config: a :class:`~pricegym.envs.discount_config.PersonalizedDiscountConfig`, a dict of its
            options, or None for the defaults.
        seed: seeds the core's generator (the episodes of unseeded resets).
        **overrides: config options.

    ## Step
    ``actions``: ``[B]`` or ``[B, 1]`` floats in ``[-1, 1]`` (box) or ``[B]`` / ``[B, 1]`` integer
    rungs (ladder), each mapped to a requested discount share as the single environment maps it.
    Returns observations ``[B, D]`` float32, rewards ``[B]`` float64 (the margin or revenue of a
    purchase, else 0), terminated ``[B]`` (after ``horizon`` visits), truncated ``[B]`` (never) and
    infos with the single environment's keys as ``[B]`` arrays: ``price``, ``discount``,
    ``requested_discount``, ``discount_capped``, ``price_at_floor``, ``bought``, ``customer``,
    ``reference_price`` (after the update) and ``budget_left``. Reset infos: ``products`` ``[B, K]``
    and ``customers`` ``[B, M]`` (demand rows of each pool).

    ## Policy context
    :meth:`policy_context` holds, per slot, what the single environment's ``current_visit()``
    returns for the visit the next action answers (the last visit once the episode ended), as
    ``[B]`` arrays: ``customer`` (index in the pool), ``slot`` (the viewed product's index among
    the K), ``customer_row`` and ``product`` (the visitor's and the product's rows in the world),
    ``day`` (the visit's calendar day), ``list_price``, ``lowest_price``, ``unit_cost`` (counted in the reward),
    ``reference_price`` (the visitor's, for the viewed product), ``intercept`` and ``slope`` (the
    demand source's utility at list price and price sensitivity of this visit, without the
    visit's random draw) and ``budget_left``; and, the same in every slot, ``max_discount`` (the
    config's) and the memory's ``gain`` and ``loss`` (the market's reference effect): what the
    batched myopic and steady-state rules read (:mod:`pricegym.agents.batched_rules`).

    ## Episode state
    ``episode_state`` ``[B]``: :data:`NOT_STARTED`, :data:`RUNNING` or :data:`ENDED`. ``step`` raises
    :class:`~pricegym.errors.EnvStateError` naming the first slot that is not running.
    """

    env_name = ENV_NAME
    env_class = PersonalizedDiscountEnv

    def __init__(self, num_envs: int, config: Any = None, seed: int | None = None, **overrides: Any) -> None:
        super().__init__(num_envs, config, seed, **overrides)
        env, config = self.single_env, self.config
        self.market = env.market
        self.actions = BatchedPriceActions(config.action_space, 1, config.ladder_size, ENV_NAME)
        self._share_low = np.zeros((self.num_envs, 1))
        self._share_high = np.full((self.num_envs, 1), config.max_discount)
        effect = self.market.reference_effect
        self._theta, self._gain, self._loss = effect.theta, effect.gain, effect.loss
        self._horizon, self._window = config.horizon, config.budget_window
        self._expected_visits = config.horizon / config.n_customers
        self._window_left, self._time_left = schedule_shares(config)
        days = visit_days(config, self.market.n_days, np.minimum(np.arange(config.horizon + 1), config.horizon - 1))
        self._market_rows = self.market.market_feature_table[days].astype(np.float32)
        self._days = days[:-1]
        self._parts = env.slices
        self._slots = np.arange(self.num_envs)
        self.episode_state = np.full(self.num_envs, NOT_STARTED, dtype=np.int8)
        check_precomputed(ENV_NAME, "per-visit draws of the batch (5 per visit)", self.num_envs * config.horizon, 5,
                          8, "num_envs or horizon")
        self._allocate()

    def _allocate(self) -> None:
        """Every per-slot array, filled with harmless values (list prices of 1) until the slot's first reset."""
        b, m, k, t = self.num_envs, self.config.n_customers, self.config.n_products, self.config.horizon
        self.products = np.zeros((b, k), np.int64)
        self.customer_rows = np.zeros((b, m), np.int64)
        self.visitors, self.viewed = np.zeros((b, t), np.int64), np.zeros((b, t), np.int64)
        self.threshold, self.slope, self.intercept = (np.zeros((b, t)) for _ in range(3))
        self.list_prices, self.unit_costs, self.lowest_prices = np.ones((b, k)), np.zeros((b, k)), np.zeros((b, k))
        self.budget, self.budget_left, self.visit = np.zeros(b), np.zeros(b), np.zeros(b, np.int64)
        self.reference_prices = np.ones((b, m, k))
        self.purchases, self.visits = np.zeros((b, m), np.int64), np.zeros((b, m), np.int64)
        self._list_price_feature, self._unit_cost_feature = np.zeros((b, k)), np.zeros((b, k))

    # -- reset ------------------------------------------------------------------------------------

    def reset(self, seeds: Sequence[int | None] | None = None,
              mask: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Start new episodes in the slots of ``mask`` (all when None); see :meth:`BatchedEnv.reset`.

        A seeded slot copies the draws of ``single_env.reset(seed=seed)``; the seeds of slots outside ``mask``
        are checked but unused. Raises ConfigError for a wrong number of seeds or a bad seed, ValueError for a
        bad mask.
        """
        seeds = checked_seeds(ENV_NAME, seeds, self.num_envs)
        mask = checked_mask(ENV_NAME, mask, self.num_envs)
        slots = np.flatnonzero(mask)
        seeded = [int(slot) for slot in slots if seeds[slot] is not None]
        for slot in seeded:
            self._copy_single_episode(slot, seeds[slot])
        fresh = np.setdiff1d(slots, seeded)
        if fresh.size:
            self._draw_episodes(fresh)
        self._start(slots)
        return self._observe(), {"products": self.products.copy(), "customers": self.customer_rows.copy()}

    def _copy_single_episode(self, slot: int, seed: int) -> None:
        """The draws of the single environment's episode under ``seed``, into ``slot``."""
        env = self.single_env
        env.reset(seed=seed)
        for name in DRAWS:
            getattr(self, name)[slot] = getattr(env, name)

    def _draw_episodes(self, slots: np.ndarray) -> None:
        """Fresh episodes for ``slots``, all drawn together from ``np_random`` (in the single env's order)."""
        config, market, rng, pool = self.config, self.market, self.np_random, self.single_env.pool
        n, k, m, t = slots.size, config.n_products, config.n_customers, config.horizon
        chosen = np.argpartition(rng.random((n, pool.size)), k - 1, axis=1)[:, :k] if k < pool.size \
            else np.broadcast_to(np.arange(pool.size), (n, k))
        products = pool[np.sort(chosen, axis=1)]
        customer_rows = _weighted_rows_without_replacement(market.customer_weights, n, m, rng)
        visitors = rng.integers(0, m, size=(n, t))
        viewed = rng.integers(0, k, size=(n, t))
        uniforms = rng.random((n, t))
        rows = np.take_along_axis(customer_rows, visitors, axis=1)
        viewed_products = np.take_along_axis(products, viewed, axis=1)
        intercept, slope = market.demand.intercept_and_slope(rows, viewed_products,
                                                             market.context(self._days[None, :], viewed_products))
        intercept = np.broadcast_to(intercept, (n, t)).astype(float)
        list_prices = market.list_prices[products]
        self.products[slots], self.customer_rows[slots] = products, customer_rows
        self.visitors[slots], self.viewed[slots] = visitors, viewed
        self.intercept[slots], self.slope[slots] = intercept, np.broadcast_to(slope, (n, t))
        self.threshold[slots] = intercept - logit(np.clip(uniforms, 1e-12, 1 - 1e-12))
        self.list_prices[slots] = list_prices
        self.unit_costs[slots] = counted_unit_costs(self.single_env.economics, market.unit_costs[products])
        self.lowest_prices[slots] = lowest_prices(config.max_discount, market, products, list_prices)
        self.budget[slots] = self.single_env.economics.discount_budget * config.budget_window * \
            list_prices.mean(axis=1)

    def _start(self, slots: np.ndarray) -> None:
        """The moving state of a fresh episode in ``slots``: memories at the list prices, the full budget."""
        list_prices = self.list_prices[slots]
        self.reference_prices[slots] = list_prices[:, None, :]
        self.purchases[slots], self.visits[slots], self.visit[slots] = 0, 0, 0
        self.budget_left[slots] = self.budget[slots]
        self._list_price_feature[slots] = np.minimum(
            self.market.list_prices[self.products[slots]] / self.single_env.catalogue_median_price, SCALE_CAP)
        self._unit_cost_feature[slots] = np.minimum(self.unit_costs[slots] / list_prices, SCALE_CAP)
        self.episode_state[slots] = RUNNING

    # -- step -------------------------------------------------------------------------------------

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """One visit in every slot (see the class docstring); every slot must be running."""
        self._check_running()
        shares = self.actions.to_prices(actions, self._share_low, self._share_high)[:, 0]
        slots, visit = self._slots, self.visit
        customer, slot = self.visitors[slots, visit], self.viewed[slots, visit]
        list_price, lowest = self.list_prices[slots, slot], self.lowest_prices[slots, slot]
        # the customer's response to the price after the budget cap and the floor
        requested = shares * list_price
        affordable = np.minimum(requested, self.budget_left)
        price = np.maximum(list_price - affordable, lowest)
        given = list_price - price
        tolerance = 1e-9 * list_price
        reference = self.reference_prices[slots, customer, slot]
        gap = (reference - price) / list_price
        index = self.threshold[slots, visit] - self.slope[slots, visit] * (price / list_price - 1.0) \
            + np.where(gap > 0, self._gain * gap, self._loss * gap)
        bought = index > 0.0
        # the state moves
        rewards = np.where(bought, price - self.unit_costs[slots, slot], 0.0)
        self.budget_left = np.where(bought, np.maximum(self.budget_left - given, 0.0), self.budget_left)
        self.purchases[slots, customer] += bought
        self.visits[slots, customer] += 1
        new_reference = self._theta * reference + (1.0 - self._theta) * price
        self.reference_prices[slots, customer, slot] = new_reference
        self.visit = visit = visit + 1
        self.budget_left = np.where(visit % self._window == 0, self.budget, self.budget_left)
        terminated = visit >= self._horizon
        self.episode_state[terminated] = ENDED
        infos = {"price": price, "discount": given / list_price, "requested_discount": shares,
                 "discount_capped": affordable < requested - tolerance,
                 "price_at_floor": list_price - affordable < lowest - tolerance, "bought": bought,
                 "customer": customer, "reference_price": new_reference, "budget_left": self.budget_left.copy()}
        return self._observe(), rewards, terminated, np.zeros(self.num_envs, bool), infos

    def _check_running(self) -> None:
        """EnvStateError naming the first slot whose episode is not running."""
        idle = self.episode_state != RUNNING
        if idle.any():
            slot = int(np.flatnonzero(idle)[0])
            problem = ("was never reset" if self.episode_state[slot] == NOT_STARTED
                       else "has ended (terminated=True)")
            raise EnvStateError(f"{ENV_NAME} (batched): step() called while the episode of slot {slot} {problem} "
                                f"({int(idle.sum())} slot(s) not running); reset them first, e.g. "
                                "reset(mask=terminated | truncated)")

    # -- what the slots show ----------------------------------------------------------------------

    def _current(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per slot: the visit the next action answers (the last after the end), its customer and product slot."""
        visit = np.minimum(self.visit, self._horizon - 1)
        return visit, self.visitors[self._slots, visit], self.viewed[self._slots, visit]

    def _observe(self) -> np.ndarray:
        """``[B, D]`` every slot's observation, as the single environment's ``_observe`` (zeros before a reset)."""
        parts, slots, step = self._parts, self._slots, self.visit
        _, customer, slot = self._current()
        observations = np.empty((self.num_envs, self.single_observation_space.shape[0]), np.float32)
        observations[:, parts["customer_embedding"]] = self.single_env.customer_embeddings[
            self.customer_rows[slots, customer]]
        observations[:, parts["product_embedding"]] = self.single_env.product_embeddings[self.products[slots, slot]]
        list_price = self.list_prices[slots, slot]
        observations[:, parts["reference_gap"].start] = self.reference_prices[slots, customer, slot] / list_price - 1.0
        purchases, visits = self.purchases[slots, customer], self.visits[slots, customer]
        observations[:, parts["purchase_rate"].start] = (purchases + 1.0) / (visits + 2.0)
        observations[:, parts["visits_so_far"].start] = np.minimum(visits / self._expected_visits,
                                                                   SCALE_CAP)
        budget_left = np.zeros(self.num_envs)
        np.divide(self.budget_left, self.budget, out=budget_left, where=self.budget > 0)
        observations[:, parts["budget_left"].start] = budget_left
        observations[:, parts["window_left"].start] = self._window_left[step]
        observations[:, parts["time_left"].start] = self._time_left[step]
        observations[:, parts["list_price"].start] = self._list_price_feature[slots, slot]
        observations[:, parts["unit_cost_share"].start] = self._unit_cost_feature[slots, slot]
        observations[:, parts["market"]] = self._market_rows[step]
        observations[self.episode_state == NOT_STARTED] = 0.0
        return observations

    def policy_context(self) -> dict[str, np.ndarray]:
        """Per slot, what ``current_visit()`` returns (see the class docstring), as ``[B]`` arrays."""
        visit, customer, slot = self._current()
        slots = self._slots
        return {"customer": customer, "slot": slot, "customer_row": self.customer_rows[slots, customer],
                "product": self.products[slots, slot], "day": self._days[visit],
                "list_price": self.list_prices[slots, slot],
                "lowest_price": self.lowest_prices[slots, slot], "unit_cost": self.unit_costs[slots, slot],
                "reference_price": self.reference_prices[slots, customer, slot],
                "intercept": self.intercept[slots, visit], "slope": self.slope[slots, visit],
                "budget_left": self.budget_left.copy(), **self._constants(), **self.shared_context()}

    def _constants(self) -> dict[str, np.ndarray]:
        """The discount range and the memory's gain and loss, the same for every slot."""
        effect, batch = self.market.reference_effect, self.num_envs
        return {"max_discount": np.full(batch, self.config.max_discount), "gain": np.full(batch, effect.gain),
                "loss": np.full(batch, effect.loss)}


def _weighted_rows_without_replacement(weights: np.ndarray, batch: int, size: int,
                                       rng: np.random.Generator) -> np.ndarray:
    """``[batch, size]`` distinct indices per row, drawn successively with probability proportional to
    ``weights`` among those not yet drawn (the M smallest exponential keys ``E / weight``, in key order)."""
    with np.errstate(divide="ignore"):  # a weight of 0 is never drawn (an infinite key)
        keys = rng.standard_exponential((batch, weights.size)) / weights
    chosen = np.argpartition(keys, size - 1, axis=1)[:, :size] if size < weights.size \
        else np.broadcast_to(np.arange(weights.size), (batch, size))
    order = np.argsort(np.take_along_axis(keys, chosen, axis=1), axis=1)
    return np.take_along_axis(chosen, order, axis=1)
