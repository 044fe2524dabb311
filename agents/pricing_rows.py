"""A world's prices charged, as rows the supervised pricer learns from.

* **synthetic**: the exposures priced by the incumbent policy (``price_source == "incumbent"``),
  not the randomised exploration prices, which follow no rule. Customers read as their own
  profile; the pricing table has one row per segment.
* **online-retail**: the demand panel's cells with a sale (``price_observed``): one price per
  product x trading day x customer type, the median unit price of that day's **lowest quantity
  tier** (the closest thing to a shelf price; volume breaks would otherwise teach the model order
  size, not pricing). Customers read as their customer type's profile, and the pricing table has
  one row per customer type.

Every row is indexed by integers (customer text, table row, product, context bucket), so many rows
share one input text; :meth:`PricingRows.groups` reduces a split to its distinct texts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pricegym.agents.pricing_texts import ContextBuckets, compose_texts, product_parts
from pricegym.encoders.demand_rows import CUSTOMER_TYPE_PROFILES
from pricegym.errors import DataError
from pricegym.worlds import World


@dataclass(frozen=True)
class TextGroups:
    """The distinct input texts of some rows: their keys, row counts and mean log price ratio."""

    customer_text: np.ndarray
    product: np.ndarray
    bucket: np.ndarray
    count: np.ndarray
    log_ratio: np.ndarray

    def __len__(self) -> int:
        return self.count.size

    def take(self, chosen: np.ndarray) -> TextGroups:
        return TextGroups(self.customer_text[chosen], self.product[chosen], self.bucket[chosen],
                          self.count[chosen], self.log_ratio[chosen])


@dataclass(frozen=True)
class PricingRows:
    """Prices charged in a world (see the module docstring).

    Attributes:
        world: the world's name.
        buckets: how market contexts are grouped.
        customer_texts: the distinct customer parts of the input texts.
        product_texts: the product part of each product's input text (world catalogue order).
        product_ids, list_prices: the world's products.
        table_row_ids: the pricing table's rows (segments or customer types).
        table_row_texts: per table row, the index of the customer text that stands for it.
        customer_rows: per world customer (``world.customers`` order), its table row.
        customer_text, table_row, product, bucket, price, split: one entry per row.
    """

    world: str
    buckets: ContextBuckets
    customer_texts: tuple[str, ...]
    product_texts: tuple[str, ...]
    product_ids: tuple[str, ...]
    list_prices: np.ndarray
    table_row_ids: tuple[str, ...]
    table_row_texts: np.ndarray
    customer_rows: np.ndarray
    customer_text: np.ndarray
    table_row: np.ndarray
    product: np.ndarray
    bucket: np.ndarray
    price: np.ndarray
    split: np.ndarray

    @property
    def log_ratio(self) -> np.ndarray:
        """The regression target: ``log(price / list_price)`` of every row."""
        return np.log(self.price / self.list_prices[self.product])

    def rows_of(self, split: str) -> np.ndarray:
        """Row positions in ``split``."""
        return np.flatnonzero(self.split == split)

    def groups(self, rows: np.ndarray) -> TextGroups:
        """The distinct texts of ``rows``, with each one's row count and mean log price ratio."""
        keys, inverse, counts = np.unique(self._keys(rows), return_inverse=True, return_counts=True)
        total = np.bincount(inverse, weights=self.log_ratio[rows], minlength=keys.size)
        customer, product, bucket = self._unkey(keys)
        return TextGroups(customer, product, bucket, counts, total / counts)

    def texts(self, customer_text: np.ndarray, product: np.ndarray, bucket: np.ndarray,
              separator: str) -> list[str]:
        """The input texts of (customer text, product, bucket) index arrays."""
        contexts = self.buckets.texts()
        return compose_texts([self.customer_texts[i] for i in customer_text], [contexts[b] for b in bucket],
                             [self.product_texts[j] for j in product], separator)

    def table_texts(self, separator: str) -> list[str]:
        """Every (table row, product, bucket) text, in the table's C order."""
        rows, products, buckets = np.meshgrid(np.arange(len(self.table_row_ids)), np.arange(len(self.product_ids)),
                                              np.arange(self.buckets.count), indexing="ij")
        return self.texts(self.table_row_texts[rows.ravel()], products.ravel(), buckets.ravel(), separator)

    def corpus(self) -> list[str]:
        """Every text part, for building a tiny tokenizer's vocabulary."""
        return [*self.customer_texts, *self.product_texts, *self.buckets.texts()]

    def _keys(self, rows: np.ndarray) -> np.ndarray:
        n_products, n_buckets = len(self.product_ids), self.buckets.count
        return (self.customer_text[rows] * n_products + self.product[rows]) * n_buckets + self.bucket[rows]

    def _unkey(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rest, bucket = np.divmod(keys, self.buckets.count)
        customer, product = np.divmod(rest, len(self.product_ids))
        return customer, product, bucket


def pricing_rows(world: World, buckets: ContextBuckets | None = None, state_unit_cost: bool = True) -> PricingRows:
    """The prices charged in ``world`` (see the module docstring).

    Raises:
        DataError: for a world without such rows, or whose prices never vary (nothing to learn).
    """
    buckets = buckets or ContextBuckets()
    if "price_source" in world.transactions.columns:
        parts = _incumbent_rows(world)
    elif hasattr(world, "panel"):
        parts = _panel_rows(world)
    else:
        raise DataError(world.name, "holds neither incumbent-priced exposures (a price_source column) nor a "
                                    "demand panel; the supervised pricer supports the synthetic and online-retail "
                                    "worlds")
    frame, customer_text, table_row_ids, table_row, customer_rows = parts
    products = world.products
    product = pd.Index(products["product_id"]).get_indexer(frame["product_id"]).astype(np.int64)
    customer_texts = tuple(sorted(set(customer_text)))
    text_index = pd.Index(customer_texts).get_indexer(customer_text).astype(np.int64)
    rows = PricingRows(
        world=world.name, buckets=buckets, customer_texts=customer_texts,
        product_texts=product_parts(products["product_text"], products["list_price"].to_numpy(float),
                                    products["unit_cost"].to_numpy(float), state_unit_cost),
        product_ids=tuple(products["product_id"]), list_prices=products["list_price"].to_numpy(float),
        table_row_ids=table_row_ids, table_row_texts=np.zeros(len(table_row_ids), np.int64),
        customer_rows=customer_rows, customer_text=text_index, table_row=table_row, product=product,
        bucket=buckets.of_frame(frame), price=frame["price"].to_numpy(float),
        split=world.splits.assign(frame).to_numpy(),
    )
    _require_price_variation(rows)
    return _with_table_row_texts(rows, world)


def _incumbent_rows(world: World):
    frame = world.transactions[world.transactions["price_source"] == "incumbent"]
    if frame.empty:
        raise DataError(world.name, "holds no incumbent-priced exposures (price_source == 'incumbent'); "
                                    "the pricer learns the incumbent's prices: use exploration_share < 1")
    segments = world.segments["segment"]
    table_row = pd.Index(segments).get_indexer(frame["customer_segment"]).astype(np.int64)
    customer_rows = world.customers["segment_index"].to_numpy(np.int64)
    return frame, frame["customer_text"].to_numpy(), tuple(segments), table_row, customer_rows


def _panel_rows(world: World):
    panel = world.panel[world.panel["price_observed"]]
    if panel.empty:
        raise DataError(world.name, "its demand panel holds no observed price; expected days with sales")
    types = tuple(CUSTOMER_TYPE_PROFILES)
    frame = panel.assign(customer_text=panel["customer_type"].map(CUSTOMER_TYPE_PROFILES))
    table_row = pd.Index(types).get_indexer(frame["customer_type"]).astype(np.int64)
    customer_rows = pd.Index(types).get_indexer(world.customers["customer_type"]).astype(np.int64)
    return frame, frame["customer_text"].to_numpy(), types, table_row, customer_rows


def _require_price_variation(rows: PricingRows) -> None:
    train = rows.rows_of("train")
    if train.size == 0:
        raise DataError(rows.world, "no priced row falls in the training split; expected a log spanning time")
    spread = float(np.std(rows.log_ratio[train]))
    if spread < 1e-6:
        raise DataError(rows.world, f"every training price is the same multiple of its list price (spread of "
                                    f"log(price / list_price) {spread:.2g}), so there is no pricing rule to "
                                    "learn; expected prices that vary with customers, products or markets")


def _with_table_row_texts(rows: PricingRows, world: World) -> PricingRows:
    """Each table row's customer text: the commonest among its training rows (ties: the first in order),
    else among all its rows, else that of the world's first customer in it (added to ``customer_texts``)."""
    n_rows, n_texts = len(rows.table_row_ids), len(rows.customer_texts)
    chosen = np.full(n_rows, -1, dtype=np.int64)
    for rows_in in (rows.rows_of("train"), np.arange(rows.table_row.size)):
        counts = np.bincount(rows.table_row[rows_in] * n_texts + rows.customer_text[rows_in],
                             minlength=n_rows * n_texts).reshape(n_rows, n_texts)
        fill = (counts.sum(axis=1) > 0) & (chosen < 0)
        chosen[fill] = counts[fill].argmax(axis=1)
    texts = list(rows.customer_texts)
    for row in np.flatnonzero(chosen < 0):
        fallback = _first_customer_text(world, rows, row)
        if fallback not in texts:
            texts.append(fallback)
        chosen[row] = texts.index(fallback)
    return PricingRows(**{**rows.__dict__, "customer_texts": tuple(texts), "table_row_texts": chosen})


def _first_customer_text(world: World, rows: PricingRows, table_row: int) -> str:
    if rows.table_row_ids[table_row] in CUSTOMER_TYPE_PROFILES:
        return CUSTOMER_TYPE_PROFILES[rows.table_row_ids[table_row]]
    members = np.flatnonzero(rows.customer_rows == table_row)
    return str(world.customers["customer_text"].iloc[members[0]]) if members.size else rows.table_row_ids[table_row]
