"""A pricing policy served from a table: ``price = list_price * ratio[row, product, bucket]``.

The supervised pricer's model is run once per (segment or customer type, product, context bucket)
and its price ratios stored here; serving a price is then a vectorised gather, with no language
model. ``rows`` are segments (synthetic world) or customer types (online-retail);
``customer_rows`` maps the world's customers onto them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pricegym.agents.pricing_texts import ContextBuckets
from pricegym.errors import DataError
from pricegym.worlds.demand import MarketContext

TABLE_FILE = "pricing_table.npz"
TABLE_CARD = "pricing_table.json"


class TabulatedPricingPolicy:
    """Prices from a ``[rows, products, buckets]`` table of price / list price ratios.

    Args:
        ratios: ``[n_rows, n_products, n_buckets]`` positive price / list price ratios.
        list_prices: ``[n_products]``.
        buckets: the context buckets the last axis follows.
        row_ids, product_ids: what the first two axes are.
        customer_rows: per world customer, its table row (optional).
    """

    def __init__(self, ratios: np.ndarray, list_prices: np.ndarray, buckets: ContextBuckets,
                 row_ids: tuple[str, ...] = (), product_ids: tuple[str, ...] = (),
                 customer_rows: np.ndarray | None = None) -> None:
        self.ratios = np.ascontiguousarray(ratios, dtype=np.float64)
        self.list_prices = np.ascontiguousarray(list_prices, dtype=np.float64)
        if self.ratios.ndim != 3 or self.ratios.shape[1:] != (self.list_prices.size, buckets.count):
            raise ValueError(f"ratios {self.ratios.shape} and list prices {self.list_prices.shape} disagree with "
                             f"{buckets.count} context buckets; expected [rows, products, {buckets.count}] and "
                             "[products]")
        if not np.all(np.isfinite(self.ratios) & (self.ratios > 0)):
            raise ValueError("every price ratio must be finite and positive")
        self.buckets = buckets
        self.row_ids = tuple(row_ids)
        self.product_ids = tuple(product_ids)
        self.customer_rows = None if customer_rows is None else np.asarray(customer_rows, dtype=np.int64)
        self._prices = (self.ratios * self.list_prices[None, :, None]).ravel()

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.ratios.shape  # type: ignore[return-value]

    def price(self, rows: np.ndarray | int, products: np.ndarray | int, buckets: np.ndarray | int) -> np.ndarray:
        """The price for each (row, product, bucket); integer index arrays broadcast together."""
        _, n_products, n_buckets = self.ratios.shape
        flat = (np.asarray(rows) * n_products + np.asarray(products)) * n_buckets + np.asarray(buckets)
        return self._prices[flat]

    def price_in_context(self, rows: np.ndarray | int, products: np.ndarray | int,
                         context: MarketContext) -> np.ndarray:
        """The price for each (row, product) in a market context (its bucket is looked up)."""
        return self.price(rows, products, self.buckets.of_context(context))

    def price_for_customers(self, customers: np.ndarray | int, products: np.ndarray | int,
                            buckets: np.ndarray | int) -> np.ndarray:
        """The price for world customers (mapped to their table rows by ``customer_rows``)."""
        if self.customer_rows is None:
            raise ValueError("this table has no customer_rows; index it by table row with price()")
        return self.price(self.customer_rows[np.asarray(customers)], products, buckets)

    # -- persistence -------------------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write ``pricing_table.npz`` and ``pricing_table.json`` into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {"ratios": self.ratios, "list_prices": self.list_prices}
        if self.customer_rows is not None:
            arrays["customer_rows"] = self.customer_rows
        np.savez(directory / TABLE_FILE, **arrays)
        card = {"context_buckets": self.buckets.scheme, "bucket_texts": list(self.buckets.texts()),
                "row_ids": list(self.row_ids), "product_ids": list(self.product_ids)}
        (directory / TABLE_CARD).write_text(json.dumps(card, indent=1))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> TabulatedPricingPolicy:
        """Read a table written by :meth:`save`."""
        directory = Path(directory)
        try:
            with np.load(directory / TABLE_FILE) as arrays:
                ratios, list_prices = arrays["ratios"], arrays["list_prices"]
                customer_rows = arrays["customer_rows"] if "customer_rows" in arrays.files else None
            card = json.loads((directory / TABLE_CARD).read_text())
            buckets = ContextBuckets(card["context_buckets"])
            return cls(ratios, list_prices, buckets, tuple(card["row_ids"]), tuple(card["product_ids"]),
                       customer_rows)
        except (OSError, ValueError, KeyError) as error:
            problem = (f"holds no readable pricing table ({type(error).__name__}: {error}); expected {TABLE_FILE} "
                       f"and {TABLE_CARD} as written by `pricegym fit-pricer`")
            raise DataError(directory, problem) from error
