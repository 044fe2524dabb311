"""The orthogonalised stage of the demand fit: group price slopes identified on real transactions anchor the head.

On real transactions the price a customer paid is not random: volume price breaks, customer type and the
shop's own reactions to demand move it. The BERT head fitted by likelihood alone learned no price response on
Online Retail (every slope at the head's floor). This stage identifies it first, then hands it to the head:

1. **Identify** (:mod:`pricegym.encoders.price_elasticity`): on the *training period's* transactions of the
   *training products* only (no test month, no cold-start product), a double machine learning estimate of the
   elasticity within product x customer type, controlling for season, the product's life cycle, stock-outs and
   volume tiers, by text category (k-means clusters of the pre-trained text embeddings) x customer type, each
   with a cluster-robust interval. The outcome is the count the demand model predicts (orders).
2. **Anchor** (:mod:`pricegym.encoders.head_refit`): each training row gets its group's slope,
   ``bert_beta = -elasticity`` (under the exp link, the head's slope in ``a - beta * (price / list - 1)`` is
   minus the semi-elasticity at list price), and a weight ``(smallest standard error / the group's)^2``; the
   head refit's loss gains ``anchor_strength * mean(weight * (beta - anchor)^2)``. A group with too few rows, or
   whose interval does not exclude zero, falls back to its category, then to the overall estimate; an anchor
   never goes below the head's floor.

The model's customer types (registered, guest) are coarser than the identification's (each also split by UK /
abroad): a type's slope is the inverse-variance mean of its markets'. The reference-price effect stays the
documented fixed parameter: these transactions do not identify it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pricegym.config_checks import Flag, config_dataclass, integer
from pricegym.encoders.demand_rows import WorldRows

ANCHORED_WORLDS = ("online-retail",)
"""Worlds whose transactions the stage can identify a price response on (count worlds with customer types)."""


@config_dataclass("orthogonal stage")
class OrthogonalStageConfig:
    """The orthogonalised stage (used on :data:`ANCHORED_WORLDS`, with a head refit of at least one epoch).

    Attributes:
        enabled: run it where the world allows.
        folds: cross-fitting folds of the double machine learning estimate.
        categories: text categories (k-means clusters of the product embeddings).
        min_group_rows: panel rows a category x customer type group needs to anchor on its own estimate.
    """

    enabled: Flag = True
    folds: integer(2, 20) = 5
    categories: integer(1, 64) = 8
    min_group_rows: integer(1, 10_000_000) = 200


@dataclass
class SlopeAnchors:
    """Per training row, the anchor slope and its weight; the estimates behind them and their summary."""

    slope: np.ndarray
    weight: np.ndarray
    groups: pd.DataFrame
    products: pd.DataFrame
    anchors: pd.DataFrame
    summary: dict[str, Any]


def training_transactions(world: Any, rows: WorldRows) -> pd.DataFrame:
    """The world's transactions of the training period and of the products that have training rows."""
    is_train = rows.split == "train"
    last_day = pd.Timestamp(rows.timestamp[is_train].max()).normalize() + pd.Timedelta(days=1)
    products = [rows.product_ids[index] for index in np.unique(rows.data.product[is_train])]
    transactions = world.transactions
    keep = (transactions["timestamp"] < last_day) & transactions["product_id"].isin(products)
    return transactions[keep]


def type_slopes(groups: pd.DataFrame, level: str, min_rows: int) -> pd.DataFrame:
    """Per (category, model customer type), the inverse-variance mean slope of the identification's market
    types of ``level``, its standard error and rows; only groups with ``min_rows`` rows whose interval excludes
    zero (``category`` is ``all`` at the customer-type level)."""
    table = groups[groups["level"] == level].copy()
    table = table[(table["n_rows"] >= min_rows) & (table["ci_high"] < 0)]
    if "customer_type" in table and level != "category":
        table["model_type"] = table["customer_type"].astype(str).str.split("-").str[0]
    else:
        table["model_type"] = "all"
    if level == "customer_type":
        table["category"] = "all"
    table["precision"] = 1.0 / table["std_error"] ** 2
    table["weighted"] = table["bert_beta"] * table["precision"]
    pooled = table.groupby(["category", "model_type"], as_index=False)[["weighted", "precision", "n_rows"]].sum()
    pooled["bert_beta"] = pooled["weighted"] / pooled["precision"]
    pooled["std_error"] = 1.0 / np.sqrt(pooled["precision"])
    return pooled[["category", "model_type", "bert_beta", "std_error", "n_rows"]].assign(level=level)


def anchor_table(groups: pd.DataFrame, categories: list[str], model_types: list[str], min_rows: int,
                 floor: float) -> pd.DataFrame:
    """The anchor of every (category, model customer type): its own group's slope where well measured, else its
    category's, else its customer type's, else the overall estimate; never below ``floor``."""
    overall = groups[groups["level"] == "all"].iloc[0]
    levels = [type_slopes(groups, level, min_rows) for level in ("category x customer_type", "category",
                                                                 "customer_type")]
    records = []
    for category in categories:
        for model_type in model_types:
            record = {"category": category, "model_type": model_type, "level": "all",
                      "bert_beta": float(overall["bert_beta"]), "std_error": float(overall["std_error"])}
            for table, key in zip(levels, ((category, model_type), (category, "all"), ("all", model_type)),
                                  strict=True):
                match = table[(table["category"] == key[0]) & (table["model_type"] == key[1])]
                if len(match):
                    record.update(level=match.iloc[0]["level"], bert_beta=float(match.iloc[0]["bert_beta"]),
                                  std_error=float(match.iloc[0]["std_error"]))
                    break
            records.append(record)
    anchors = pd.DataFrame(records)
    anchors["bert_beta"] = anchors["bert_beta"].clip(lower=floor)
    anchors["weight"] = (anchors["std_error"].min() / anchors["std_error"]) ** 2
    return anchors


def row_anchors(rows: WorldRows, product_category: np.ndarray, anchors: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per training row (in ``rows.rows_of("train")`` order), its anchor slope and weight."""
    train = rows.split == "train"
    category = product_category[rows.data.product[train]]
    model_type = np.asarray(rows.customer_ids)[rows.table_row[train]]
    keys = pd.MultiIndex.from_arrays([anchors["category"], anchors["model_type"]])
    position = keys.get_indexer(pd.MultiIndex.from_arrays([category, model_type]))
    if (position < 0).any():
        raise ValueError("a training row's (category, customer type) has no anchor")
    return anchors["bert_beta"].to_numpy(float)[position], anchors["weight"].to_numpy(float)[position]


def orthogonal_anchors(world: Any, rows: WorldRows, product_vectors: np.ndarray, config: OrthogonalStageConfig,
                       floor: float, seed: int) -> SlopeAnchors | None:
    """The stage on ``world`` (None where it does not apply): identification, then the anchors of every
    training row. ``product_vectors`` are the pre-trained embeddings of ``rows.data.product_texts``."""
    if not config.enabled or world.name not in ANCHORED_WORLDS:
        return None
    from pricegym.encoders.elasticity_panel import (
        attach_text_features,
        elasticity_panel,
        text_categories,
        text_components,
    )
    from pricegym.encoders.price_elasticity import ElasticitySettings, estimate_elasticities

    products = pd.DataFrame({"product_id": list(rows.product_ids), "product_text": list(rows.data.product_texts)})
    categories = text_categories(product_vectors, products["product_text"], config.categories, seed)
    components = text_components(product_vectors, seed=seed)
    panel = elasticity_panel(training_transactions(world, rows), outcome="orders")
    panel = attach_text_features(panel, products, components, categories)
    estimates = estimate_elasticities(panel, ElasticitySettings(n_folds=config.folds, seed=seed))
    anchors = anchor_table(estimates.groups, sorted(set(categories)), list(rows.customer_ids),
                           config.min_group_rows, floor)
    slope, weight = row_anchors(rows, categories.to_numpy(), anchors)
    summary = {**estimates.summary, "outcome": "orders", "panel_rows": len(panel),
               "training_period_end": str(pd.Timestamp(rows.timestamp[rows.split == "train"].max()).date())}
    return SlopeAnchors(slope, weight, estimates.groups, estimates.products, anchors, summary)


FLOOR_MARGIN = 0.01
"""A fitted slope within this of the head's floor counts as at the floor."""


def fitted_slope_summary(slope: np.ndarray, slope_std: np.ndarray, customer_ids: tuple[str, ...],
                         floor: float) -> dict[str, Any]:
    """The fitted tables' price slopes (``[customer type, product]``) per customer type: quantiles, the share of
    products at the head's floor, and the share whose 95% bootstrap interval lies above it."""
    summary = {}
    for row, customer_id in enumerate(customer_ids):
        values, spread = np.asarray(slope[row], float), np.asarray(slope_std[row], float)
        summary[str(customer_id)] = {
            "quantiles": {f"q{q:02d}": float(np.percentile(values, q)) for q in (5, 25, 50, 75, 95)},
            "share_at_floor": float(np.mean(values < floor + FLOOR_MARGIN)),
            "share_interval_above_floor": float(np.mean(values - 1.96 * spread > floor + FLOOR_MARGIN)),
        }
    return summary
