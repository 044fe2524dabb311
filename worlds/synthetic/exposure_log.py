"""Simulate the synthetic world's transaction log: exposures at logged prices, and purchases.

Each exposure is one customer seeing one product on one day at one price:

1. the day is uniform over the calendar, the time within the day uniform over shopping hours;
2. the customer is drawn in proportion to their ``activity``;
3. the product is drawn by the customer's segment: proportional to a product popularity, three
   times more likely in the segment's favourite category;
4. the price comes from the incumbent policy, or (with probability ``exploration_share``) is
   uniform in ``exploration_price_range`` x list price; ``price_source`` records which;
5. the customer buys one unit when a uniform draw falls below the true purchase probability,
   given the customer's reference price for that product, which then moves toward the price seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pricegym.worlds.demand import ReferencePriceEffect
from pricegym.worlds.synthetic.config import SyntheticWorldConfig
from pricegym.worlds.synthetic.ground_truth import GroundTruthDemand
from pricegym.worlds.synthetic.incumbent import IncumbentPricingPolicy
from pricegym.worlds.synthetic.market import Calendar, context_on_days

FAVOURITE_CATEGORY_WEIGHT = 3.0
SHOPPING_HOURS = (8, 23)


@dataclass(frozen=True)
class WorldParts:
    """What the log is simulated from (built by :class:`~pricegym.worlds.synthetic.world.SyntheticWorld`)."""

    products: pd.DataFrame
    segments: pd.DataFrame
    customers: pd.DataFrame
    calendar: Calendar
    competitor_prices: np.ndarray  # [day, product]
    ground_truth: GroundTruthDemand
    incumbent: IncumbentPricingPolicy


def simulate_exposure_log(config: SyntheticWorldConfig, parts: WorldParts, rng: np.random.Generator) -> pd.DataFrame:
    """The logged transactions (schema columns plus ``customer_segment``, ``product_category``,
    ``price_source``), in time order."""
    n = config.n_exposures
    day, timestamp = _exposure_times(parts.calendar, n, rng)
    customer = rng.choice(len(parts.customers), size=n, p=_normalised(parts.customers["activity"].to_numpy()))
    segment = parts.customers["segment_index"].to_numpy()[customer]
    product = _products_seen(segment, parts, rng)
    category = parts.products["category_index"].to_numpy()[product]
    price, explored = _logged_prices(config, parts, segment, category, product, rng)
    reference_price = _reference_prices_seen(customer, product, price, parts, config.reference_effect)
    context = context_on_days(parts.calendar, day, parts.competitor_prices[day, product])
    purchase_probability = parts.ground_truth.demand(customer, product, price, context, reference_price)
    bought = rng.random(n) < purchase_probability
    return _as_transactions(parts, customer, product, timestamp, day, price, bought, explored)


def _exposure_times(calendar: Calendar, n: int, rng: np.random.Generator) -> tuple[np.ndarray, pd.DatetimeIndex]:
    day = rng.integers(len(calendar.dates), size=n)
    seconds = rng.integers(SHOPPING_HOURS[0] * 3600, SHOPPING_HOURS[1] * 3600, size=n)
    order = np.lexsort((seconds, day))
    day, seconds = day[order], seconds[order]
    return day, calendar.dates[day] + pd.to_timedelta(seconds, unit="s")


def _normalised(weights: np.ndarray) -> np.ndarray:
    return weights / weights.sum()


def _products_seen(segment: np.ndarray, parts: WorldParts, rng: np.random.Generator) -> np.ndarray:
    popularity = rng.lognormal(0.0, 0.5, len(parts.products))
    category = parts.products["category_index"].to_numpy()
    favourite = parts.segments["favourite_category_index"].to_numpy()
    product = np.empty(segment.size, dtype=np.int64)
    for segment_index in range(len(parts.segments)):
        rows = np.flatnonzero(segment == segment_index)
        weights = popularity * np.where(category == favourite[segment_index], FAVOURITE_CATEGORY_WEIGHT, 1.0)
        product[rows] = rng.choice(len(parts.products), size=rows.size, p=_normalised(weights))
    return product


def _logged_prices(config, parts, segment, category, product, rng) -> tuple[np.ndarray, np.ndarray]:
    list_price = parts.products["list_price"].to_numpy()[product]
    unit_cost = parts.products["unit_cost"].to_numpy()[product]
    incumbent_price = parts.incumbent.prices(segment, category, unit_cost, rng)
    low, high = config.exploration_price_range
    exploration_price = np.round(list_price * rng.uniform(low, high, product.size), 2)
    explored = rng.random(product.size) < config.exploration_share
    return np.maximum(np.where(explored, exploration_price, incumbent_price), 0.01), explored


def _reference_prices_seen(
    customer: np.ndarray, product: np.ndarray, price: np.ndarray, parts: WorldParts, effect: ReferencePriceEffect
) -> np.ndarray:
    """Each customer's reference price for the product at the moment of each exposure (in time order).

    Memory starts at the list price and moves by ``r <- theta * r + (1 - theta) * price`` after
    each exposure of that customer to that product.
    """
    list_price = parts.products["list_price"].to_numpy(float)
    memory: dict[tuple[int, int], float] = {}
    reference = np.empty(price.size)
    for row, (who, what, seen) in enumerate(zip(customer.tolist(), product.tolist(), price.tolist(), strict=True)):
        remembered = memory.get((who, what), list_price[what])
        reference[row] = remembered
        memory[(who, what)] = effect.theta * remembered + (1.0 - effect.theta) * seen
    return reference


def _as_transactions(parts, customer, product, timestamp, day, price, bought, explored) -> pd.DataFrame:
    products, customers, calendar = parts.products, parts.customers, parts.calendar
    return pd.DataFrame({
        "customer_id": customers["customer_id"].to_numpy()[customer],
        "customer_text": customers["customer_text"].to_numpy()[customer],
        "product_id": products["product_id"].to_numpy()[product],
        "product_text": products["product_text"].to_numpy()[product],
        "timestamp": timestamp,
        "list_price": products["list_price"].to_numpy(float)[product],
        "unit_cost": products["unit_cost"].to_numpy(float)[product],
        "price": price,
        "quantity": bought.astype(np.int64),
        "weekday": calendar.weekday[day].astype(np.int64),
        "season": calendar.season_names[day],
        "holiday": calendar.holiday[day],
        "competitor_price": parts.competitor_prices[day, product].astype(float),
        "customer_segment": customers["segment"].to_numpy()[customer],
        "product_category": products["category"].to_numpy()[product],
        "price_source": np.where(explored, "exploration", "incumbent"),
    })
