"""Timing simulated purchase decisions: the fitted model's tables against the world's closed-form truth.

A *decision* is one customer shown one product at one price in one market, with a reference price:
the purchase probability, then a uniform draw compared with it. :func:`decision_rows` draws the rows
once (customers, products, prices in 0.6-1.4 x list price, the day's market, reference prices in
0.8-1.2 x list price) and :func:`decisions_per_second` times a demand source on them, best of N.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pricegym.encoders.demand_tables import ContextWeights, DemandTables
from pricegym.errors import DataError
from pricegym.worlds.demand import DemandModel, MarketContext
from pricegym.worlds.synthetic import SyntheticWorld

TRUTH_TABLES_SOURCE = ("ground truth reduced to [customer, product] intercept/slope tables at a neutral market, "
                       "plus shared context weights (no fitted run given)")


@dataclass(frozen=True)
class DecisionRows:
    """Rows of customer x product x price x market with reference-price state."""

    customers: np.ndarray
    products: np.ndarray
    prices: np.ndarray
    context: MarketContext
    reference_prices: np.ndarray

    def __len__(self) -> int:
        return self.customers.size


def decision_rows(world: SyntheticWorld, n_rows: int, seed: int = 0) -> DecisionRows:
    """``n_rows`` random decisions in ``world`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    customers = rng.integers(len(world.customers), size=n_rows)
    products = rng.integers(len(world.products), size=n_rows)
    list_price = world.ground_truth.list_prices[products]
    days = rng.integers(len(world.calendar.dates), size=n_rows)
    context = MarketContext(weekday=world.calendar.weekday[days], season=world.calendar.season[days],
                            holiday=world.calendar.holiday[days],
                            competitor_price=world.competitor_prices[days, products])
    return DecisionRows(customers, products, np.round(list_price * rng.uniform(0.6, 1.4, n_rows), 2), context,
                        list_price * rng.uniform(0.8, 1.2, n_rows))


def decide(source: DemandModel, rows: DecisionRows, rng: np.random.Generator) -> np.ndarray:
    """Who buys: purchase probability from ``source``, then a uniform draw below it."""
    probability = source.demand(rows.customers, rows.products, rows.prices, rows.context, rows.reference_prices)
    return rng.random(len(rows)) < probability


def decisions_per_second(source: DemandModel, rows: DecisionRows, repeats: int, seed: int = 0) -> float:
    """Decisions per second of ``source`` on ``rows``: the best of ``repeats`` timed passes (one untimed first)."""
    rng = np.random.default_rng(seed)
    decide(source, rows, rng)
    best = np.inf
    for _ in range(repeats):
        started = time.perf_counter()
        decide(source, rows, rng)
        best = min(best, time.perf_counter() - started)
    return len(rows) / best


def truth_tables(world: SyntheticWorld) -> DemandTables:
    """Tables of the same shape as a fitted run's, from the ground truth (see :data:`TRUTH_TABLES_SOURCE`)."""
    truth = world.ground_truth
    customers, products = world.all_pairs()
    intercept, slope = truth.intercept_and_slope(customers, products, None)
    parameters = truth.parameters
    weights = ContextWeights(weekday=parameters.weekday_effect, season=parameters.season_effect.mean(axis=1),
                             holiday=parameters.holiday_effect,
                             competitor=float(parameters.competitor_weight[truth.customer_segment].mean()))
    return DemandTables(intercept=intercept, slope=np.broadcast_to(slope, intercept.shape),
                        list_prices=truth.list_prices, context_weights=weights, reference_effect=truth.reference_effect,
                        response="purchase_probability", product_ids=tuple(world.products["product_id"]))


def run_tables(directory: Path, world: SyntheticWorld) -> DemandTables:
    """A fitted run's tables, checked to be [customers, products] of ``world``."""
    tables = DemandTables.load(directory)
    expected = (len(world.customers), len(world.products))
    if tables.intercept.shape != expected or (tables.product_ids and
                                              tables.product_ids != tuple(world.products["product_id"])):
        raise DataError(directory, f"its demand tables are {list(tables.intercept.shape)} over other products, but "
                                   f"the default synthetic world has {list(expected)} customers x products; pass a "
                                   "run of `pricegym fit-demand --world synthetic` with default sizes and seed")
    return tables
