"""The demand panel's zero-sale days, the transactions' schema and the world on a tiny file."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pricegym.worlds.online_retail import OnlineRetailConfig, OnlineRetailWorld, load_online_retail
from pricegym.worlds.online_retail.transactions import QUANTITY_TIERS, quantity_tier
from pricegym.worlds.schema import COLUMN_NAMES, validate_transactions

DAY_1, DAY_2, DAY_3 = "2011-04-21 10:00:00", "2011-04-22 10:00:00", "2011-04-26 10:00:00"  # DAY_2: Good Friday


@pytest.fixture
def world(write_raw, make_sale) -> OnlineRetailWorld:
    """Product 85123A sells on trading days 1 and 3; 22633 sells on day 2 only."""
    s = make_sale
    rows = [
        s("550001", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 1, DAY_1, 2.0, 17850),
        s("550002", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 1, DAY_1, 3.0, 13047),
        s("550003", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 24, DAY_1, 1.5, 12583, "France"),
        s("550004", "22633", "HAND WARMER UNION JACK", 1, DAY_2, 1.0, 17850),
        s("550005", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 2, DAY_3, 2.2, 17850),
        s("550006", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 1, DAY_3, 4.0, "", "Germany"),
    ]
    config = OnlineRetailConfig(data_path=write_raw(rows, name="tiny.csv.gz"), cold_start_share=0.0)
    return load_online_retail(config)


def _cell(panel: pd.DataFrame, product: str, day: str, customer_type: str) -> pd.Series:
    rows = panel[(panel["product_id"] == product) & (panel["date"] == pd.Timestamp(day).normalize())
                 & (panel["customer_type"] == customer_type)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_panel_spans_each_product_from_first_to_last_sale(world: OnlineRetailWorld) -> None:
    panel = world.panel
    assert len(panel) == 8  # 85123A: 3 days x 2 types; 22633: 1 day x 2 types
    assert panel.groupby("product_id").size().to_dict() == {"22633": 2, "85123A": 6}
    assert panel["orders"].sum() == len(world.transactions)
    assert panel["units"].sum() == world.transactions["quantity"].sum()


def test_a_sale_day_takes_the_median_price_of_its_lowest_quantity_tier(world: OnlineRetailWorld) -> None:
    day_1 = _cell(world.panel, "85123A", DAY_1, "registered")
    assert (day_1["orders"], day_1["units"]) == (3, 26)
    assert day_1["price"] == pytest.approx(2.5)  # median of 2.0 and 3.0; the 24-unit line at 1.5 is ignored
    assert day_1["price_observed"] and day_1["price_source"] == "observed"
    assert day_1["price_tier"] == "1"


def test_a_day_without_sale_carries_the_last_price_forward(world: OnlineRetailWorld) -> None:
    day_2 = _cell(world.panel, "85123A", DAY_2, "registered")
    assert day_2["orders"] == 0 and day_2["units"] == 0
    assert day_2["price"] == pytest.approx(2.5)
    assert not day_2["price_observed"]
    assert day_2["price_source"] == "carried_forward"
    assert day_2["holiday"] and day_2["weekday"] == 4 and day_2["season"] == "spring"
    day_3 = _cell(world.panel, "85123A", DAY_3, "registered")
    assert (day_3["orders"], day_3["price"], day_3["price_tier"]) == (1, 2.2, "2-5")


def test_before_a_first_sale_the_price_is_the_flagged_list_price(world: OnlineRetailWorld) -> None:
    list_price = world.products.set_index("product_id").loc["85123A", "list_price"]
    assert list_price == pytest.approx(1.5)  # modal training price; ties go to the lowest
    for day in (DAY_1, DAY_2):
        guest = _cell(world.panel, "85123A", day, "guest")
        assert guest["orders"] == 0 and not guest["price_observed"]
        assert guest["price"] == pytest.approx(list_price)
        assert guest["price_source"] == "list_price"
        assert pd.isna(guest["price_tier"])
    assert _cell(world.panel, "85123A", DAY_3, "guest")["price"] == pytest.approx(4.0)


def test_transactions_follow_the_schema(world: OnlineRetailWorld) -> None:
    transactions = world.transactions
    validate_transactions(transactions, "tiny")
    assert list(transactions.columns[: len(COLUMN_NAMES)]) == list(COLUMN_NAMES)
    assert {"invoice_id", "customer_type", "country", "quantity_tier"} <= set(transactions.columns)
    assert transactions["competitor_price"].isna().all()
    assert transactions.loc[transactions["timestamp"] == pd.Timestamp(DAY_2), "holiday"].tolist() == [True]
    assert not transactions.loc[transactions["timestamp"] != pd.Timestamp(DAY_2), "holiday"].any()
    assert set(transactions["customer_id"]) == {"17850", "13047", "12583", "guest-Germany"}
    row = transactions[transactions["invoice_id"] == "550003"].iloc[0]
    assert row["product_text"] == "White hanging heart t-light holder"
    assert row["quantity_tier"] == "24+" and row["unit_cost"] == pytest.approx(0.6 * row["list_price"])


def test_quantity_tiers() -> None:
    tiers = quantity_tier(pd.Series([1, 2, 5, 6, 11, 12, 23, 24, 480]))
    assert tiers.tolist() == ["1", "2-5", "2-5", "6-11", "6-11", "12-23", "12-23", "24+", "24+"]
    assert list(tiers.cat.categories) == list(QUANTITY_TIERS) and tiers.cat.ordered


def test_world_surface_and_summary(world: OnlineRetailWorld) -> None:
    assert (world.name, world.response, world.ground_truth) == ("online-retail", "expected_quantity", None)
    assert set(world.splits.assign(world.panel)) <= {"train", "validation", "test"}
    summary = world.summary()
    assert summary["rows"] == 6 and summary["registered customers"] == 3
    assert summary["guest types (by country)"] == 1
    assert summary["panel cells with zero orders"] == "50.0%"
    assert summary["transactions rows per split"].startswith("train 4,")
    assert math.isfinite(summary["within-product price range (max - min) / median, median"])
    assert np.isclose(world.price_ranges.set_index("product_id").loc["85123A", "max_price"], 3.0)
