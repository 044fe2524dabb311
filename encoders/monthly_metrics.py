"""Demand metrics by calendar month, and which evaluated months fall in seasons training never saw.

A model fitted on December to August has never seen autumn; its overall test deviance mixes that
extrapolation with everything else. :func:`metrics_by_month` scores every model on every split and
calendar month with the run's own metric (mean Poisson deviance for count worlds, log-loss for
exposure worlds, as :func:`~pricegym.encoders.demand_evaluation.split_metrics`) and its calibration
(mean predicted and observed demand, and their ratio ``sum predicted / sum observed``: 1 is
calibrated, above 1 over-predicts). :func:`season_coverage` lists the months and seasons
(:data:`~pricegym.worlds.schema.SEASONS`, by :func:`~pricegym.worlds.schema.season_of_month`) of the
training rows, and flags each evaluated month whose season no training row fell in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pricegym.encoders.demand_data import DemandData
from pricegym.encoders.demand_metrics import log_loss, poisson_deviance
from pricegym.worlds.schema import SEASONS, season_of_month

MONTHLY_METRICS_FILE = "metrics_by_month.csv"
DEVIANCE_COLUMNS = {"purchase_probability": "log_loss", "expected_quantity": "poisson_deviance"}
"""The per-row loss of each response: what the month's mean deviance means."""
PREDICTION_CHUNK_ROWS = 200_000
"""Rows predicted at once (the frozen-embedding GLM builds ~100 features per row)."""


def month_labels(timestamps: Iterable) -> np.ndarray:
    """The calendar month (``"2011-10"``) of every timestamp."""
    return pd.DatetimeIndex(pd.to_datetime(np.asarray(timestamps))).strftime("%Y-%m").to_numpy(dtype=object)


def season_of_label(month: str) -> str:
    """The season (one of :data:`SEASONS`) of a ``"YYYY-MM"`` month."""
    return SEASONS[int(season_of_month(int(month[5:7])))]


def month_metrics(demand: np.ndarray, outcome: np.ndarray, response: str) -> dict[str, float]:
    """Rows, mean deviance (:data:`DEVIANCE_COLUMNS`) and calibration of one group of rows."""
    deviance = log_loss if response == "purchase_probability" else poisson_deviance
    observed = float(outcome.sum())
    return {
        "rows": int(outcome.size),
        DEVIANCE_COLUMNS[response]: deviance(demand, outcome),
        "mean_predicted": float(demand.mean()),
        "mean_observed": float(outcome.mean()),
        "calibration_ratio": float(demand.sum()) / observed if observed > 0 else float("nan"),
    }


def predict_in_chunks(predict: Callable[[DemandData], np.ndarray], data: DemandData,
                      chunk_rows: int = PREDICTION_CHUNK_ROWS) -> np.ndarray:
    """``predict(data)``, ``chunk_rows`` rows at a time."""
    parts = [predict(data.take(np.arange(start, min(start + chunk_rows, len(data)))))
             for start in range(0, len(data), chunk_rows)]
    return np.concatenate(parts) if parts else np.zeros(0)


def metrics_by_month(models: dict[str, Callable[[DemandData], np.ndarray]], data: DemandData, split: np.ndarray,
                     months: np.ndarray, response: str, splits: Iterable[str]) -> pd.DataFrame:
    """One row per split x month x model (splits in the given order, months in time order)."""
    records = []
    for split_name in splits:
        in_split = np.flatnonzero(split == split_name)
        if in_split.size == 0:
            continue
        split_data, split_months = data.take(in_split), months[in_split]
        predictions = {name: predict_in_chunks(predict, split_data) for name, predict in models.items()}
        for month in sorted(set(split_months)):
            chosen = split_months == month
            for name, demand in predictions.items():
                records.append({"split": split_name, "month": month, "season": season_of_label(month), "model": name,
                                **month_metrics(demand[chosen], split_data.outcome[chosen], response)})
    return pd.DataFrame(records)


@dataclass(frozen=True)
class SeasonCoverage:
    """The calendar months and seasons training covered, and the evaluated months outside them.

    Attributes:
        training_months: ``"YYYY-MM"`` months with training rows, in time order.
        training_seasons: their seasons, in :data:`SEASONS` order.
        out_of_season_months: evaluated months whose season has no training row.
        unseen_calendar_months: evaluated months whose month of the year (e.g. October, any
            year) has no training row; a superset of ``out_of_season_months``.
    """

    training_months: tuple[str, ...]
    training_seasons: tuple[str, ...]
    out_of_season_months: tuple[str, ...]
    unseen_calendar_months: tuple[str, ...]

    def warning(self, what: str = "test") -> str | None:
        """One line naming the out-of-season months, or None when every season was seen."""
        if not self.out_of_season_months:
            return None
        seasons = sorted({season_of_label(month) for month in self.out_of_season_months}, key=SEASONS.index)
        return (f"warning: {what} months {', '.join(self.out_of_season_months)} fall in {' and '.join(seasons)}, "
                f"a season outside those seen in training ({', '.join(self.training_seasons)}; training months "
                f"{self.training_months[0]} to {self.training_months[-1]}): their metrics measure extrapolation")

    def card(self) -> dict[str, list[str]]:
        """The model card's fields."""
        return {"training_months": list(self.training_months), "training_seasons": list(self.training_seasons),
                "out_of_season_test_months": list(self.out_of_season_months),
                "unseen_calendar_test_months": list(self.unseen_calendar_months)}


def season_coverage(training_months: Iterable[str], evaluated_months: Iterable[str]) -> SeasonCoverage:
    """Which seasons and months of the year ``training_months`` cover, and which evaluated months they miss."""
    trained = sorted(set(training_months))
    seasons = {season_of_label(month) for month in trained}
    months_of_year = {month[5:7] for month in trained}
    evaluated = sorted(set(evaluated_months))
    return SeasonCoverage(
        training_months=tuple(trained), training_seasons=tuple(s for s in SEASONS if s in seasons),
        out_of_season_months=tuple(m for m in evaluated if season_of_label(m) not in seasons),
        unseen_calendar_months=tuple(m for m in evaluated if m[5:7] not in months_of_year))


def flag_coverage(frame: pd.DataFrame, coverage: SeasonCoverage) -> pd.DataFrame:
    """``frame`` with ``season_seen_in_training``, ``month_of_year_seen_in_training`` and ``out_of_season``."""
    seasons, months_of_year = set(coverage.training_seasons), {m[5:7] for m in coverage.training_months}
    season_seen = frame["season"].isin(seasons)
    return frame.assign(season_seen_in_training=season_seen,
                        month_of_year_seen_in_training=frame["month"].str[5:7].isin(months_of_year),
                        out_of_season=~season_seen)


def run_monthly_metrics(models: dict[str, Callable[[DemandData], np.ndarray]], data: DemandData,
                        split: np.ndarray, timestamps: np.ndarray, response: str,
                        splits: Iterable[str] = ("train", "validation", "test", "cold_start_test"),
                        ) -> tuple[pd.DataFrame, SeasonCoverage]:
    """The flagged per-month table of a fit's splits, and the coverage of its test split's months (the
    cold-start split spans the whole calendar, training months included: its rows are flagged in the
    table, not named in the warning)."""
    months = month_labels(timestamps)
    coverage = season_coverage(months[split == "train"], months[split == "test"])
    return flag_coverage(metrics_by_month(models, data, split, months, response, splits), coverage), coverage


def monthly_card(frame: pd.DataFrame, coverage: SeasonCoverage) -> dict[str, object]:
    """The model card's ``by_month``: the file, the coverage of the test split (:meth:`SeasonCoverage.card`),
    the flagged months of every split, and the warning."""
    flagged = frame[frame["out_of_season"]].groupby("split", sort=False)["month"].unique()
    return {"file": MONTHLY_METRICS_FILE, **coverage.card(),
            "out_of_season_months_by_split": {split: sorted(months) for split, months in flagged.items()},
            "warning": coverage.warning()}


def monthly_summary(frame: pd.DataFrame, response: str, split: str = "test") -> pd.DataFrame:
    """The rows of ``split`` as the console prints them: month, model, deviance and calibration."""
    columns = ["month", "season", "out_of_season", "model", "rows", DEVIANCE_COLUMNS[response],
               "mean_predicted", "mean_observed", "calibration_ratio"]
    return frame.loc[frame["split"] == split, columns] if len(frame) else pd.DataFrame(columns=columns)
