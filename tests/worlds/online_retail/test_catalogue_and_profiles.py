"""List prices, product texts and customer profiles use only what was known at the cut-off."""

from __future__ import annotations

import pandas as pd
import pytest

from pricegym.worlds.online_retail.catalogue import build_products, price_ranges, product_text
from pricegym.worlds.online_retail.cleaning import clean_sales
from pricegym.worlds.online_retail.profiles import build_customers
from pricegym.worlds.online_retail.reading import read_raw_transactions

CUT_OFF = pd.Timestamp("2011-06-01")
BEFORE, AFTER = "2011-05-02 10:00:00", "2011-07-04 11:00:00"


@pytest.fixture
def sales(write_raw, make_sale) -> pd.DataFrame:
    """Sales on both sides of :data:`CUT_OFF`, built so that leaks change the answers."""
    s = make_sale
    rows = [
        # 20725 sells mostly at 1.65 before the cut-off, mostly at 1.45 after it.
        s("540001", "20725", "LUNCH BAG RED RETROSPOT", 10, BEFORE, 1.65, 12345, "France"),
        s("540002", "20725", "LUNCH BAG RED RETROSPOT", 10, BEFORE, 1.65, 12346),
        s("540003", "20725", "LUNCH BAG  RED RETROSPOT ", 1, BEFORE, 1.45, 12346),
        s("560001", "20725", "LUNCH BAG RED RETROSPOT", 10, AFTER, 1.45, 12346),
        s("560002", "20725", "LUNCH BAG RED RETROSPOT", 10, AFTER, 1.45, 12346),
        s("560003", "20725", "LUNCH BAG RED RETROSPOT", 10, AFTER, 1.45, 12346),
        # 22086 is first sold after the cut-off, by customer 12345 and by a newcomer.
        s("560004", "22086", "PAPER CHAIN KIT 50'S CHRISTMAS", 12, AFTER, 2.95, 12345, "France"),
        s("560005", "22086", "PAPER CHAIN KIT 50'S CHRISTMAS", 12, AFTER, 2.55, 18000),
        s("560006", "22086", "PAPER CHAIN KIT 50'S CHRISTMAS", 12, AFTER, 2.55, 18000),
        s("540004", "20725", "LUNCH BAG RED RETROSPOT", 1, BEFORE, 3.29, "", "Germany"),
    ]
    cleaned, _ = clean_sales(read_raw_transactions(write_raw(rows)))
    return cleaned


def test_list_price_is_the_modal_training_window_price(sales: pd.DataFrame) -> None:
    products = build_products(sales, CUT_OFF, unit_cost_share=0.5).set_index("product_id")
    assert products.loc["20725", "list_price"] == pytest.approx(1.65)  # 1.45 over all rows
    assert products.loc["22086", "list_price"] == pytest.approx(2.55)  # never sold before the cut-off
    assert products.loc["20725", "unit_cost"] == pytest.approx(0.825)


def test_product_text_is_readable_sentence_case(sales: pd.DataFrame) -> None:
    products = build_products(sales, CUT_OFF, unit_cost_share=0.6).set_index("product_id")
    assert products.loc["20725", "product_text"] == "Lunch bag red retrospot"
    assert product_text(pd.Series(["*BOOMBOX IPOD CLASSIC"])).tolist() == ["Boombox ipod classic"]


def test_profiles_summarise_only_purchases_before_the_cut_off(sales: pd.DataFrame) -> None:
    products = build_products(sales, CUT_OFF, unit_cost_share=0.6)
    customers = build_customers(sales, CUT_OFF, products).set_index("customer_id")
    france = customers.loc["12345", "customer_text"]
    assert france.startswith("Registered customer from France")
    assert "1 order of 10 items" in france
    assert "lunch bag red retrospot" in france
    assert "paper chain" not in france  # bought after the cut-off
    regular = customers.loc["12346", "customer_text"]
    assert "2 orders of 11 items" in regular  # not 5 orders of 41 items


def test_newcomers_and_guests_get_their_own_profiles(sales: pd.DataFrame) -> None:
    products = build_products(sales, CUT_OFF, unit_cost_share=0.6)
    customers = build_customers(sales, CUT_OFF, products).set_index("customer_id")
    newcomer = customers.loc["18000", "customer_text"]
    assert "new: no purchases before 2011-06-01" in newcomer
    assert "paper chain" not in newcomer
    assert customers.loc["guest-Germany", "customer_text"] == "Guest shopper from Germany without an account."
    assert customers.loc["guest-Germany", "customer_type"] == "guest"
    assert customers.loc["12345", "country"] == "France"


def test_price_ranges_use_the_training_window(sales: pd.DataFrame) -> None:
    ranges = price_ranges(sales, CUT_OFF).set_index("product_id")
    assert ranges.loc["20725", ["min_price", "median_price", "max_price"]].tolist() == [1.45, 1.65, 3.29]
    assert ranges.loc["20725", "sales"] == 4
    assert ranges.loc["20725", "window"] == "train"
    assert ranges.loc["22086", ["min_price", "max_price", "window"]].tolist() == [2.55, 2.95, "all"]
