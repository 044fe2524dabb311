"""Bounds on the best possible margin of a PersonalizedDiscount-v0 episode.

Both bounds rest on one fact: prices never exceed the list price and every reference price starts
there, so reference prices never exceed the list price either; a customer's utility only grows
with their reference price, so setting every reference price to the list price (the most
favourable reachable memory) can only raise what any policy earns.

* :func:`hindsight_bound` (``upper_bound``; ``pricegym benchmark`` checks every row against it): computed on the
  episode's own random draws. Knowing each visit's uniform, a clairvoyant seller knows the highest
  price at which that visitor buys (their reservation price under the most favourable reference),
  so each visit is an item worth ``reservation - unit cost`` that costs ``list - reservation``
  of budget; the best selection per budget window is a knapsack, and its fractional (LP)
  relaxation, solved greedily, bounds it. It holds for every policy on every episode, not only in
  expectation, and it grants perfect knowledge of willingness to pay, so it is loose.
* :func:`expected_bound`: the Lagrangian relaxation of the budget for sellers who do not see the
  future. For every budget window and multiplier ``lambda >= 0``, the expected margin is at most
  ``lambda B + sum_visits max_p (p - c - lambda (L - p))+ q(p)``, where ``q`` is the purchase
  probability under the most favourable reference; the bound is its minimum over ``lambda``, per
  window (closed form per visit through the Wright omega function). It bounds expected margins, so
  it is compared with means over many episodes.

Both solve every budget window at once, so their cost grows with the episode's visits (a million
visits in single-visit windows take seconds). They take the environment as ``gym.make`` returns it
(or unwrapped) after ``reset()``; before it they raise :class:`~pricegym.errors.EnvStateError`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, wrightomega

from pricegym.envs.discount_config import ENV_NAME
from pricegym.envs.input_checks import episode_of
from pricegym.envs.oracle import OracleResult
from pricegym.envs.personalized_discount import PersonalizedDiscountEnv

HINDSIGHT_METHOD = ("hindsight: knapsack of each budget window's visits at their reservation prices under the "
                    "most favourable reference prices, fractional relaxation")
EXPECTED_METHOD = "Lagrangian relaxation of each window's budget, most favourable reference prices, expected margin"


def _visit_table(env) -> dict[str, np.ndarray]:
    """Per visit of the current episode: list price, unit cost, and the budget window it falls in."""
    config = env.config
    return {"list_price": env.list_prices[env.viewed], "unit_cost": env.unit_costs[env.viewed],
            "window": np.arange(config.horizon) // config.budget_window}


def reservation_shares(env) -> np.ndarray:
    """Each visit's reservation price / list price under the most favourable reference (the list price):
    the visitor buys at ``p <= list price`` iff ``p / list < 1 + threshold / (slope + gain)``."""
    env = episode_of(env, PersonalizedDiscountEnv, ENV_NAME, "reservation_shares()")
    return 1.0 + env.threshold / (env.slope + env.market.reference_effect.gain)


def hindsight_bound(env) -> OracleResult:
    """The clairvoyant bound on the episode's realised margin (call after ``env.reset``).

    Every budget window is solved at once (windows are rows of a ``[windows, budget_window]`` table), so
    the cost grows with the episode's visits, not with visits x windows.
    """
    env = episode_of(env, PersonalizedDiscountEnv, ENV_NAME, "hindsight_bound()")
    visits = _visit_table(env)
    list_price, unit_cost = visits["list_price"], visits["unit_cost"]
    share = reservation_shares(env)
    lowest_share = env.lowest_prices[env.viewed] / list_price
    at_list = share > 1.0
    price = np.where(at_list, list_price, share * list_price)
    value = np.where(share >= lowest_share, price - unit_cost, 0.0)
    cost = np.where(at_list, 0.0, list_price - price)
    worth = value > 0
    free = worth & (cost <= 0)
    paid = worth & ~free
    total = value[free].sum() + _fractional_knapsacks(np.where(paid, value, 0.0), np.where(paid, cost, 0.0),
                                                      env.config.budget_window, env.budget)
    return OracleResult("upper_bound", HINDSIGHT_METHOD, float(total), None)


def _fractional_knapsacks(value: np.ndarray, cost: np.ndarray, window: int, capacity: float) -> float:
    """The LP relaxations of the 0/1 knapsacks of consecutive windows of ``window`` items (items of zero
    cost are none): in each, take items by value per unit cost, the last one in part; the sum of their values."""
    padding = (-value.size) % window
    value = np.pad(value, (0, padding)).reshape(-1, window)
    cost = np.pad(cost, (0, padding)).reshape(-1, window)
    is_item = cost > 0
    ratio = np.where(is_item, value / np.where(is_item, cost, 1.0), -np.inf)  # non-items last
    order = np.argsort(-ratio, axis=1, kind="stable")
    value, cost = np.take_along_axis(value, order, axis=1), np.take_along_axis(cost, order, axis=1)
    spent = np.cumsum(cost, axis=1)
    before = np.concatenate([np.zeros((spent.shape[0], 1)), spent[:, :-1]], axis=1)  # spent before each item
    whole = spent <= capacity
    partial = ~whole & (before <= capacity) & (cost > 0)  # the first item that does not fit, in part
    room = capacity - before[partial]
    return float(value[whole].sum() + (value[partial] * room / cost[partial]).sum())


def expected_bound(env) -> OracleResult:
    """The Lagrangian bound on the episode's expected margin given its visitors (call after ``env.reset``).

    Each budget window's dual is convex in its multiplier; all windows are minimised together by a
    golden-section search on ``[0, MAX_MULTIPLIER]``. Every multiplier tried gives a valid bound, and each
    window keeps the lowest.
    """
    env = episode_of(env, PersonalizedDiscountEnv, ENV_NAME, "expected_bound()")
    visits = _visit_table(env)
    gain = env.market.reference_effect.gain
    index_at_list = env.intercept  # utility at list price; the gain term grows below it
    sensitivity = (env.slope + gain) / visits["list_price"]  # -d index / d price below the list price
    lowest = env.lowest_prices[env.viewed]
    window = visits["window"]
    n_windows = int(window[-1]) + 1

    def duals(multipliers: np.ndarray) -> np.ndarray:
        per_visit = _best_penalised_margin(index_at_list, sensitivity, visits["list_price"], visits["unit_cost"],
                                           lowest, multipliers[window])
        return multipliers * env.budget + np.bincount(window, weights=per_visit, minlength=n_windows)

    best = _golden_section_minimum(duals, n_windows, MAX_MULTIPLIER)
    return OracleResult("upper_bound", EXPECTED_METHOD, float(best.sum()), None)


MAX_MULTIPLIER = 20.0
"""The budget multipliers searched, ``[0, MAX_MULTIPLIER]`` (any multiplier >= 0 gives a valid bound)."""
GOLDEN_SECTION_STEPS = 60
"""Steps of the search: the interval shrinks to ``MAX_MULTIPLIER x 0.618**60``, about 6e-12."""


def _golden_section_minimum(function, size: int, high: float) -> np.ndarray:
    """The lowest value of a convex ``function`` (of ``size`` independent arguments at once) met while
    searching ``[0, high]`` by golden sections, its value at 0 included."""
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    low, upper = np.zeros(size), np.full(size, high)
    inner_low, inner_high = upper - ratio * (upper - low), low + ratio * (upper - low)
    value_low, value_high = function(inner_low), function(inner_high)
    best = np.minimum(function(low), np.minimum(value_low, value_high))
    for _ in range(GOLDEN_SECTION_STEPS):
        left = value_low <= value_high  # the minimum lies in [low, inner_high]
        low, upper = np.where(left, low, inner_low), np.where(left, inner_high, upper)
        probe = np.where(left, upper - ratio * (upper - low), low + ratio * (upper - low))
        value = function(probe)
        best = np.minimum(best, value)
        inner_low, inner_high, value_low, value_high = (
            np.where(left, probe, inner_high), np.where(left, inner_low, probe),
            np.where(left, value, value_high), np.where(left, value_low, value))
    return best


def _best_penalised_margin(index_at_list, sensitivity, list_price, unit_cost, lowest, multiplier) -> np.ndarray:
    """``max_{lowest <= p <= list} ((1 + m) p - c - m L)+ sigmoid(index_at_list + sensitivity (L - p))``.

    With ``c' = (c + m L) / (1 + m)`` it is ``(1 + m) (p - c')+`` times a logistic demand: single
    peaked in p, with the unconstrained peak in closed form; clipping it to the interval is optimal.
    """
    effective_cost = (unit_cost + multiplier * list_price) / (1.0 + multiplier)
    index_at_zero = index_at_list + sensitivity * list_price
    margin_index = index_at_zero - sensitivity * effective_cost - 1.0
    peak = effective_cost + (1.0 + wrightomega(margin_index).real) / sensitivity
    price = np.clip(peak, lowest, list_price)
    demand = expit(index_at_zero - sensitivity * price)
    return (1.0 + multiplier) * np.maximum(price - effective_cost, 0.0) * demand
