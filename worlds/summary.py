"""Summaries of a transactions table, shared by every world's ``describe``."""

from __future__ import annotations

import numpy as np
import pandas as pd


def transactions_summary(frame: pd.DataFrame) -> dict[str, object]:
    """Counts, date range and within-product price variation of a transactions table.

    Within-product price variation is what identifies price response: for each product, the
    number of distinct prices and the coefficient of variation of ``price / list_price``.
    """
    relative_price = frame["price"] / frame["list_price"]
    by_product = relative_price.groupby(frame["product_id"])
    distinct_prices = frame.groupby("product_id")["price"].nunique()
    variation = by_product.std(ddof=0) / by_product.mean()
    return {
        "rows": len(frame),
        "products": frame["product_id"].nunique(),
        "customers": frame["customer_id"].nunique(),
        "date range": f"{frame['timestamp'].min():%Y-%m-%d} .. {frame['timestamp'].max():%Y-%m-%d}",
        "units sold": int(frame["quantity"].sum()),
        "price / list price (5%, 50%, 95%)": format_quantiles(relative_price.to_numpy()),
        "products with >= 3 distinct prices": f"{int((distinct_prices >= 3).sum())} of {distinct_prices.size}",
        "within-product CV of price (median)": round(float(variation.median()), 3),
    }


def format_quantiles(values: np.ndarray, levels: tuple[float, ...] = (0.05, 0.5, 0.95)) -> str:
    """Quantiles of ``values`` as "q1, q2, q3" with two decimals."""
    return ", ".join(f"{value:.2f}" for value in np.quantile(values, levels))


def format_summary(title: str, summary: dict[str, object]) -> str:
    """Aligned ``key: value`` lines under a title, for the terminal."""
    width = max(len(key) for key in summary)
    lines = [title, "=" * len(title)]
    lines += [f"{key:<{width}}  {value}" for key, value in summary.items()]
    return "\n".join(lines)
