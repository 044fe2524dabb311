"""The orthogonalised stage of the demand fit: group price slopes identified on real transactions anchor the head.

On real transactions the price a customer paid is not random: volume price breaks, customer type and the
shop's own reactions to demand move it. The BERT head fitted by likelihood alone learned no price response on
Online Retail (every slope at the head's floor). This stage identifies it first, then hands it to the head:

1. **Identify** (:mod:`pricegym.encoders.price_elasticity`): on the *training period's* transactions of the
   *training products* only (no test month, no cold-start product), a double machine learning estimate of the
   elasticity within product x customer type, controlling for season, the product's life cycle, stock-outs and
   volume tiers, by text category (k-means clusters of the pre-trained text embeddings) x customer type, each
   with a cluster-robust interval. The outcome is the count the demand model predicts (orders).
2. **Anchor** (:mod:`pricegym.encoders.head_refit`): the identified elasticity is the *total* price response
   at list price, ``d log demand / d (price / list)``. The model's total slope there is its head's ``beta`` plus
   the reference term's (``gain`` below list, ``loss`` above it, with the reference at list price while
   fitting), so each training row's anchor is ``-elasticity - reference slope of the row`` (never below the
   head's floor), with a weight ``(smallest standard error / the group's)^2``; the head refit's loss gains
   ``anchor_strength * mean(weight * (beta - anchor)^2)``. A group with too few rows, or whose interval does
   not exclude zero, falls back to its category, its customer type, then the overall estimate; a level with no
   estimate that excludes zero anchors nothing (weight 0).

The model's customer types (registered, guest) are coarser than the identification's (each also split by UK /
abroad): a type's elasticity is its markets', weighted by their rows, tested for zero after pooling.

The transactions identify the total response, not its split into a slope and a reference term. On Online
Retail the documented reference term alone (gain 0.6 below list, loss 1.2 above) is larger than the whole
identified response (about 0.5), which is why the likelihood left every slope at the floor. With
``reference_effect="identified"`` (the default) the fit gives the whole identified response to the slope and
sets the model's reference gain and loss to zero (the memory weight ``theta`` stays, unused); with
``"documented"`` it keeps the documented term and anchors only what is left over.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from pricegym.config_checks import Flag, config_dataclass, integer
from pricegym.encoders.demand_rows import WorldRows
from pricegym.worlds.demand import ReferencePriceEffect

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
        reference_effect: ``identified``: the slope carries the whole identified response (the model's
            reference gain and loss are set to zero); ``documented``: keep the documented reference term.
    """

    enabled: Flag = True
    folds: integer(2, 20) = 5
    categories: integer(1, 64) = 8
    min_group_rows: integer(1, 10_000_000) = 200
    reference_effect: Literal["identified", "documented"] = "identified"


def applies(config: OrthogonalStageConfig, world_name: str) -> bool:
    """Whether the stage runs on the world ``world_name``."""
    return config.enabled and world_name in ANCHORED_WORLDS


def fitted_reference_effect(config: OrthogonalStageConfig, world_name: str,
                            documented: ReferencePriceEffect) -> ReferencePriceEffect:
    """The reference effect the model is fitted with: ``documented``, or without gain and loss where the stage
    gives the whole identified response to the slope."""
    if applies(config, world_name) and config.reference_effect == "identified":
        return replace(documented, gain=0.0, loss=0.0)
    return documented


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
    """Per (category, model customer type), the identification's market types of ``level`` pooled by their rows
    (the model's type mixes its markets as its rows do): ``bert_beta`` (minus the elasticity), its standard
    error ``sqrt(sum w^2 se^2)`` (markets taken as independent) and rows; only pooled groups with ``min_rows``
    rows whose 95% interval excludes zero (``category`` is ``all`` at the customer-type level)."""
    table = groups[groups["level"] == level].copy()
    if level == "category":
        table["model_type"] = "all"
    else:
        table["model_type"] = table["customer_type"].astype(str).str.split("-").str[0]
    if level == "customer_type":
        table["category"] = "all"
    table["share"] = table["n_rows"] / table.groupby(["category", "model_type"])["n_rows"].transform("sum")
    table["weighted"] = table["bert_beta"] * table["share"]
    table["variance"] = (table["share"] * table["std_error"]) ** 2
    pooled = table.groupby(["category", "model_type"], as_index=False)[["weighted", "variance", "n_rows"]].sum()
    pooled["bert_beta"] = pooled["weighted"]
    pooled["std_error"] = np.sqrt(pooled["variance"])
    significant = (pooled["n_rows"] >= min_rows) & (pooled["bert_beta"] - 1.96 * pooled["std_error"] > 0)
    return pooled.loc[significant, ["category", "model_type", "bert_beta", "std_error", "n_rows"]].assign(level=level)


def anchor_table(groups: pd.DataFrame, categories: list[str], model_types: list[str], min_rows: int,
                 floor: float) -> pd.DataFrame:
    """The anchor of every (category, model customer type): its own group's total slope (``bert_beta``, minus the
    elasticity) where well measured, else its category's, else its customer type's, else the overall estimate,
    or none (weight 0) where even that does not exclude zero; ``floor`` is kept for the head's floor."""
    overall = groups[groups["level"] == "all"].iloc[0]
    overall_significant = bool(overall["ci_high"] < 0)
    levels = [type_slopes(groups, level, min_rows) for level in ("category x customer_type", "category",
                                                                 "customer_type")]
    records = []
    for category in categories:
        for model_type in model_types:
            record = {"category": category, "model_type": model_type,
                      "level": "all" if overall_significant else "none",
                      "bert_beta": max(float(overall["bert_beta"]), floor), "std_error": float(overall["std_error"])}
            for table, key in zip(levels, ((category, model_type), (category, "all"), ("all", model_type)),
                                  strict=True):
                match = table[(table["category"] == key[0]) & (table["model_type"] == key[1])]
                if len(match):
                    record.update(level=match.iloc[0]["level"], bert_beta=float(match.iloc[0]["bert_beta"]),
                                  std_error=float(match.iloc[0]["std_error"]))
                    break
            records.append(record)
    anchors = pd.DataFrame(records)
    measured = anchors["level"] != "none"
    smallest = anchors.loc[measured, "std_error"].min() if measured.any() else 1.0
    anchors["weight"] = np.where(measured, (smallest / anchors["std_error"]) ** 2, 0.0)
    return anchors


def row_anchors(rows: WorldRows, product_category: np.ndarray, anchors: pd.DataFrame,
                reference_effect: ReferencePriceEffect | None = None,
                floor: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Per training row (in ``rows.rows_of("train")`` order), the anchor of its head slope ``beta``: its group's
    total slope less the reference term's slope at the row's price (``gain`` below list, ``loss`` above, their
    mean at list), never below ``floor``; and its weight."""
    train = rows.split == "train"
    category = product_category[rows.data.product[train]]
    model_type = np.asarray(rows.customer_ids)[rows.table_row[train]]
    keys = pd.MultiIndex.from_arrays([anchors["category"], anchors["model_type"]])
    position = keys.get_indexer(pd.MultiIndex.from_arrays([category, model_type]))
    if (position < 0).any():
        raise ValueError("a training row's (category, customer type) has no anchor")
    total = anchors["bert_beta"].to_numpy(float)[position]
    if reference_effect is not None:
        relative = rows.data.relative_price[train]
        total = total - np.where(relative < 1.0, reference_effect.gain, np.where(
            relative > 1.0, reference_effect.loss, 0.5 * (reference_effect.gain + reference_effect.loss)))
    return np.maximum(total, floor), anchors["weight"].to_numpy(float)[position]


def orthogonal_anchors(world: Any, rows: WorldRows, product_vectors: np.ndarray, config: OrthogonalStageConfig,
                       floor: float, seed: int, reference_effect: ReferencePriceEffect) -> SlopeAnchors | None:
    """The stage on ``world`` (None where it does not apply): identification, then the anchors of every
    training row for a model fitted with ``reference_effect``. ``product_vectors`` are the pre-trained
    embeddings of ``rows.data.product_texts``."""
    if not applies(config, world.name):
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
    slope, weight = row_anchors(rows, categories.to_numpy(), anchors, reference_effect, floor)
    summary = {**estimates.summary, "outcome": "orders", "panel_rows": len(panel),
               "fitted_reference_effect": {"gain": reference_effect.gain, "loss": reference_effect.loss},
               "share_rows_anchored_above_floor": float(np.mean(slope > floor)),
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
