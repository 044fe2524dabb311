"""A world's rows for demand fitting: exposures (synthetic) or the demand panel (online retail).

Exposure worlds fit purchase probability on every logged exposure (outcome: bought or not).
Count worlds fit a Poisson rate per product x day x customer type on the demand panel (outcome:
order lines that day, zero-sale days included); each customer type reads as one short profile,
:data:`CUSTOMER_TYPE_PROFILES`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pricegym.encoders.demand_data import DemandData
from pricegym.errors import DataError
from pricegym.worlds import World

CUSTOMER_TYPE_PROFILES: dict[str, str] = {
    "registered": "registered customer with an account, often a retailer buying in bulk",
    "guest": "guest shopper without an account, buying small quantities",
}


@dataclass(frozen=True)
class WorldRows:
    """Everything the demand fit needs from a world.

    Attributes:
        data: every row, as arrays.
        split: the split name of every row.
        product_ids, list_prices: the table columns (one per product of the world).
        customer_ids, customer_rows: the table rows (world customers, or customer types) and the
            index of each one's text in ``data.customer_texts``.
        table_row: the table row (world customer or customer type) of every data row.
        observed_range: ``[n_products, 2]`` lowest and highest relative price in training rows
            (products never seen in training get the range of all training rows).
        timestamp: when every data row happened (None where unknown), for metrics by month.
    """

    data: DemandData
    split: np.ndarray
    product_ids: tuple[str, ...]
    list_prices: np.ndarray
    customer_ids: tuple[str, ...]
    customer_rows: np.ndarray
    table_row: np.ndarray
    observed_range: np.ndarray
    timestamp: np.ndarray | None = None

    def rows_of(self, split: str) -> DemandData:
        return self.data.take(np.flatnonzero(self.split == split))


def world_rows(world: World) -> WorldRows:
    """The exposure rows of an exposure world, or the panel rows of a count world."""
    if world.response == "purchase_probability":
        frame = world.transactions
        outcome = frame["quantity"].gt(0).to_numpy(float)
        customer_ids = tuple(world.customers["customer_id"])
        customer_text_of = world.customers["customer_text"]
        table_row = pd.Index(customer_ids).get_indexer(frame["customer_id"])
    else:
        frame = world.panel.assign(
            customer_text=world.panel["customer_type"].map(CUSTOMER_TYPE_PROFILES),
            competitor_price=np.nan,
        )
        outcome = frame["orders"].to_numpy(float)
        customer_ids = tuple(CUSTOMER_TYPE_PROFILES)
        customer_text_of = pd.Series(list(CUSTOMER_TYPE_PROFILES.values()))
        table_row = pd.Index(customer_ids).get_indexer(frame["customer_type"])
    _require_price_variation(frame, world.name)
    customer_texts = tuple(sorted(set(customer_text_of)))
    products = world.products
    data = DemandData.from_transactions(frame, outcome, customer_texts, tuple(products["product_id"]),
                                        tuple(products["product_text"]), source=world.name)
    split = world.splits.assign(frame).to_numpy()
    return WorldRows(
        data=data, split=split, product_ids=tuple(products["product_id"]),
        list_prices=products["list_price"].to_numpy(float), customer_ids=customer_ids,
        customer_rows=pd.Index(customer_texts).get_indexer(customer_text_of).astype(np.int64),
        table_row=np.asarray(table_row, dtype=np.int64),
        observed_range=_observed_range(data, split == "train", len(products)),
        timestamp=frame["timestamp"].to_numpy(),
    )


def _require_price_variation(frame: pd.DataFrame, source: str) -> None:
    relative = frame["price"] / frame["list_price"]
    if relative.std() < 1e-6 or frame.groupby("product_id")["price"].nunique().max() < 2:
        raise DataError(source, "prices never vary within a product, so price response cannot be learned; "
                                "log randomised prices (e.g. the synthetic world's exploration_share > 0)")


def _observed_range(data: DemandData, is_train: np.ndarray, n_products: int) -> np.ndarray:
    relative, product = data.relative_price[is_train], data.product[is_train]
    observed = np.tile([relative.min(), relative.max()], (n_products, 1)).astype(float)
    frame = pd.DataFrame({"product": product, "relative": relative}).groupby("product")["relative"]
    lows, highs = frame.min(), frame.max()
    observed[lows.index.to_numpy(), 0] = lows.to_numpy()
    observed[highs.index.to_numpy(), 1] = highs.to_numpy()
    return observed
