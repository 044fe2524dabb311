"""Cleaning the raw UCI Online Retail rows down to product sales.

The raw file (``online_retail.csv.gz``, read by :mod:`~pricegym.worlds.online_retail.reading`)
has one row per invoice line. Cleaning keeps the rows that are sales of a product, applying in order:

1. **cancellations**: ``InvoiceNo`` starting with ``C`` are returns or cancelled orders;
2. **non-positive quantity**: stock adjustments ("damaged", "lost", ...) recorded as sales;
3. **non-positive price**: free samples, write-offs and bad-debt adjustments;
4. **non-product codes** (:func:`is_non_product_code`): postage, carriage, fees, discounts,
   manual entries, samples, gift vouchers and other lines that are not products;
5. **missing description**: filled from the stock code's most common description among the
   remaining sales, dropped when the code has none.

Stock codes are stripped and upper-cased first (109 products appear under both ``85049A`` and
``85049a`` with the same description). Rows without ``CustomerID`` are guest checkouts: their
customer type is ``guest`` and their customer id ``guest-<Country>``; the others are
``registered`` with the CustomerID as id.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pricegym.errors import DataError
from pricegym.worlds.online_retail.vectorised import map_unique, most_common

NON_PRODUCT_CODES: frozenset[str] = frozenset(
    {
        "C2",  # CARRIAGE
        "22016",  # Dotcomgiftshop Gift Voucher £100.00
        "23444",  # Next Day Carriage
        "23702",  # High Resolution Image (a licence, not a good)
    }
)
"""Non-product stock codes that contain a digit; codes without any digit are all non-products
(POST, D, M, DOT, S, B, PADS, CRUK, AMAZONFEE, BANK CHARGES, DCGSSBOY, DCGSSGIRL...)."""

NON_PRODUCT_PREFIXES: tuple[str, ...] = ("DCGS", "GIFT_")
"""Prefixes of non-product codes: DCGS* (ad-hoc ebay listings), gift_* (gift vouchers)."""

CLEANING_RULES: tuple[str, ...] = (
    "cancellation",
    "non-positive quantity",
    "non-positive price",
    "non-product code",
    "missing description",
)
"""The cleaning rules in the order they apply; :func:`clean_sales` counts the rows each removes."""

CUSTOMER_TYPES: tuple[str, ...] = ("registered", "guest")
"""Registered customers have a CustomerID; guests checked out without one."""


def is_non_product_code(codes: pd.Series) -> pd.Series:
    """Whether each (stripped, upper-cased) stock code is a non-product line."""
    return (
        ~codes.str.contains(r"\d", regex=True)
        | codes.str.startswith(NON_PRODUCT_PREFIXES)
        | codes.isin(NON_PRODUCT_CODES)
    )


def normalise_code(codes: pd.Series) -> pd.Series:
    """Stock codes stripped and upper-cased."""
    return codes.str.strip().str.upper()


def normalise_description(descriptions: pd.Series) -> pd.Series:
    """Descriptions stripped, inner whitespace collapsed, blanks as missing."""
    cleaned = descriptions.str.strip().str.replace(r"\s+", " ", regex=True)
    return cleaned.where(cleaned.str.len() > 0)


def clean_sales(raw: pd.DataFrame, source: object = "online retail") -> tuple[pd.DataFrame, dict[str, int]]:
    """Keep the product sales of a raw frame from :func:`~pricegym.worlds.online_retail.reading.read_raw_transactions`.

    Returns:
        The sales, one row per invoice line, with columns ``invoice_id``, ``product_id``,
        ``description``, ``quantity``, ``price``, ``timestamp``, ``customer_id``, ``customer_type``
        and ``country``, sorted by time; and the number of rows each of :data:`CLEANING_RULES`
        removed.

    Raises:
        DataError: naming ``source`` when no sale is left.
    """
    codes = map_unique(raw["StockCode"], normalise_code)
    invoices = map_unique(raw["InvoiceNo"], lambda values: values.str.strip())
    rules = {
        "cancellation": invoices.str.upper().str.startswith("C").to_numpy(dtype=bool),
        "non-positive quantity": (raw["Quantity"] <= 0).to_numpy(),
        "non-positive price": (raw["UnitPrice"] <= 0).to_numpy(),
        "non-product code": map_unique(codes, is_non_product_code).to_numpy(dtype=bool),
    }
    keep = np.ones(len(raw), dtype=bool)
    removed: dict[str, int] = {}
    for rule, drops in rules.items():
        removed[rule] = int((keep & drops).sum())
        keep &= ~drops
    codes = codes[keep]
    descriptions = map_unique(raw["Description"][keep], normalise_description)
    descriptions = descriptions.fillna(codes.map(most_common(codes, descriptions)))
    filled = descriptions.notna().to_numpy()
    removed["missing description"] = int((~filled).sum())
    kept = raw[keep][filled]
    if kept.empty:
        raise DataError(
            source,
            f"no product sales left after cleaning (rows removed per rule: {removed}); "
            "expected invoice lines with positive quantity and price and a product stock code",
        )
    registered = kept["CustomerID"].notna()
    countries = map_unique(kept["Country"], lambda values: values.str.strip())
    customer_ids = map_unique(kept["CustomerID"], lambda ids: ids.astype("int64").astype(str))
    guest_ids = map_unique(countries, lambda names: "guest-" + names)
    sales = pd.DataFrame(
        {
            "invoice_id": invoices[keep][filled],
            "product_id": codes[filled],
            "description": descriptions[filled],
            "quantity": kept["Quantity"].astype("int64"),
            "price": kept["UnitPrice"].astype("float64"),
            "timestamp": kept["InvoiceDate"],
            "customer_id": customer_ids.where(registered, guest_ids),
            "customer_type": pd.Series(pd.array(list(CUSTOMER_TYPES), dtype=str).take(
                (~registered).to_numpy().astype(np.int64)), index=kept.index),
            "country": countries,
        }
    )
    return sales.sort_values("timestamp", kind="stable").reset_index(drop=True), removed
