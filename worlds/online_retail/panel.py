"""The online-retail demand panel: sales *and* the days without a sale.

The data record only sales, so a demand model fitted on them alone never sees a price at which
nobody bought. The panel adds those zeros: one row per product x trading day x customer type
(``registered``, ``guest``), from the product's first sale to its last, where *trading days* are
the dates on which the shop sold anything. Each row holds

``orders``
    the number of order lines that day (the count a Poisson model fits; 0 on a day without sale);
``units``
    the quantity sold that day;
``price`` and ``price_source``
    ``observed``: the median unit price paid that day among the cell's rows of its lowest quantity
    tier (a single small order is the closest thing to a shelf price); ``carried_forward``: on a
    day without sale, the last observed price of the same product and customer type;
    ``list_price``: before that product x customer type's first sale, the product's list price;
``price_observed``
    whether the cell had a sale that day;
``price_tier``
    the quantity tier whose rows set ``price`` (carried forward with it; missing for list prices);

plus ``list_price``, ``unit_cost``, ``weekday``, ``season``, ``holiday``, and ``date`` with an
equal ``timestamp`` so that :meth:`pricegym.worlds.splits.Splits.assign` applies.

Price endogeneity
-----------------
The raw price-quantity correlation in these data is not a demand curve. The shop gives volume
price breaks (an order line of 24 units is priced below one of 1 unit), so large quantities come
with low prices whatever the customers' price sensitivity; and guests (no CustomerID) pay more
than registered customers, who are often wholesalers buying in bulk. Regressing quantity on
price across rows therefore mixes price response with order size and customer type. The panel
limits this: it counts **order lines** (how many orders, not how many units, so a bulk order
counts once), **separately per customer type**, and takes the day's price from the **lowest
quantity tier** present, so that the price series of one product x customer type moves with
the shop's price changes rather than with order size. Price response is then to be learned from
*within-product, within-customer-type, within-quantity-tier variation over time*: product fixed
effects (or the product text) absorb quality and the level of demand, and the demand model
conditions on customer type and on the quantity tier (``price_tier`` here, ``quantity_tier`` in
the transactions). What remains (the shop changing prices in response to demand shocks it saw
and we do not) is not removed; estimates are best read as conditional associations.

Built with numpy on a dense product x trading-day x customer-type grid (a few million cells for
this data set); there is no Python loop over rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pricegym.worlds.online_retail.calendar_features import calendar_columns
from pricegym.worlds.online_retail.cleaning import CUSTOMER_TYPES
from pricegym.worlds.online_retail.transactions import QUANTITY_TIERS
from pricegym.worlds.online_retail.vectorised import take_text

PRICE_SOURCES: tuple[str, ...] = ("observed", "carried_forward", "list_price")
"""Where a panel row's price comes from (see the module docstring)."""


def trading_days(timestamps: pd.Series) -> pd.DatetimeIndex:
    """The sorted distinct dates (midnight) of ``timestamps``."""
    return pd.DatetimeIndex(timestamps.dt.normalize().unique()).sort_values()


def build_panel(transactions: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """The demand panel of a transactions table (see the module docstring).

    Args:
        transactions: the online-retail transactions (``product_id``, ``timestamp``,
            ``customer_type``, ``quantity``, ``price``, ``quantity_tier``).
        products: the catalogue (``product_id``, ``list_price``, ``unit_cost``) of every product
            in ``transactions``.

    Returns:
        One row per product x trading day x customer type in the product's selling span, sorted
        by product, date and customer type.
    """
    product_ids = products["product_id"].to_numpy()
    days = trading_days(transactions["timestamp"])
    n_products, n_days, n_types = product_ids.size, days.size, len(CUSTOMER_TYPES)
    product = pd.Categorical(transactions["product_id"], categories=product_ids).codes.astype(np.int64)
    day = days.searchsorted(transactions["timestamp"].dt.normalize().to_numpy())
    kind = pd.Categorical(transactions["customer_type"], categories=list(CUSTOMER_TYPES)).codes.astype(np.int64)
    cell = (product * n_days + day) * n_types + kind
    size = n_products * n_days * n_types
    orders = np.bincount(cell, minlength=size).reshape(n_products, n_days, n_types)
    units = np.bincount(cell, weights=transactions["quantity"].to_numpy(), minlength=size)
    cell_price, cell_tier = _lowest_tier_prices(cell, transactions, size)

    observed = orders > 0
    last_seen = np.where(observed, np.arange(n_days)[None, :, None], -1)
    last_seen = np.maximum.accumulate(last_seen, axis=1)
    seen_before = last_seen >= 0
    source_day = np.clip(last_seen, 0, None)
    price = np.take_along_axis(cell_price.reshape(orders.shape), source_day, axis=1)
    tier = np.take_along_axis(cell_tier.reshape(orders.shape), source_day, axis=1)
    list_price = products["list_price"].to_numpy(dtype=np.float64)
    price = np.where(seen_before, price, list_price[:, None, None])
    tier = np.where(seen_before, tier, -1)
    source = np.where(observed, 0, np.where(seen_before, 1, 2))

    sold_on_day = observed.any(axis=2)
    first = sold_on_day.argmax(axis=1)
    last = n_days - 1 - sold_on_day[:, ::-1].argmax(axis=1)
    in_span = (np.arange(n_days)[None, :] >= first[:, None]) & (np.arange(n_days)[None, :] <= last[:, None])
    in_span &= sold_on_day.any(axis=1)[:, None]
    rows = np.flatnonzero(np.broadcast_to(in_span[:, :, None], orders.shape))
    p_index, d_index, t_index = np.unravel_index(rows, orders.shape)

    dates = days[d_index]
    panel = pd.DataFrame(
        {
            "product_id": take_text(product_ids, p_index),
            "date": dates,
            "timestamp": dates,
            "customer_type": take_text(np.asarray(CUSTOMER_TYPES), t_index),
            "orders": orders.reshape(-1)[rows].astype(np.int64),
            "units": units[rows].astype(np.int64),
            "price": price.reshape(-1)[rows],
            "price_source": pd.Categorical.from_codes(source.reshape(-1)[rows], categories=list(PRICE_SOURCES)),
            "price_observed": observed.reshape(-1)[rows],
            "price_tier": pd.Categorical.from_codes(
                tier.reshape(-1)[rows], dtype=pd.CategoricalDtype(list(QUANTITY_TIERS), ordered=True)
            ),
            "list_price": list_price[p_index],
            "unit_cost": products["unit_cost"].to_numpy(dtype=np.float64)[p_index],
        }
    )
    day_columns = calendar_columns(pd.Series(days))
    for name in day_columns.columns:
        panel[name] = day_columns[name].array.take(d_index)
    return panel


def _lowest_tier_prices(cell: np.ndarray, transactions: pd.DataFrame, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per cell, the median price of its rows in the lowest quantity tier present, and that tier.

    Returns dense arrays of length ``size``: NaN price and tier -1 for cells without sale.
    """
    tier = transactions["quantity_tier"].cat.codes.to_numpy().astype(np.int64)
    lowest = np.full(size, len(QUANTITY_TIERS), dtype=np.int64)
    np.minimum.at(lowest, cell, tier)
    in_lowest = tier == lowest[cell]
    medians = pd.Series(transactions["price"].to_numpy()[in_lowest]).groupby(cell[in_lowest]).median()
    cell_price = np.full(size, np.nan)
    cell_price[medians.index.to_numpy()] = medians.to_numpy()
    cell_tier = np.where(lowest < len(QUANTITY_TIERS), lowest, -1)
    return cell_price, cell_tier
