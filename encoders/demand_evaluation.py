"""Evaluate demand models on the same splits, and against the ground truth where it is known."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from pricegym.encoders.demand_data import DemandData
from pricegym.encoders.demand_metrics import calibration_by_decile, count_metrics, exposure_metrics
from pricegym.encoders.demand_rows import WorldRows
from pricegym.encoders.demand_tables import DemandTables
from pricegym.encoders.truth_comparison import PairDemand, compare_with_truth, truth_pair_demand
from pricegym.worlds.demand import DemandModel, MarketContext

RowPredictor = Callable[[DemandData], np.ndarray]
"""Demand (probability or expected count) of every row of a :class:`DemandData`."""

EVALUATED_SPLITS = ("test", "cold_start_test")


def tables_predictor(tables: DemandTables) -> RowPredictor:
    """Rows -> demand from text-level tables (reference price = list price, as in fitting)."""

    def predict(data: DemandData) -> np.ndarray:
        list_price = tables.list_prices[data.product]
        context = MarketContext(data.weekday, data.season, data.holiday.astype(bool),
                                (data.competitor_gap + 1.0) * list_price)
        return tables.demand(data.customer, data.product, data.relative_price * list_price, context, list_price)

    return predict


def split_metrics(models: dict[str, RowPredictor], rows: WorldRows, response: str) -> pd.DataFrame:
    """One row per model x evaluated split: log-loss, AUC, ECE (exposures) or deviance (counts)."""
    records = []
    for split in EVALUATED_SPLITS:
        data = rows.rows_of(split)
        if len(data) == 0:
            continue
        for name, predict in models.items():
            demand = predict(data)
            metrics = exposure_metrics(demand, data.outcome) if response == "purchase_probability" else \
                count_metrics(demand, data.outcome)
            records.append({"model": name, "split": split, "rows": len(data), **metrics})
    return pd.DataFrame(records)


def decile_calibration(predict: RowPredictor, rows: WorldRows) -> pd.DataFrame:
    """Mean predicted and observed count per decile of predicted count, one column pair per split."""
    columns = {}
    for split in EVALUATED_SPLITS:
        data = rows.rows_of(split)
        if len(data):
            deciles = calibration_by_decile(predict(data), data.outcome)
            columns[f"{split} predicted"], columns[f"{split} observed"] = deciles["predicted"], deciles["observed"]
    return pd.DataFrame(columns).reset_index()


def pair_demand(predict: RowPredictor, rows: WorldRows) -> PairDemand:
    """A row predictor as a function of (table row, product, relative price) in a neutral market."""
    template = rows.data

    def demand(table_rows: np.ndarray, products: np.ndarray, relative_prices: np.ndarray) -> np.ndarray:
        table_rows, products, relative_prices = np.broadcast_arrays(table_rows, products, relative_prices)
        n = table_rows.size
        grid = DemandData(
            customer_texts=template.customer_texts, product_texts=template.product_texts,
            customer=rows.customer_rows[table_rows.ravel()], product=products.ravel(),
            relative_price=relative_prices.ravel().astype(float), weekday=np.zeros(n, np.int64),
            season=np.ones(n, np.int64), holiday=np.zeros(n), competitor_gap=np.zeros(n), outcome=np.zeros(n),
        )
        return predict(grid).reshape(table_rows.shape)

    return demand


def truth_metrics(models: dict[str, RowPredictor], rows: WorldRows, truth: DemandModel, max_pairs: int,
                  seed: int) -> pd.DataFrame:
    """Elasticity and optimal-price errors against the truth, per model x evaluated split."""
    truth_demand = truth_pair_demand(truth, rows.list_prices)
    rng = np.random.default_rng(seed)
    records = []
    for split in EVALUATED_SPLITS:
        in_split = rows.split == split
        pairs = np.unique(np.column_stack([rows.table_row[in_split], rows.data.product[in_split]]), axis=0)
        if len(pairs) == 0:
            continue
        pairs = pairs[rng.permutation(len(pairs))[:max_pairs]]
        for name, predict in models.items():
            errors = compare_with_truth(pair_demand(predict, rows), truth_demand, pairs[:, 0], pairs[:, 1],
                                        rows.observed_range)
            records.append({"model": name, "split": split, "pairs": len(pairs), **errors})
    return pd.DataFrame(records)


def format_table(frame: pd.DataFrame, title: str) -> str:
    """A titled, aligned text table with 4 significant decimals."""
    return f"{title}\n{frame.to_string(index=False, float_format=lambda value: f'{value:.4f}')}"
