"""Deviance and calibration by month, the out-of-season flag, and scoring a run on a new file by month."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pricegym.cli import main
from pricegym.encoders.demand_data import DemandData
from pricegym.encoders.demand_tables import ContextWeights, DemandTables
from pricegym.encoders.monthly_metrics import (
    flag_coverage,
    metrics_by_month,
    month_labels,
    month_metrics,
    monthly_card,
    run_monthly_metrics,
    season_coverage,
)
from pricegym.worlds.demand import ReferencePriceEffect

TIMESTAMPS = pd.to_datetime(["2011-01-03", "2011-01-20", "2011-02-01", "2011-02-14", "2011-10-05", "2011-11-30"])
SPLIT = np.array(["train", "train", "train", "train", "test", "test"])
OUTCOME = np.array([0.0, 2.0, 1.0, 1.0, 3.0, 0.0])


def _rows(outcome: np.ndarray) -> DemandData:
    n = outcome.size
    return DemandData(customer_texts=("c",), product_texts=("p",), customer=np.zeros(n, np.int64),
                      product=np.zeros(n, np.int64), relative_price=np.ones(n), weekday=np.zeros(n, np.int64),
                      season=np.zeros(n, np.int64), holiday=np.zeros(n), competitor_gap=np.zeros(n), outcome=outcome)


def _constant(rate: float):
    return lambda data: np.full(len(data), rate)


def _poisson_deviance(mu: float, y: float) -> float:
    return 2.0 * ((y * np.log(y / mu) if y > 0 else 0.0) - (y - mu))


def test_per_month_metrics_equal_a_hand_computation():
    frame = metrics_by_month({"one": _constant(1.0)}, _rows(OUTCOME), SPLIT, month_labels(TIMESTAMPS),
                             "expected_quantity", ["train", "test"])
    assert list(zip(frame["split"], frame["month"], strict=True)) == [("train", "2011-01"), ("train", "2011-02"),
                                                         ("test", "2011-10"), ("test", "2011-11")]
    january = frame.iloc[0]
    assert january["rows"] == 2 and january["season"] == "winter"
    assert january["poisson_deviance"] == pytest.approx((_poisson_deviance(1, 0) + _poisson_deviance(1, 2)) / 2)
    assert january["mean_predicted"] == 1.0 and january["mean_observed"] == 1.0
    october = frame.iloc[2]
    assert october["poisson_deviance"] == pytest.approx(_poisson_deviance(1, 3))
    assert october["calibration_ratio"] == pytest.approx(1 / 3)
    assert np.isnan(frame.iloc[3]["calibration_ratio"])  # November: nothing observed


def test_exposure_worlds_use_log_loss():
    metrics = month_metrics(np.array([0.25, 0.75]), np.array([0.0, 1.0]), "purchase_probability")
    assert metrics["log_loss"] == pytest.approx(-np.log(0.75))


def test_a_calibrated_prediction_has_ratio_one():
    outcome = np.array([0.0, 4.0, 2.0])
    assert month_metrics(np.full(3, 2.0), outcome, "expected_quantity")["calibration_ratio"] == pytest.approx(1.0)


def test_the_flag_marks_exactly_the_months_whose_season_training_never_saw():
    coverage = season_coverage(["2010-12", "2011-03", "2011-07", "2011-08"],
                               ["2011-09", "2011-10", "2011-11", "2011-12", "2012-06", "2012-04"])
    assert coverage.training_seasons == ("winter", "spring", "summer")
    assert coverage.out_of_season_months == ("2011-09", "2011-10", "2011-11")
    assert coverage.unseen_calendar_months == ("2011-09", "2011-10", "2011-11", "2012-04", "2012-06")
    assert "2011-09, 2011-10, 2011-11 fall in autumn" in coverage.warning()
    frame = flag_coverage(pd.DataFrame({"month": ["2011-11", "2011-12"], "season": ["autumn", "winter"]}), coverage)
    assert frame["out_of_season"].tolist() == [True, False]
    assert season_coverage(["2011-01", "2011-04", "2011-07", "2011-10"], ["2011-11"]).warning() is None


def test_the_fit_table_flags_its_test_months():
    frame, coverage = run_monthly_metrics({"one": _constant(1.0)}, _rows(OUTCOME), SPLIT, TIMESTAMPS.to_numpy(),
                                          "expected_quantity")
    assert coverage.out_of_season_months == ("2011-10", "2011-11")
    assert frame.loc[frame["split"] == "test", "out_of_season"].all()
    assert not frame.loc[frame["split"] == "train", "out_of_season"].any()
    card = monthly_card(frame, coverage)
    assert card["out_of_season_test_months"] == ["2011-10", "2011-11"] and card["training_seasons"] == ["winter"]
    assert card["out_of_season_months_by_split"] == {"test": ["2011-10", "2011-11"]}
    assert card["warning"].startswith("warning: test months 2011-10, 2011-11 fall in autumn")


def test_a_tiny_fit_writes_its_months(tmp_path: Path):
    """One fit of a tiny synthetic world (seconds): the file, the card and the result agree."""
    from pricegym.encoders.demand_training import DemandTrainingConfig
    from pricegym.encoders.fit_demand import FitDemandConfig, fit_demand
    from pricegym.encoders.text_encoder import TextEncoderConfig
    from pricegym.worlds.registry import WorldConfig
    from pricegym.worlds.synthetic import SyntheticWorldConfig

    config = FitDemandConfig(
        world=WorldConfig(synthetic=SyntheticWorldConfig(seed=4, n_products=10, n_customers=30, n_exposures=2_000,
                                                         n_days=120)),
        encoder=TextEncoderConfig(model_name="tiny-random-bert", device="cpu"),
        training=DemandTrainingConfig(epochs=1, max_steps_per_epoch=1), bootstrap_rounds=0,
        output_dir=tmp_path / "run", cache_dir=tmp_path / "cache")
    result = fit_demand(config, progress=False)
    written = pd.read_csv(result.output_dir / "metrics_by_month.csv")
    assert len(written) == len(result.monthly) and set(written["model"]) == set(result.metrics["model"])
    assert {"train", "validation", "test", "cold_start_test"} == set(written["split"])
    assert "log_loss" in written and written["calibration_ratio"].gt(0).all()
    card = json.loads((result.output_dir / "model_card.json").read_text())["by_month"]
    assert card["training_months"] == sorted(written.loc[written["split"] == "train", "month"].unique())


# -- evaluate-demand ------------------------------------------------------------------------------------------

RAW_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


def _online_retail_run(folder: Path) -> Path:
    """A run folder as fit-demand writes it for online retail (tables and card), without the fitting."""
    tables = DemandTables(intercept=np.full((2, 2), -1.0), slope=np.full((2, 2), 2.0), list_prices=np.array([2.0, 5.0]),
                          context_weights=ContextWeights.zero(), reference_effect=ReferencePriceEffect(),
                          response="expected_quantity", customer_ids=("registered", "guest"),
                          product_ids=("A1", "B2"), world="online-retail")
    folder = tables.save(folder)
    card = {"world": "online-retail", "response": "expected_quantity", "config": {"world": {"unit_cost_share": 0.6}},
            "by_month": {"training_months": ["2010-12", "2011-01", "2011-06"]}}
    (folder / "model_card.json").write_text(json.dumps(card))
    return folder


def _held_out_file(path: Path) -> Path:
    lines = [RAW_HEADER]
    for day, (month, price) in enumerate([("2012-01", 2.0), ("2012-01", 1.8), ("2012-10", 2.2), ("2012-10", 2.0)]):
        lines.append(f"9{day},A1,RED MUG,1,{month}-{day + 1:02d} 10:00,{price},17850,United Kingdom\n")
    lines.append("99,Z9,NEW THING,1,2012-10-09 10:00,3.0,17850,United Kingdom\n")  # a product the run never saw
    path.write_text("".join(lines))
    return path


def test_evaluate_demand_writes_the_months_of_a_new_file(tmp_path: Path, capsys):
    run = _online_retail_run(tmp_path / "run")
    out = tmp_path / "held.csv"
    assert main(["evaluate-demand", "--run", str(run), "--data", str(_held_out_file(tmp_path / "next.csv")),
                 "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    assert frame["month"].tolist() == ["2012-01", "2012-10"] and set(frame["split"]) == {"held_out"}
    assert frame["out_of_season"].tolist() == [False, True]
    printed = capsys.readouterr().out
    assert "held-out months 2012-10 fall in autumn" in printed and "1 sales of 1 products the run never saw" in printed


def test_evaluate_demand_refuses_a_missing_run_in_one_line(tmp_path: Path, capsys):
    status = main(["evaluate-demand", "--run", str(tmp_path / "nowhere"), "--data", str(tmp_path / "x.csv")])
    error = capsys.readouterr().err.strip()
    assert status != 0 and len(error.splitlines()) == 1 and "no such run folder" in error
