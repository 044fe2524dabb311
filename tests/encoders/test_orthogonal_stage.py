"""The orthogonalised stage's anchors: each group's identified slope where it is well measured, a fallback where
it is not, the model's coarser customer types pooled by precision, and never below the head's floor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pricegym.encoders.orthogonal_stage import anchor_table, type_slopes


def _group(level: str, category: str, customer_type: str, elasticity: float, std_error: float,
           n_rows: int = 1_000) -> dict:
    return {"level": level, "category": category, "customer_type": customer_type, "elasticity": elasticity,
            "std_error": std_error, "ci_low": elasticity - 1.96 * std_error, "ci_high": elasticity + 1.96 * std_error,
            "n_rows": n_rows, "bert_beta": -elasticity}


GROUPS = pd.DataFrame([
    _group("all", "all", "all", -0.9, 0.02),
    _group("category x customer_type", "mugs", "registered-uk", -1.0, 0.1),
    _group("category x customer_type", "mugs", "registered-abroad", -0.5, 0.2),
    _group("category x customer_type", "mugs", "guest-uk", -1.5, 0.1, n_rows=50),      # too few rows
    _group("category x customer_type", "bags", "registered-uk", 0.3, 0.4),              # interval spans zero
    _group("category", "mugs", "all", -1.1, 0.08),
    _group("category", "bags", "all", -0.02, 0.05),                                     # spans zero: no anchor
    _group("customer_type", "all", "registered-uk", -0.8, 0.05),
    _group("customer_type", "all", "guest-uk", -0.7, 0.05),
])


def test_a_model_customer_type_pools_its_markets_by_rows_and_is_tested_after_pooling():
    groups = pd.concat([GROUPS, pd.DataFrame([_group("category x customer_type", "mugs", "registered-abroad", -0.1,
                                                     0.2, n_rows=3_000)])]).drop_duplicates(
        ["level", "category", "customer_type"], keep="last")
    pooled = type_slopes(groups, "category x customer_type", min_rows=200)
    mugs = pooled[(pooled["category"] == "mugs") & (pooled["model_type"] == "registered")].iloc[0]
    # 1,000 rows at -1.0 and 3,000 at -0.1 (whose own interval spans zero: it is pooled, not dropped)
    assert mugs["bert_beta"] == pytest.approx(0.25 * 1.0 + 0.75 * 0.1)
    assert mugs["std_error"] == pytest.approx(np.sqrt((0.25 * 0.1) ** 2 + (0.75 * 0.2) ** 2))
    assert set(pooled["model_type"]) == {"registered"}  # guest-uk had too few rows; bags spans zero


def test_each_group_falls_back_from_its_own_estimate_to_its_category_its_type_and_the_whole():
    anchors = anchor_table(GROUPS, ["bags", "mugs"], ["registered", "guest"], min_rows=200, floor=0.05)
    anchor = anchors.set_index(["category", "model_type"])
    assert anchor.loc[("mugs", "registered"), "level"] == "category x customer_type"
    assert anchor.loc[("mugs", "registered"), "bert_beta"] == pytest.approx(0.75)  # -1.0 and -0.5, 1,000 rows each
    assert anchor.loc[("mugs", "guest"), "level"] == "category"  # its own group has too few rows
    assert anchor.loc[("mugs", "guest"), "bert_beta"] == pytest.approx(1.1)
    assert anchor.loc[("bags", "registered"), "level"] == "customer_type"  # neither it nor its category exclude 0
    assert anchor.loc[("bags", "registered"), "bert_beta"] == pytest.approx(0.8)
    assert anchor.loc[("bags", "guest"), "bert_beta"] == pytest.approx(0.7)
    assert anchors["weight"].max() == pytest.approx(1.0) and (anchors["weight"] > 0).all()
    # the best-measured group weighs most
    assert anchor["weight"].idxmax() in {("bags", "registered"), ("bags", "guest")}


def test_the_whole_is_the_last_resort_and_an_estimate_that_spans_zero_anchors_nothing():
    groups = pd.DataFrame([_group("all", "all", "all", -0.4, 0.01)])
    anchors = anchor_table(groups, ["mugs"], ["registered"], min_rows=200, floor=0.05)
    assert anchors.iloc[0]["level"] == "all" and anchors.iloc[0]["bert_beta"] == pytest.approx(0.4)
    assert anchors.iloc[0]["weight"] == pytest.approx(1.0)
    groups = pd.DataFrame([_group("all", "all", "all", 0.01, 0.001)])  # precise, but not a price response
    anchors = anchor_table(groups, ["mugs"], ["registered"], min_rows=200, floor=0.05)
    assert anchors.iloc[0]["level"] == "none" and anchors.iloc[0]["weight"] == 0.0


def test_identification_sees_only_the_training_period_and_the_training_products():
    from types import SimpleNamespace

    from pricegym.encoders.orthogonal_stage import training_transactions

    days = pd.to_datetime(["2011-01-03 10:00", "2011-02-01 09:00", "2011-03-01 12:00", "2011-03-02 08:00"])
    rows = SimpleNamespace(split=np.array(["train", "train", "test", "cold_start_test"]), timestamp=days.to_numpy(),
                           data=SimpleNamespace(product=np.array([0, 1, 0, 2])), product_ids=("a", "b", "c"))
    transactions = pd.DataFrame({
        "timestamp": pd.to_datetime(["2011-01-05 00:00", "2011-02-01 18:00", "2011-02-02 00:00", "2011-01-10 00:00",
                                    "2011-01-11 00:00"]),
        "product_id": ["a", "b", "a", "c", "b"]})
    kept = training_transactions(SimpleNamespace(transactions=transactions), rows)
    # the last training day is kept whole; a later day and the cold-start product "c" are not
    assert kept.index.tolist() == [0, 1, 4]


def test_every_training_row_gets_its_groups_anchor():
    from types import SimpleNamespace

    from pricegym.encoders.orthogonal_stage import row_anchors

    anchors = anchor_table(GROUPS, ["bags", "mugs"], ["registered", "guest"], min_rows=200, floor=0.05)
    rows = SimpleNamespace(split=np.array(["train", "test", "train", "train"]), customer_ids=("registered", "guest"),
                           table_row=np.array([0, 0, 1, 0]), data=SimpleNamespace(product=np.array([1, 1, 1, 0])))
    slope, weight = row_anchors(rows, np.array(["bags", "mugs"]), anchors)
    anchor = anchors.set_index(["category", "model_type"])
    expected = [("mugs", "registered"), ("mugs", "guest"), ("bags", "registered")]
    np.testing.assert_allclose(slope, [anchor.loc[key, "bert_beta"] for key in expected])
    np.testing.assert_allclose(weight, [anchor.loc[key, "weight"] for key in expected])


def test_a_rows_anchor_is_its_groups_total_slope_less_the_reference_terms_at_its_price():
    from types import SimpleNamespace

    from pricegym.encoders.orthogonal_stage import row_anchors
    from pricegym.worlds.demand import ReferencePriceEffect

    anchors = pd.DataFrame({"category": ["mugs"], "model_type": ["registered"], "bert_beta": [1.5],
                            "weight": [1.0], "level": ["all"]})
    rows = SimpleNamespace(split=np.array(["train"] * 4), customer_ids=("registered",), table_row=np.zeros(4, int),
                           data=SimpleNamespace(product=np.zeros(4, int),
                                                relative_price=np.array([0.9, 1.0, 1.1, 1.2])))
    reference = ReferencePriceEffect(theta=0.8, gain=0.6, loss=1.2)
    slope, _ = row_anchors(rows, np.array(["mugs"]), anchors, reference, floor=0.05)
    np.testing.assert_allclose(slope, [1.5 - 0.6, 1.5 - 0.9, 1.5 - 1.2, 1.5 - 1.2])
    slope, _ = row_anchors(rows, np.array(["mugs"]), anchors.assign(bert_beta=0.5), reference, floor=0.05)
    np.testing.assert_allclose(slope, 0.05)  # the documented term alone is steeper than the response: floor
    slope, _ = row_anchors(rows, np.array(["mugs"]), anchors, ReferencePriceEffect(theta=0.8, gain=0.0, loss=0.0))
    np.testing.assert_allclose(slope, 1.5)


def test_the_identified_reference_effect_drops_gain_and_loss_only_where_the_stage_runs():
    from pricegym.encoders.orthogonal_stage import OrthogonalStageConfig, fitted_reference_effect
    from pricegym.worlds.demand import ReferencePriceEffect

    documented = ReferencePriceEffect()
    identified = fitted_reference_effect(OrthogonalStageConfig(), "online-retail", documented)
    assert (identified.gain, identified.loss, identified.theta) == (0.0, 0.0, documented.theta)
    assert fitted_reference_effect(OrthogonalStageConfig(), "synthetic", documented) == documented
    kept = OrthogonalStageConfig(reference_effect="documented")
    assert fitted_reference_effect(kept, "online-retail", documented) == documented
