"""The online-retail world: the UCI Online Retail transactions as a pricegym world.

:func:`load_online_retail` reads and cleans the raw file, cuts the splits, derives the catalogue
and customer profiles from what was known at the training cut-off, and builds the transactions
table and the demand panel. Its true demand is unknown (``ground_truth`` is None); what it
offers is real price variation, real customers and real product text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pricegym.config_checks import as_config
from pricegym.worlds.demand import DemandModel, Response
from pricegym.worlds.online_retail.catalogue import build_products, price_ranges
from pricegym.worlds.online_retail.cleaning import CUSTOMER_TYPES, clean_sales
from pricegym.worlds.online_retail.config import OnlineRetailConfig
from pricegym.worlds.online_retail.download import fetch_online_retail
from pricegym.worlds.online_retail.panel import build_panel
from pricegym.worlds.online_retail.profiles import build_customers
from pricegym.worlds.online_retail.reading import read_raw_transactions
from pricegym.worlds.online_retail.transactions import build_transactions
from pricegym.worlds.splits import SPLIT_NAMES, Splits, make_splits
from pricegym.worlds.summary import transactions_summary


@dataclass(eq=False)
class OnlineRetailWorld:
    """The UCI Online Retail data as a world (see :mod:`pricegym.worlds.online_retail`).

    Attributes:
        transactions: one validated row per sale (invoice line), with the extra columns
            ``invoice_id``, ``customer_type``, ``country`` and ``quantity_tier``.
        panel: product x trading day x customer type counts, zeros included
            (:mod:`pricegym.worlds.online_retail.panel`).
        splits: the time and cold-start splits, computed on the cleaned sales.
        price_ranges: per product, the unit prices paid in the training window.
        products: ``product_id``, ``product_text``, ``list_price``, ``unit_cost``.
        customers: ``customer_id``, ``customer_text``, ``customer_type``, ``country``.
        source: the file the world was read from.
        removed_rows: the rows each cleaning rule removed.
    """

    transactions: pd.DataFrame
    panel: pd.DataFrame
    splits: Splits
    price_ranges: pd.DataFrame
    products: pd.DataFrame
    customers: pd.DataFrame
    source: Path
    removed_rows: dict[str, int] = field(default_factory=dict)
    name: str = field(default="online-retail", init=False)
    response: Response = field(default="expected_quantity", init=False)

    @property
    def ground_truth(self) -> DemandModel | None:
        """None: the true demand of real customers is unknown."""
        return None

    def summary(self) -> dict[str, object]:
        """The shared transactions summary plus customers, panel, split and price-range facts."""
        summary = transactions_summary(self.transactions)
        summary["source"] = str(self.source)
        removed = self.removed_rows.items()
        summary["rows removed by cleaning"] = ", ".join(f"{rule} {count:,}" for rule, count in removed)
        kinds = self.customers["customer_type"]
        summary["registered customers"] = int((kinds == CUSTOMER_TYPES[0]).sum())
        summary["guest types (by country)"] = int((kinds == CUSTOMER_TYPES[1]).sum())
        summary["countries"] = int(self.transactions["country"].nunique())
        panel = self.panel
        n_days = int(panel["date"].nunique())
        summary["panel rows"] = (
            f"{len(panel):,} ({panel['product_id'].nunique():,} products x up to {n_days} trading days "
            f"x {panel['customer_type'].nunique()} customer types)"
        )
        summary["panel cells with zero orders"] = f"{float((panel['orders'] == 0).mean()):.1%}"
        for table_name, table in (("transactions", self.transactions), ("panel", panel)):
            counts = self.splits.assign(table).value_counts()
            summary[f"{table_name} rows per split"] = ", ".join(
                f"{split} {int(counts.get(split, 0)):,}" for split in SPLIT_NAMES
            )
        summary["split cut-offs"] = (
            f"validation from {self.splits.validation_start:%Y-%m-%d %H:%M}, "
            f"test from {self.splits.test_start:%Y-%m-%d %H:%M}"
        )
        ranges = self.price_ranges
        relative = (ranges["max_price"] - ranges["min_price"]) / ranges["median_price"]
        summary["within-product price range (max - min) / median, median"] = round(float(np.median(relative)), 3)
        return summary


def load_online_retail(config: OnlineRetailConfig | None = None) -> OnlineRetailWorld:
    """Build the online-retail world from ``config.data_path``, or from the download cache.

    Raises:
        DataError: for a missing, unreadable or malformed file, or one with no sale left after
            cleaning (see :mod:`pricegym.worlds.online_retail.cleaning`).
    """
    config = as_config("online-retail world", OnlineRetailConfig, config)
    path = config.data_path if config.data_path is not None else fetch_online_retail(config.cache_dir)
    sales, removed = clean_sales(read_raw_transactions(path), source=path)
    splits = make_splits(
        sales,
        validation_share=config.validation_share,
        test_share=config.test_share,
        cold_start_share=config.cold_start_share,
        seed=config.seed,
    )
    products = build_products(sales, splits.validation_start, config.unit_cost_share)
    customers = build_customers(sales, splits.validation_start, products)
    transactions = build_transactions(sales, products, customers, source=path)
    return OnlineRetailWorld(
        transactions=transactions,
        panel=build_panel(transactions, products),
        splits=splits,
        price_ranges=price_ranges(transactions, splits.validation_start),
        products=products,
        customers=customers,
        source=Path(path),
        removed_rows=removed,
    )
