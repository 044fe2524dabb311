"""The benchmark's statistics: intervals from ``scipy.stats.bootstrap``, paired uplifts, the risk view.

Returns come as ``[n_train_seeds, n_episodes]`` arrays (rules and the oracle have one "training seed"). Every
policy plays the same seasons, so the episodes are the paired unit:

* ``mean_return`` and its interval: the mean over seeds and seasons; the interval resamples the seasons
  (BCa bootstrap of the per-season mean over training seeds). With several training seeds,
  ``seed_ci95_low``/``seed_ci95_high`` add a Student-t interval of the per-seed means: the spread a user
  sees when training once more.
* ``uplift_vs_supervised_pct``: ``100 x (mean(policy) / mean(supervised) - 1)`` with a paired BCa bootstrap
  over seasons (the same resampled seasons for both).
* ``pct_of_oracle``: ``100 x sum(returns) / sum(yardstick)`` (a ratio of means, as the training callback).
* The revenue risk view over all (seed, season) returns: ``p10_return``, ``p90_return`` and ``cvar10_return``
  (the mean of the worst 10% of seasons).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import stats


def _bootstrap(data: tuple[np.ndarray, ...], statistic: Any, level: float, resamples: int, paired: bool,
               seed: int) -> tuple[float | None, float | None]:
    """The BCa bootstrap interval of ``statistic`` (None, None when the data have no spread)."""
    if data[0].size < 3 or all(np.ptp(values) == 0 for values in data):
        return None, None
    if paired and len(data) == 2 and np.array_equal(data[0], data[1]):  # the baseline against itself
        return None, None
    with warnings.catch_warnings():  # a degenerate BCa interval is replaced by the percentile one below
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap(data, statistic, paired=paired, confidence_level=level, n_resamples=resamples,
                                 method="BCa", random_state=np.random.default_rng(seed), vectorized=True, axis=-1)
    low, high = result.confidence_interval
    if not (np.isfinite(low) and np.isfinite(high)):  # BCa can fail on degenerate resamples
        result = stats.bootstrap(data, statistic, paired=paired, confidence_level=level, n_resamples=resamples,
                                 method="percentile", random_state=np.random.default_rng(seed), vectorized=True,
                                 axis=-1)
        low, high = result.confidence_interval
    return float(low), float(high)


def mean_interval(returns: np.ndarray, level: float = 0.95, resamples: int = 9999,
                  seed: int = 0) -> dict[str, float | None]:
    """``mean_return`` with its season-bootstrap interval and, over several seeds, a t interval over seeds."""
    returns = np.atleast_2d(np.asarray(returns, dtype=float))
    per_season = returns.mean(axis=0)
    low, high = _bootstrap((per_season,), lambda values, axis=-1: np.mean(values, axis=axis), level, resamples,
                           False, seed)
    summary: dict[str, float | None] = {"mean_return": float(returns.mean()), "ci95_low": low, "ci95_high": high,
                                        "seed_ci95_low": None, "seed_ci95_high": None}
    if returns.shape[0] >= 2:
        per_seed = returns.mean(axis=1)
        if np.ptp(per_seed) > 0:
            interval = stats.ttest_1samp(per_seed, 0.0).confidence_interval(level)
            summary.update(seed_ci95_low=float(interval.low), seed_ci95_high=float(interval.high))
    return summary


def difference_interval(differences: np.ndarray | list[float], level: float = 0.95,
                        resamples: int = 9999) -> dict[str, float | None]:
    """The mean of paired ``differences`` (e.g. one per training seed) with a Student-t interval (the point itself
    when every difference is the same) and a BCa bootstrap interval (from 3 differences with a spread)."""
    values = np.asarray(differences, dtype=float)
    summary: dict[str, float | None] = {"mean": float(values.mean()), "t_low": None, "t_high": None}
    if values.size >= 2 and np.ptp(values) == 0:
        summary.update(t_low=float(values[0]), t_high=float(values[0]))
    elif values.size >= 2:
        interval = stats.ttest_1samp(values, 0.0).confidence_interval(level)
        summary.update(t_low=float(interval.low), t_high=float(interval.high))
    low, high = _bootstrap((values,), lambda sample, axis=-1: np.mean(sample, axis=axis), level, resamples, False, 0)
    return {**summary, "bootstrap_low": low, "bootstrap_high": high}


def _ratio_uplift(policy: np.ndarray, baseline: np.ndarray, axis: int = -1) -> np.ndarray:
    return 100.0 * (np.mean(policy, axis=axis) / np.mean(baseline, axis=axis) - 1.0)


def uplift_interval(returns: np.ndarray, baseline: np.ndarray, level: float = 0.95, resamples: int = 9999,
                    seed: int = 0) -> dict[str, float | None]:
    """``uplift_vs_supervised_pct`` of ``returns`` over ``baseline`` (same seasons) with a paired interval."""
    policy = np.atleast_2d(np.asarray(returns, dtype=float)).mean(axis=0)
    reference = np.atleast_2d(np.asarray(baseline, dtype=float)).mean(axis=0)
    if policy.shape != reference.shape:
        raise ValueError(f"uplift: {policy.shape[0]} seasons against {reference.shape[0]}; pair the same seasons")
    low, high = _bootstrap((policy, reference), _ratio_uplift, level, resamples, True, seed)
    return {"uplift_vs_supervised_pct": float(_ratio_uplift(policy, reference)), "uplift_ci95_low": low,
            "uplift_ci95_high": high}


def risk_view(returns: np.ndarray) -> dict[str, float]:
    """10th and 90th percentiles and the CVaR at 10% (mean of the worst tenth) of all returns."""
    values = np.sort(np.asarray(returns, dtype=float).ravel())
    worst = values[:max(1, int(np.ceil(0.1 * values.size)))]
    return {"p10_return": float(np.percentile(values, 10)), "p90_return": float(np.percentile(values, 90)),
            "cvar10_return": float(worst.mean())}


def pct_of_yardstick(returns: np.ndarray, yardstick: np.ndarray | None) -> float | None:
    """``100 x mean(returns) / mean(yardstick)`` (None without a yardstick)."""
    if yardstick is None:
        return None
    return float(100.0 * np.asarray(returns, dtype=float).mean() / np.asarray(yardstick, dtype=float).mean())
