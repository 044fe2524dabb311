"""The pricer's parts: context buckets, input texts, the pricing table, the simpler regressors."""

from __future__ import annotations

import numpy as np
import pytest

from pricegym.agents.pricer_baselines import FrozenEmbeddingRidge, ProductMeanPrice, price_metrics
from pricegym.agents.pricer_training import PricerTrainingConfig
from pricegym.agents.pricing_rows import pricing_rows
from pricegym.agents.pricing_table import TabulatedPricingPolicy
from pricegym.agents.pricing_texts import ContextBuckets, compose_texts, product_parts
from pricegym.errors import ConfigError, DataError
from pricegym.worlds.demand import MarketContext


def test_buckets_number_every_context_once_and_name_it():
    buckets = ContextBuckets("weekday-season-holiday")
    weekday, season, holiday = np.meshgrid(np.arange(7), np.arange(4), [False, True], indexing="ij")
    index = buckets.index(weekday, season, holiday)
    assert buckets.count == 56 and sorted(index.ravel()) == list(range(56))
    assert buckets.texts()[int(buckets.index(5, 0, True))] == "Saturday, winter, holiday"
    assert ContextBuckets("season").texts() == ("winter", "spring", "summer", "autumn")
    assert ContextBuckets("none").count == 1 and ContextBuckets("none").texts() == ("any day",)
    assert ContextBuckets("season-holiday").of_context(MarketContext.neutral()) == 2  # spring, no holiday
    with pytest.raises(ConfigError, match="scheme must be one of"):
        ContextBuckets("hourly")


def test_texts_put_customer_market_then_product_and_state_costs_only_where_they_vary():
    parts = product_parts(["Oak board.", "Steel pan."], np.array([10.0, 20.0]), np.array([4.0, 11.0]))
    assert parts == ("Unit cost 40% of list price. Oak board.", "Unit cost 55% of list price. Steel pan.")
    assert product_parts(["Oak board."] * 2, np.array([10.0, 20.0]), np.array([6.0, 12.0])) == ("Oak board.",) * 2
    assert compose_texts(["student"], ["winter"], ["Oak board."]) == ["student [SEP] winter [SEP] Oak board."]


def test_rows_keep_only_incumbent_prices_and_group_them_by_text(tiny_world):
    rows = pricing_rows(tiny_world)
    incumbent = tiny_world.transactions["price_source"].eq("incumbent")
    assert rows.price.size == incumbent.sum()
    train = rows.rows_of("train")
    groups = rows.groups(train)
    assert groups.count.sum() == train.size
    assert np.average(groups.log_ratio, weights=groups.count) == pytest.approx(rows.log_ratio[train].mean())
    segment_of_text = {text: segment for text, segment in zip(tiny_world.customers["customer_text"],
                                                              tiny_world.customers["segment"], strict=True)}
    for row, text in enumerate(rows.table_row_texts):
        assert segment_of_text.get(rows.customer_texts[text], rows.table_row_ids[row]) == rows.table_row_ids[row]


def _policy() -> TabulatedPricingPolicy:
    ratios = np.arange(1, 25, dtype=float).reshape(2, 3, 4) / 10.0
    return TabulatedPricingPolicy(ratios, np.array([10.0, 20.0, 30.0]), ContextBuckets("season"), ("a", "b"),
                                  ("p0", "p1", "p2"), customer_rows=np.array([1, 0, 1]))


def test_the_table_gathers_ratio_times_list_price_and_round_trips(tmp_path):
    policy = _policy()
    rows, products, buckets = np.array([0, 1, 1]), np.array([2, 0, 1]), np.array([3, 1, 0])
    expected = policy.ratios[rows, products, buckets] * policy.list_prices[products]
    np.testing.assert_array_equal(policy.price(rows, products, buckets), expected)
    np.testing.assert_array_equal(policy.price_for_customers(np.array([1, 0, 2]), products, buckets), expected)
    winter = MarketContext(np.array(0), np.array(0), np.array(False), np.array(np.nan))
    assert policy.price_in_context(1, 2, winter) == pytest.approx(policy.ratios[1, 2, 0] * 30.0)
    loaded = TabulatedPricingPolicy.load(policy.save(tmp_path))
    np.testing.assert_array_equal(loaded.ratios, policy.ratios)
    assert loaded.row_ids == ("a", "b") and loaded.buckets == policy.buckets
    np.testing.assert_array_equal(loaded.customer_rows, policy.customer_rows)
    with pytest.raises(DataError, match="no readable pricing table"):
        TabulatedPricingPolicy.load(tmp_path / "nowhere")


def test_the_table_refuses_bad_ratios_and_shapes():
    with pytest.raises(ValueError, match="positive"):
        TabulatedPricingPolicy(np.zeros((1, 1, 4)), np.ones(1), ContextBuckets("season"))
    with pytest.raises(ValueError, match="disagree"):
        TabulatedPricingPolicy(np.ones((1, 1, 3)), np.ones(1), ContextBuckets("season"))


def test_ridge_recovers_a_linear_rule_and_product_mean_falls_back_to_the_global_mean():
    rng = np.random.default_rng(0)
    vectors, coefficients = rng.normal(size=(300, 5)), np.array([0.3, -0.2, 0.0, 0.1, 0.05])
    targets = vectors @ coefficients + 0.1
    ridge = FrozenEmbeddingRidge().fit(vectors[:200], targets[:200], np.ones(200), vectors[200:], targets[200:],
                                       np.ones(100))
    np.testing.assert_allclose(ridge.predict(vectors[200:]), targets[200:], atol=1e-3)
    mean = ProductMeanPrice().fit(np.array([0, 0, 1]), np.array([0.1, 0.3, -0.2]), n_products=3)
    np.testing.assert_allclose(mean.predict(np.array([0, 1, 2])), [0.2, -0.2, 0.2 / 3])


def test_price_metrics_are_on_the_price():
    metrics = price_metrics(np.log(np.array([1.1, 0.9])), np.array([10.0, 10.0]), np.array([10.0, 10.0]))
    assert metrics["rmse"] == pytest.approx(1.0) and metrics["mape_%"] == pytest.approx(10.0)


@pytest.mark.parametrize("field, value", [("epochs", 0), ("batch_size", -1), ("warmup_share", 1.0)])
def test_invalid_training_configs_are_refused(field, value):
    with pytest.raises(ConfigError, match=field):
        PricerTrainingConfig(**{field: value})
