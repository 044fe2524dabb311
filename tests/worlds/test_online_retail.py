"""The online-retail world loaded end to end from the shared real file ``online_retail.csv.gz``.

The unit tests of each module live in ``tests/worlds/online_retail/``; this file checks the
measured facts of the real data set. Without the shared file it skips, except under CI
(``CI`` set), where the file must be present.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest

from pricegym.worlds.online_retail import OnlineRetailConfig, OnlineRetailWorld, load_online_retail
from pricegym.worlds.schema import validate_transactions

SHARED_FILE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "online_retail.csv.gz"


@pytest.fixture(scope="module")
def timed_world() -> tuple[OnlineRetailWorld, float]:
    """The real world, loaded once for this module, and the seconds its loading took."""
    if not SHARED_FILE.is_file():
        message = f"the shared data file {SHARED_FILE} is missing"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    started = time.perf_counter()
    loaded = load_online_retail(OnlineRetailConfig(data_path=SHARED_FILE))
    return loaded, time.perf_counter() - started


@pytest.fixture(scope="module")
def world(timed_world: tuple[OnlineRetailWorld, float]) -> OnlineRetailWorld:
    """The real world."""
    return timed_world[0]


def test_cleaning_keeps_the_measured_sales(world: OnlineRetailWorld) -> None:
    assert world.removed_rows == {
        "cancellation": 9_288,
        "non-positive quantity": 1_336,
        "non-positive price": 1_181,
        "non-product code": 2_462,
        "missing description": 0,
    }
    assert sum(world.removed_rows.values()) + len(world.transactions) == 541_909
    assert len(world.transactions) == 527_642
    assert int(world.transactions["quantity"].sum()) == 5_576_912


def test_products_and_customers(world: OnlineRetailWorld) -> None:
    assert len(world.products) == world.transactions["product_id"].nunique() == 3_788
    kinds = world.customers["customer_type"].value_counts().to_dict()
    assert kinds == {"registered": 4_334, "guest": 9}
    assert world.transactions["country"].nunique() == 38
    catalogue = world.products.set_index("product_id")
    assert catalogue.loc["85123A", "product_text"] == "White hanging heart t-light holder"
    assert (world.products["unit_cost"] == 0.6 * world.products["list_price"]).all()


def test_transactions_are_valid(world: OnlineRetailWorld) -> None:
    validate_transactions(world.transactions, SHARED_FILE)
    guests = world.transactions["customer_type"] == "guest"
    assert int(guests.sum()) == 131_387
    assert world.transactions.loc[guests, "customer_id"].str.startswith("guest-").all()


def test_panel_has_zero_order_days_and_adds_up(world: OnlineRetailWorld) -> None:
    panel = world.panel
    assert len(panel) == 1_715_482
    assert panel["date"].nunique() == 305
    zeros = panel["orders"] == 0
    assert 0.75 < zeros.mean() < 0.9
    assert not panel.loc[zeros, "price_observed"].any() and panel.loc[~zeros, "price_observed"].all()
    assert int(panel["orders"].sum()) == len(world.transactions)
    assert int(panel["units"].sum()) == int(world.transactions["quantity"].sum())
    assert panel["price"].gt(0).all()
    assert set(panel["price_source"].unique()) == {"observed", "carried_forward", "list_price"}


def test_splits_and_price_ranges(world: OnlineRetailWorld) -> None:
    assert world.splits.validation_start == pd.Timestamp("2011-08-19 13:54:48")
    assert world.splits.assign(world.transactions).value_counts().to_dict() == {
        "train": 238_167, "test": 113_152, "cold_start_test": 104_847, "validation": 71_476,
    }
    ranges = world.price_ranges
    assert len(ranges) == 3_788
    assert (ranges["min_price"] <= ranges["median_price"]).all()
    assert (ranges["median_price"] <= ranges["max_price"]).all()


def test_profiles_do_not_leak_after_the_cut_off(world: OnlineRetailWorld) -> None:
    transactions = world.transactions
    before = transactions["timestamp"] < world.splits.validation_start
    registered = transactions["customer_type"] == "registered"
    late_only = set(transactions.loc[registered, "customer_id"]) - set(transactions.loc[registered & before,
                                                                                         "customer_id"])
    texts = world.customers.set_index("customer_id")["customer_text"]
    assert len(late_only) > 100
    assert texts.loc[sorted(late_only)].str.contains("new: no purchases before 2011-08-19").all()


def test_summary(world: OnlineRetailWorld) -> None:
    # the loading time is a benchmark figure, not a test: `pricegym bench-speed --only world_load_s/online-retail`
    summary = world.summary()
    assert summary["rows"] == 527_642 and summary["registered customers"] == 4_334
    assert summary["panel cells with zero orders"].endswith("%")
