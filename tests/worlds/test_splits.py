"""Time and cold-start splits."""

from __future__ import annotations

import pytest

from pricegym.errors import ConfigError
from pricegym.worlds.splits import SPLIT_NAMES, make_splits


def test_time_split_orders_train_before_validation_before_test(tiny_world):
    frame = tiny_world.transactions
    split = tiny_world.splits.assign(frame)
    assert set(split.unique()) == set(SPLIT_NAMES)
    assert frame.loc[split == "train", "timestamp"].max() < frame.loc[split == "validation", "timestamp"].min()
    assert frame.loc[split == "validation", "timestamp"].max() < frame.loc[split == "test", "timestamp"].min()


def test_cold_start_products_never_appear_outside_the_cold_start_split(tiny_world):
    frame = tiny_world.transactions
    split = tiny_world.splits.assign(frame)
    cold = tiny_world.splits.cold_start_products
    assert len(cold) == round(tiny_world.config.cold_start_share * frame["product_id"].nunique())
    assert not frame.loc[split != "cold_start_test", "product_id"].isin(cold).any()
    assert frame.loc[split == "cold_start_test", "product_id"].isin(cold).all()


def test_rows_returns_one_split_and_refuses_unknown_names(tiny_world):
    rows = tiny_world.splits.rows(tiny_world.transactions, "validation")
    assert 0 < len(rows) < len(tiny_world.transactions)
    with pytest.raises(ConfigError, match="unknown split 'holdout'"):
        tiny_world.splits.rows(tiny_world.transactions, "holdout")


@pytest.mark.parametrize("options", [{"validation_share": 0.6, "test_share": 0.5}, {"cold_start_share": 1.0},
                                     {"test_share": -0.1}])
def test_impossible_shares_are_refused(tiny_world, options):
    with pytest.raises(ConfigError):
        make_splits(tiny_world.transactions, **options)
