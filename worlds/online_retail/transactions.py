"""Mapping the cleaned online-retail sales onto the pricegym transactions schema.

One transaction per invoice line (a sale), with the schema's columns
(:data:`pricegym.worlds.schema.TRANSACTION_COLUMNS`) and these extras:

``invoice_id``
    the invoice (order) the line belongs to;
``customer_type``
    ``registered`` (a CustomerID) or ``guest`` (none; pooled by country);
``country``
    the customer's country;
``quantity_tier``
    the order line's volume tier (:data:`QUANTITY_TIERS`), an ordered categorical: the shop's
    volume price breaks make price depend on it.

``competitor_price`` is NaN: the data record no rival prices.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pricegym.errors import DataError
from pricegym.worlds.online_retail.calendar_features import calendar_columns
from pricegym.worlds.online_retail.vectorised import take_text
from pricegym.worlds.schema import COLUMN_NAMES, validate_transactions

QUANTITY_TIERS: tuple[str, ...] = ("1", "2-5", "6-11", "12-23", "24+")
"""Volume tiers of an order line's quantity, lowest first."""

_TIER_EDGES: tuple[float, ...] = (0, 1, 5, 11, 23, np.inf)

EXTRA_COLUMNS: tuple[str, ...] = ("invoice_id", "customer_type", "country", "quantity_tier")
"""The columns online-retail transactions add to the schema's."""


def quantity_tier(quantity: pd.Series) -> pd.Series:
    """The ordered :data:`QUANTITY_TIERS` category of each positive quantity."""
    tiers = pd.cut(quantity, bins=list(_TIER_EDGES), labels=list(QUANTITY_TIERS), right=True)
    return tiers.astype(pd.CategoricalDtype(list(QUANTITY_TIERS), ordered=True)).rename("quantity_tier")


def build_transactions(
    sales: pd.DataFrame, products: pd.DataFrame, customers: pd.DataFrame, source: object = "online retail"
) -> pd.DataFrame:
    """The validated transactions table of cleaned ``sales``.

    Args:
        sales: cleaned sales from :func:`~pricegym.worlds.online_retail.cleaning.clean_sales`.
        products: the catalogue (``product_id``, ``product_text``, ``list_price``, ``unit_cost``).
        customers: the profiles (``customer_id``, ``customer_text``).
        source: named by a :class:`~pricegym.errors.DataError` if validation fails.
    """
    product = pd.Categorical(sales["product_id"], categories=products["product_id"]).codes
    customer = pd.Categorical(sales["customer_id"], categories=customers["customer_id"]).codes
    if (product < 0).any() or (customer < 0).any():
        raise DataError(source, "some sales name a product or customer missing from the catalogue or profiles")
    frame = pd.DataFrame(
        {
            "customer_id": sales["customer_id"],
            "customer_text": take_text(customers["customer_text"], customer).set_axis(sales.index),
            "product_id": sales["product_id"],
            "product_text": take_text(products["product_text"], product).set_axis(sales.index),
            "timestamp": sales["timestamp"],
            "list_price": products["list_price"].to_numpy(dtype=np.float64)[product],
            "unit_cost": products["unit_cost"].to_numpy(dtype=np.float64)[product],
            "price": sales["price"].to_numpy(dtype=np.float64),
            "quantity": sales["quantity"].to_numpy(dtype=np.int64),
        },
        index=sales.index,
    )
    frame = frame.join(calendar_columns(sales["timestamp"]))
    frame["competitor_price"] = np.nan
    frame["invoice_id"] = sales["invoice_id"]
    frame["customer_type"] = sales["customer_type"]
    frame["country"] = sales["country"]
    frame["quantity_tier"] = quantity_tier(sales["quantity"])
    return validate_transactions(frame[list(COLUMN_NAMES) + list(EXTRA_COLUMNS)], source).reset_index(drop=True)
