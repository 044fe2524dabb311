"""Bounds on the best possible margin of a PersonalizedDiscount-v0 episode.

Both bounds rest on one fact: prices never exceed the list price and every reference price starts
there, so reference prices never exceed the list price either; a customer's utility only grows
with their reference price, so setting every reference price to the list price (the most
favourable reachable memory) can only raise what any policy earns.

* :func:`hindsight_bound` (``upper_bound``, reported by the headroom tables): computed on the
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
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import expit, wrightomega

from pricegym.envs.oracle import OracleResult

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
    return 1.0 + env.threshold / (env.slope + env.market.reference_effect.gain)


def hindsight_bound(env) -> OracleResult:
    """The clairvoyant bound on the episode's realised margin (call after ``env.reset``)."""
    visits = _visit_table(env)
    list_price, unit_cost = visits["list_price"], visits["unit_cost"]
    share = reservation_shares(env)
    lowest_share = env.lowest_prices[env.viewed] / list_price
    at_list = share > 1.0
    price = np.where(at_list, list_price, share * list_price)
    value = np.where(share >= lowest_share, price - unit_cost, 0.0)
    cost = np.where(at_list, 0.0, list_price - price)
    total = 0.0
    for window in np.unique(visits["window"]):
        in_window = (visits["window"] == window) & (value > 0)
        free = in_window & (cost <= 0)
        total += value[free].sum() + _fractional_knapsack(value[in_window & ~free], cost[in_window & ~free],
                                                          env.budget)
    return OracleResult("upper_bound", HINDSIGHT_METHOD, float(total), None)


def _fractional_knapsack(value: np.ndarray, cost: np.ndarray, capacity: float) -> float:
    """The LP relaxation of the 0/1 knapsack: take items by value per unit cost, the last one in part."""
    order = np.argsort(-value / cost)
    value, cost = value[order], cost[order]
    spent = np.cumsum(cost)
    whole = spent <= capacity
    total = value[whole].sum()
    first_partial = int(np.count_nonzero(whole))
    if first_partial < value.size:
        room = capacity - (spent[first_partial - 1] if first_partial else 0.0)
        total += value[first_partial] * room / cost[first_partial]
    return float(total)


def expected_bound(env) -> OracleResult:
    """The Lagrangian bound on the episode's expected margin given its visitors (call after ``env.reset``)."""
    visits = _visit_table(env)
    gain = env.market.reference_effect.gain
    index_at_list = env.intercept  # utility at list price; the gain term grows below it
    sensitivity = (env.slope + gain) / visits["list_price"]  # -d index / d price below the list price
    lowest = env.lowest_prices[env.viewed]
    total = 0.0
    for window in np.unique(visits["window"]):
        rows = visits["window"] == window

        def dual(multiplier: float, rows=rows) -> float:
            return multiplier * env.budget + _best_penalised_margin(
                index_at_list[rows], sensitivity[rows], visits["list_price"][rows], visits["unit_cost"][rows],
                lowest[rows], multiplier).sum()

        best = minimize_scalar(dual, bounds=(0.0, 20.0), method="bounded", options={"xatol": 1e-7})
        total += min(best.fun, dual(0.0))
    return OracleResult("upper_bound", EXPECTED_METHOD, float(total), None)


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
