"""Cleaning rules of the online-retail world, each checked on a small hand-made raw file."""

from __future__ import annotations

import pandas as pd
import pytest

from pricegym.worlds.online_retail.cleaning import CLEANING_RULES, clean_sales, is_non_product_code
from pricegym.worlds.online_retail.reading import read_raw_transactions

T = "2011-03-01 10:00:00"


@pytest.fixture
def cleaned(write_raw, make_sale) -> tuple[pd.DataFrame, dict[str, int]]:
    """Sales and removal counts of a file holding each kind of row the rules must handle."""
    s = make_sale
    rows = [
        s("536365", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, T, 2.55, 17850),
        s("536366", " 85123a ", "WHITE HANGING HEART T-LIGHT HOLDER", 2, T, 2.55, 17850),  # same product
        s("C536367", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", -6, T, 2.55, 17850),  # cancellation
        s("C536368", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 1, T, 2.55, 17850),  # cancellation, qty > 0
        s("536369", "22633", "damaged", 0, T, 2.10, ""),  # zero quantity
        s("536370", "22633", "lost", -12, T, 2.10, ""),  # negative quantity, not a C invoice
        s("536371", "22633", "HAND WARMER UNION JACK", 3, T, 0.0, 12583, "France"),  # zero price
        s("A536372", "B", "Adjust bad debt", 1, T, -11062.06, ""),  # negative price and non-product
        s("536373", "POST", "POSTAGE", 1, T, 18.0, 12583, "France"),
        s("536374", "m", "Manual", 1, T, 0.85, 12583, "France"),
        s("536375", "BANK CHARGES", "Bank Charges", 1, T, 15.0, 12583, "France"),
        s("536376", "DCGS0003", "BOXED GLASS ASHTRAY", 1, T, 2.46, ""),
        s("536377", "gift_0001_10", "Dotcomgiftshop Gift Voucher £10.00", 1, T, 8.33, ""),
        s("536378", "C2", "CARRIAGE", 1, T, 50.0, 14911, "EIRE"),
        s("536379", "22633", "HAND WARMER UNION JACK", 12, T, 1.85, "", "Germany"),  # guest sale
        s("536380", "21730", "", 4, T, 4.25, "", "Germany"),  # description filled from the code
        s("536381", "21730", "GLASS STAR FROSTED T-LIGHT HOLDER", 1, T, 4.95, 13047),
        s("536382", "99999", "", 1, T, 1.0, 13047),  # no description anywhere: dropped
    ]
    return clean_sales(read_raw_transactions(write_raw(rows)), source="fixture")


def test_each_rule_removes_exactly_its_rows(cleaned: tuple[pd.DataFrame, dict[str, int]]) -> None:
    sales, removed = cleaned
    assert list(removed) == list(CLEANING_RULES)
    assert removed == {
        "cancellation": 2,
        "non-positive quantity": 2,
        "non-positive price": 2,
        "non-product code": 6,
        "missing description": 1,
    }
    assert sorted(sales["invoice_id"]) == ["536365", "536366", "536379", "536380", "536381"]


def test_stock_codes_are_normalised(cleaned: tuple[pd.DataFrame, dict[str, int]]) -> None:
    sales, _ = cleaned
    assert sorted(sales["product_id"].unique()) == ["21730", "22633", "85123A"]


def test_missing_description_is_filled_from_its_code(cleaned: tuple[pd.DataFrame, dict[str, int]]) -> None:
    sales, _ = cleaned
    filled = sales.loc[sales["invoice_id"] == "536380", "description"]
    assert filled.tolist() == ["GLASS STAR FROSTED T-LIGHT HOLDER"]


def test_guests_are_pooled_by_country(cleaned: tuple[pd.DataFrame, dict[str, int]]) -> None:
    sales, _ = cleaned
    guests = sales[sales["customer_type"] == "guest"]
    registered = sales[sales["customer_type"] == "registered"]
    assert set(guests["customer_id"]) == {"guest-Germany"}
    assert set(guests["invoice_id"]) == {"536379", "536380"}
    assert set(registered["customer_id"]) == {"17850", "13047"}


def test_non_product_codes() -> None:
    codes = pd.Series(["POST", "D", "M", "DOT", "CRUK", "AMAZONFEE", "PADS", "DCGSSBOY", "DCGS0070",
                       "GIFT_0001_20", "C2", "23444", "85123A", "22633", "15056BL", "84029G"])
    assert is_non_product_code(codes).tolist() == [True] * 12 + [False] * 4
