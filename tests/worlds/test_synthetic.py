"""The synthetic world: schema, determinism, ground truth, incumbent prices, reference memory."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from pricegym.errors import ConfigError
from pricegym.worlds.demand import MarketContext, ReferencePriceEffect
from pricegym.worlds.schema import COLUMN_NAMES, validate_transactions
from pricegym.worlds.synthetic import SyntheticWorld, SyntheticWorldConfig
from pricegym.worlds.synthetic.exposure_log import _reference_prices_seen


def test_transactions_follow_the_schema(tiny_world):
    frame = validate_transactions(tiny_world.transactions)
    assert list(frame.columns[: len(COLUMN_NAMES)]) == list(COLUMN_NAMES)
    assert set(frame["quantity"].unique()) <= {0, 1}
    assert frame["timestamp"].is_monotonic_increasing
    assert "reference_price" not in frame.columns


def test_same_seed_same_world_and_other_seed_other_world(tiny_config):
    first, second = SyntheticWorld.build(tiny_config), SyntheticWorld.build(tiny_config)
    pd.testing.assert_frame_equal(first.transactions, second.transactions)
    other = SyntheticWorld.build(dataclasses.replace(tiny_config, seed=tiny_config.seed + 1))
    assert not other.transactions["price"].equals(first.transactions["price"])


def test_a_longer_log_keeps_the_same_catalogue_and_population(tiny_config):
    base = SyntheticWorld.build(tiny_config)
    longer = SyntheticWorld.build(dataclasses.replace(tiny_config, n_exposures=2 * tiny_config.n_exposures))
    pd.testing.assert_frame_equal(base.products, longer.products)
    pd.testing.assert_frame_equal(base.customers, longer.customers)


def test_the_demand_log_is_the_same_world_with_more_exposures_at_randomised_prices(tiny_config):
    from pricegym.worlds.registry import WorldConfig, demand_fit_world
    from pricegym.worlds.synthetic.config import DEMAND_LOG_EXPLORATION_SHARE, DEMAND_LOG_EXPOSURES, demand_log

    logged = demand_log(tiny_config)
    assert (logged.n_exposures, logged.exploration_share) == (DEMAND_LOG_EXPOSURES, DEMAND_LOG_EXPLORATION_SHARE)
    base, longer = SyntheticWorld.build(tiny_config), SyntheticWorld.build(logged)
    pd.testing.assert_frame_equal(base.products, longer.products)
    pd.testing.assert_frame_equal(base.customers, longer.customers)
    customers, products = np.arange(len(base.customers)), np.zeros(len(base.customers), dtype=int)
    for truth in (base.ground_truth, longer.ground_truth):  # the same true demand
        np.testing.assert_array_equal(truth.intercept_and_slope(customers, products, None)[1],
                                      base.ground_truth.intercept_and_slope(customers, products, None)[1])
    randomised = longer.transactions["price_source"].eq("exploration").mean()
    assert randomised == pytest.approx(DEMAND_LOG_EXPLORATION_SHARE, abs=0.01)
    bigger = dataclasses.replace(logged, n_exposures=DEMAND_LOG_EXPOSURES + 1, exploration_share=0.9)
    assert demand_log(bigger) == bigger  # a longer log or more exploration is kept
    assert demand_fit_world(WorldConfig(name="online-retail")) == WorldConfig(name="online-retail")


def test_product_text_names_the_attributes_that_drive_demand(tiny_world):
    for product in tiny_world.products.itertuples():
        assert product.brand in product.product_text
        assert product.category in product.product_text
        assert product.quality_tier in product.product_text
    profile = tiny_world.customers["customer_text"].iloc[0]
    assert profile.startswith(tuple(["price-sensitive", "value-seeking", "quality-focused"])) and " in " in profile


def test_true_demand_falls_in_price_for_every_customer_and_product(tiny_world):
    customers, products = tiny_world.all_pairs()
    list_price = tiny_world.ground_truth.list_prices[products]
    relative_prices = np.linspace(0.3, 3.0, 25)
    demand = np.stack([tiny_world.ground_truth.demand(customers, products, share * list_price)
                       for share in relative_prices])
    assert np.all(np.diff(demand, axis=0) < 0)


def test_true_revenue_optimum_is_interior_for_every_customer_and_product(tiny_world):
    truth = tiny_world.ground_truth
    customers, products = tiny_world.all_pairs()
    context = MarketContext.neutral()
    optimum = truth.optimal_price(customers, products, context)
    assert np.all(np.isfinite(optimum)) and np.all(optimum > 0)
    revenue = lambda price: price * truth.demand(customers, products, price, context)  # noqa: E731
    assert np.all(revenue(optimum) > revenue(0.9 * optimum))
    assert np.all(revenue(optimum) > revenue(1.1 * optimum))


def test_true_elasticities_are_negative_and_price_sensitive_segments_react_most(tiny_world):
    table = tiny_world.true_elasticity_table()
    assert (table.to_numpy()[~np.isnan(table.to_numpy())] < 0).all()
    medians = table.median(axis=1)
    assert medians["price-sensitive"] < medians["value-seeking"] < medians["quality-focused"]


def test_incumbent_prices_are_segment_by_category_cost_plus(tiny_world):
    frame = tiny_world.transactions
    incumbent = frame[frame["price_source"] == "incumbent"]
    segment = tiny_world.segments.set_index("segment").index.get_indexer(incumbent["customer_segment"])
    category = tiny_world.products.set_index("product_id").loc[incumbent["product_id"], "category_index"].to_numpy()
    mean_price = tiny_world.incumbent.mean_price(segment, category, incumbent["unit_cost"].to_numpy())
    log_noise = np.log(incumbent["price"].to_numpy() / mean_price)
    assert abs(log_noise.mean()) < 0.01
    assert log_noise.std() == pytest.approx(tiny_world.config.incumbent_price_noise, rel=0.15)


def test_exploration_prices_cover_the_configured_range(tiny_world):
    frame = tiny_world.transactions
    explored = frame[frame["price_source"] == "exploration"]
    share = len(explored) / len(frame)
    assert share == pytest.approx(tiny_world.config.exploration_share, abs=0.03)
    ratio = explored["price"] / explored["list_price"]
    low, high = tiny_world.config.exploration_price_range
    assert ratio.min() >= low - 0.01 and ratio.max() <= high + 0.01




def test_reference_prices_move_toward_each_price_seen(tiny_world):
    effect = ReferencePriceEffect(theta=0.6, gain=0.5, loss=1.0)
    customers, products = np.array([0, 0, 1, 0]), np.array([3, 3, 3, 4])
    prices = np.array([10.0, 30.0, 50.0, 7.0])
    seen = _reference_prices_seen(customers, products, prices, tiny_world.parts, effect)
    list_price = tiny_world.products["list_price"].to_numpy()
    assert seen[0] == pytest.approx(list_price[3])
    assert seen[1] == pytest.approx(0.6 * list_price[3] + 0.4 * 10.0)
    assert seen[2] == pytest.approx(list_price[3])  # another customer's memory is untouched
    assert seen[3] == pytest.approx(list_price[4])


@pytest.mark.parametrize("changes, message", [
    ({"n_products": -5}, "n_products"),
    ({"n_customers": 0}, "n_customers"),
    ({"n_exposures": 2.5}, "n_exposures"),
    ({"exploration_share": 1.5}, "exploration_share"),
    ({"exploration_price_range": (1.2, 0.8)}, "exploration_price_range"),
    ({"start_date": "yesterday-ish"}, "start_date"),
])
def test_invalid_configs_are_refused_with_the_parameter_named(changes, message):
    with pytest.raises(ConfigError, match=message):
        SyntheticWorldConfig(**changes)


def test_purchases_follow_the_true_probabilities():
    """Bought share per decile of true probability matches the decile's mean probability."""
    world = SyntheticWorld.build(SyntheticWorldConfig(seed=3, n_products=20, n_customers=80, n_exposures=20_000,
                                                      n_days=30, exploration_share=1.0))
    frame = world.transactions
    customer = world.customers.set_index("customer_id").index.get_indexer(frame["customer_id"])
    product = world.products.set_index("product_id").index.get_indexer(frame["product_id"])
    day = (frame["timestamp"].dt.normalize() - world.calendar.dates[0]).dt.days.to_numpy()
    context = MarketContext(world.calendar.weekday[day], world.calendar.season[day], world.calendar.holiday[day],
                            frame["competitor_price"].to_numpy())
    # recompute each row's memory as the log did, then compare outcomes with true probabilities
    reference = _reference_prices_seen(customer, product, frame["price"].to_numpy(), world.parts,
                                       world.config.reference_effect)
    probability = world.ground_truth.demand(customer, product, frame["price"].to_numpy(), context, reference)
    decile = pd.qcut(probability, 10, labels=False)
    observed = frame["quantity"].groupby(decile).mean().to_numpy()
    expected = pd.Series(probability).groupby(decile).mean().to_numpy()
    assert np.all(np.abs(observed - expected) < 0.03)
