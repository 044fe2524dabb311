"""The product catalogue of the online-retail world: text, list price, unit cost, price ranges.

The data hold no catalogue, so it is derived from the sales, using only what was known at the
training cut-off (``splits.validation_start``) wherever prices are concerned:

* ``product_text``: the stock code's most common description, in sentence case
  ("WHITE HANGING HEART T-LIGHT HOLDER" -> "White hanging heart t-light holder");
* ``list_price``: the product's modal unit price over its sales before the cut-off; for a product
  first sold after it, the modal price over all its sales (a new product's catalogue price is
  known when it is listed);
* ``unit_cost``: ``unit_cost_share * list_price`` (the data record no costs);
* :func:`price_ranges`: the min / median / max unit price paid before the cut-off, within which
  environments keep their prices.
"""

from __future__ import annotations

import pandas as pd

from pricegym.worlds.online_retail.vectorised import most_common


def product_text(description: pd.Series) -> pd.Series:
    """Readable sentence-case text of upper-case product descriptions, whitespace collapsed."""
    text = description.str.strip().str.lstrip("*").str.replace(r"\s+", " ", regex=True)
    return text.str[:1].str.upper() + text.str[1:].str.lower()


def modal_price(sales: pd.DataFrame, before: pd.Timestamp) -> pd.Series:
    """Each product's most common unit price before ``before``, else over all its sales.

    Ties go to the lower price. Indexed by ``product_id``, sorted.
    """
    training = sales[sales["timestamp"] < before]
    in_window = most_common(training["product_id"], training["price"])
    everywhere = most_common(sales["product_id"], sales["price"])
    prices = in_window.reindex(everywhere.index).fillna(everywhere)
    return prices.astype("float64").rename("list_price").rename_axis("product_id").sort_index()


def build_products(sales: pd.DataFrame, validation_start: pd.Timestamp, unit_cost_share: float) -> pd.DataFrame:
    """The catalogue: ``product_id``, ``product_text``, ``list_price``, ``unit_cost``, one row each.

    Args:
        sales: cleaned sales (``product_id``, ``description``, ``price``, ``timestamp``).
        validation_start: the training cut-off; list prices use sales before it.
        unit_cost_share: unit cost as a share of list price.
    """
    list_price = modal_price(sales, validation_start)
    description = most_common(sales["product_id"], sales["description"]).reindex(list_price.index)
    return pd.DataFrame(
        {
            "product_id": list_price.index.astype(str),
            "product_text": product_text(description).astype(str).to_numpy(),
            "list_price": list_price.to_numpy(),
            "unit_cost": unit_cost_share * list_price.to_numpy(),
        }
    )


def price_ranges(transactions: pd.DataFrame, validation_start: pd.Timestamp) -> pd.DataFrame:
    """Per product, the unit prices paid before the cut-off: min, median, max and count.

    Products first sold after the cut-off take the range over all their sales, and say so in
    ``window`` (``"train"`` or ``"all"``).

    Args:
        transactions: a table with ``product_id``, ``price`` and ``timestamp``.
        validation_start: the training cut-off.
    """
    training = transactions["timestamp"] < validation_start
    columns = {"min_price": "min", "median_price": "median", "max_price": "max", "sales": "size"}
    in_window = transactions[training].groupby("product_id")["price"].agg(list(columns.values()))
    everywhere = transactions.groupby("product_id")["price"].agg(list(columns.values()))
    outside = everywhere.index.difference(in_window.index)
    ranges = pd.concat([in_window.assign(window="train"), everywhere.loc[outside].assign(window="all")])
    ranges = ranges.rename(columns={value: key for key, value in columns.items()}).sort_index()
    ranges.index = ranges.index.astype(str)
    return ranges.rename_axis("product_id").reset_index().astype({"sales": "int64", "window": str})
