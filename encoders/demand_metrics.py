"""Metrics of demand models: discrimination and calibration, and error against the ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

PROBABILITY_FLOOR = 1e-7


def log_loss(probability: np.ndarray, bought: np.ndarray) -> float:
    """Mean negative log-likelihood of Bernoulli outcomes."""
    p = np.clip(probability, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
    return float(-np.mean(bought * np.log(p) + (1.0 - bought) * np.log1p(-p)))


def auc(score: np.ndarray, bought: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties averaged); NaN with a single class."""
    positives = bought > 0
    n_positive, n_negative = positives.sum(), (~positives).sum()
    if n_positive == 0 or n_negative == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[positives].sum() - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative))


def expected_calibration_error(probability: np.ndarray, bought: np.ndarray, bins: int = 10) -> float:
    """Row-weighted mean |observed rate - mean predicted probability| over equal-width bins."""
    bin_index = np.minimum((probability * bins).astype(int), bins - 1)
    error = 0.0
    for b in np.unique(bin_index):
        members = bin_index == b
        error += members.mean() * abs(bought[members].mean() - probability[members].mean())
    return float(error)


def poisson_deviance(rate: np.ndarray, count: np.ndarray) -> float:
    """Mean Poisson deviance ``2 * (y log(y / mu) - (y - mu))``."""
    rate = np.maximum(rate, PROBABILITY_FLOOR)
    ratio_term = np.where(count > 0, count * np.log(np.where(count > 0, count, 1.0) / rate), 0.0)
    return float(np.mean(2.0 * (ratio_term - (count - rate))))


def calibration_by_decile(rate: np.ndarray, count: np.ndarray) -> pd.DataFrame:
    """Mean predicted and observed count per decile of predicted count."""
    decile = pd.qcut(rankdata(rate, method="ordinal"), 10, labels=False)
    frame = pd.DataFrame({"decile": decile + 1, "predicted": rate, "observed": count})
    return frame.groupby("decile").mean()


def exposure_metrics(probability: np.ndarray, bought: np.ndarray) -> dict[str, float]:
    """Log-loss, AUC and expected calibration error."""
    return {"log_loss": log_loss(probability, bought), "auc": auc(probability, bought),
            "ece": expected_calibration_error(probability, bought)}


def count_metrics(rate: np.ndarray, count: np.ndarray) -> dict[str, float]:
    """Poisson deviance and the worst relative miscalibration over deciles of predicted count."""
    deciles = calibration_by_decile(rate, count)
    worst = float(np.max(np.abs(deciles["observed"] - deciles["predicted"]) / np.maximum(deciles["predicted"], 1e-9)))
    return {"poisson_deviance": poisson_deviance(rate, count), "worst_decile_relative_error": worst,
            "mean_predicted": float(rate.mean()), "mean_observed": float(count.mean())}
