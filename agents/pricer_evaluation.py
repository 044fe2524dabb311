"""Evaluate price regressors on the same held-out rows: the time split's test rows and the cold-start rows."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from pricegym.agents.pricer_baselines import price_metrics
from pricegym.agents.pricing_rows import PricingRows
from pricegym.agents.pricing_table import TabulatedPricingPolicy

PricePredictor = Callable[[np.ndarray], np.ndarray]
"""Row positions of a :class:`PricingRows` -> predicted ``log(price / list_price)``."""

EVALUATED_SPLITS = ("test", "cold_start_test")


def evaluation_rows(rows: PricingRows, max_rows: int, seed: int) -> dict[str, np.ndarray]:
    """Per evaluated split, its row positions (a random subsample of ``max_rows`` beyond that)."""
    rng = np.random.default_rng(seed)
    chosen = {}
    for split in EVALUATED_SPLITS:
        in_split = rows.rows_of(split)
        if in_split.size > max_rows:
            in_split = np.sort(rng.choice(in_split, size=max_rows, replace=False))
        if in_split.size:
            chosen[split] = in_split
    return chosen


def split_metrics(models: dict[str, PricePredictor], rows: PricingRows,
                  evaluated: dict[str, np.ndarray]) -> pd.DataFrame:
    """One line per split x model: rows, RMSE and MAPE of the price, RMSE of the log price ratio."""
    records = []
    for split, positions in evaluated.items():
        list_price = rows.list_prices[rows.product[positions]]
        for name, predict in models.items():
            metrics = price_metrics(predict(positions), rows.price[positions], list_price)
            records.append({"model": name, "split": split, "rows": positions.size, **metrics})
    return pd.DataFrame(records)


def table_predictor(policy: TabulatedPricingPolicy, rows: PricingRows) -> PricePredictor:
    """The pricing table as a predictor: each row's (table row, product, bucket) entry."""
    log_ratios = np.log(policy.ratios)
    return lambda positions: log_ratios[rows.table_row[positions], rows.product[positions], rows.bucket[positions]]


def by_table_row(policy: TabulatedPricingPolicy, rows: PricingRows, positions: np.ndarray) -> pd.DataFrame:
    """Per table row (segment or customer type): rows, and the mean price / list price charged and tabled.

    Shows whether the rule was learned where it acts: e.g. lower prices for price-sensitive segments.
    """
    table_row = rows.table_row[positions]
    frame = pd.DataFrame({
        "row": np.take(np.asarray(rows.table_row_ids, dtype=object), table_row),
        "charged": rows.price[positions] / rows.list_prices[rows.product[positions]],
        "table": policy.ratios[table_row, rows.product[positions], rows.bucket[positions]],
    })
    summary = frame.groupby("row", sort=False).agg(rows=("charged", "size"),
                                                   charged_price_over_list=("charged", "mean"),
                                                   table_price_over_list=("table", "mean"))
    order = pd.Index(rows.table_row_ids)
    return summary.loc[order.intersection(summary.index, sort=False)].rename_axis(_row_kind(rows)).reset_index()


def _row_kind(rows: PricingRows) -> str:
    return "customer type" if rows.world == "online-retail" else "segment"
