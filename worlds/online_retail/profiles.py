"""Static text profiles of the online-retail customers, read by the language model.

One profile per registered customer and one per guest country. A registered customer's profile
summarises their purchases **before the training cut-off only** (``splits.validation_start``),
so that no validation or test purchase leaks into a feature::

    Registered customer from France, buying since December 2010. Before 2011-08-15 09:30 placed
    14 orders of 312 items, mostly lunch bag red retrospot, set/6 red spotty paper cups and
    round snack boxes set of4 woodland.

Customers first seen after the cut-off get a profile that says they are new; guests (checkouts
without a CustomerID, pooled by country) get ``"Guest shopper from Germany without an account."``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pricegym.worlds.online_retail.vectorised import most_common

TOP_PRODUCTS: int = 3
"""How many of a customer's most-bought products their profile names."""


def build_customers(sales: pd.DataFrame, validation_start: pd.Timestamp, products: pd.DataFrame) -> pd.DataFrame:
    """One row per customer: ``customer_id``, ``customer_text``, ``customer_type``, ``country``.

    Args:
        sales: cleaned sales (``customer_id``, ``customer_type``, ``country``, ``invoice_id``,
            ``product_id``, ``quantity``, ``timestamp``).
        validation_start: the training cut-off; only purchases before it are summarised.
        products: the catalogue (``product_id``, ``product_text``), whose texts name the top products.
    """
    who = sales.groupby("customer_id", sort=True)["customer_type"].first().to_frame()
    who["country"] = most_common(sales["customer_id"], sales["country"])
    names = products.set_index("product_id")["product_text"].str.lower()
    history = _purchase_history(sales[sales["timestamp"] < validation_start], names)
    who = who.join(history).rename_axis("customer_id").reset_index()
    cutoff = f"{validation_start:%Y-%m-%d %H:%M}"
    texts = [_profile_text(row, cutoff) for row in who.itertuples(index=False)]
    who["customer_text"] = pd.Series(texts, index=who.index, dtype=str)
    columns = ["customer_id", "customer_text", "customer_type", "country"]
    return who[columns].astype({name: str for name in columns})


def _purchase_history(training: pd.DataFrame, product_names: pd.Series) -> pd.DataFrame:
    """Orders, items, first purchase month and top products per customer, from ``training``."""
    registered = training[training["customer_type"] == "registered"]
    totals = registered.groupby("customer_id").agg(
        orders=("invoice_id", "nunique"), items=("quantity", "sum"), since=("timestamp", "min")
    )
    lines = (
        registered.groupby(["customer_id", "product_id"])
        .agg(lines=("quantity", "size"), units=("quantity", "sum"))
        .reset_index()
        .sort_values(["customer_id", "lines", "units", "product_id"], ascending=[True, False, False, True])
    )
    top = lines.groupby("customer_id").head(TOP_PRODUCTS)
    top = top.assign(rank=top.groupby("customer_id").cumcount(), name=top["product_id"].map(product_names))
    wide = top.pivot(index="customer_id", columns="rank", values="name").reindex(totals.index)
    totals["top_products"] = [
        [name for name in names if isinstance(name, str)] for names in wide.itertuples(index=False)
    ]
    return totals


def _profile_text(row: Any, cutoff: str) -> str:
    """The profile sentence(s) of one customer (a row of :func:`build_customers`' frame)."""
    if row.customer_type == "guest":
        return f"Guest shopper from {row.country} without an account."
    if pd.isna(row.orders):
        return f"Registered customer from {row.country}, new: no purchases before {cutoff}."
    orders, items = int(row.orders), int(row.items)
    return (
        f"Registered customer from {row.country}, buying since {row.since:%B %Y}. "
        f"Before {cutoff} placed {_count(orders, 'order')} of {_count(items, 'item')}, "
        f"mostly {_listing(row.top_products)}."
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _listing(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
