"""Market conditions of the synthetic world: the calendar and a competitor's prices.

* Weekday and season come from the date (northern-hemisphere seasons by month).
* Holidays are New Year's Day, 1 May, 24-26 and 31 December, and Black Friday (the fourth Friday
  of November): days on which shoppers are more willing to buy.
* A competitor prices every product around its list price; the log of its price ratio follows
  an AR(1) walk over days (persistence :data:`COMPETITOR_PERSISTENCE`, stationary sd about 10%).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pricegym.worlds.demand import MarketContext
from pricegym.worlds.schema import SEASONS, season_of_month

FIXED_HOLIDAYS: tuple[tuple[int, int], ...] = ((1, 1), (5, 1), (12, 24), (12, 25), (12, 26), (12, 31))
COMPETITOR_PERSISTENCE = 0.9
COMPETITOR_INNOVATION_SD = 0.045


@dataclass(frozen=True)
class Calendar:
    """The logged days and their market conditions, one entry per day."""

    dates: pd.DatetimeIndex
    weekday: np.ndarray
    season: np.ndarray  # index into SEASONS
    holiday: np.ndarray

    @property
    def season_names(self) -> np.ndarray:
        return np.take(SEASONS, self.season)


def build_calendar(start_date: str, n_days: int) -> Calendar:
    """Weekday, season and holiday flag for ``n_days`` consecutive days from ``start_date``."""
    dates = pd.date_range(start_date, periods=n_days, freq="D")
    return Calendar(
        dates=dates,
        weekday=dates.day_of_week.to_numpy(),
        season=season_of_month(dates.month.to_numpy()),
        holiday=_is_holiday(dates),
    )


def _is_holiday(dates: pd.DatetimeIndex) -> np.ndarray:
    month, day = dates.month.to_numpy(), dates.day.to_numpy()
    fixed = np.zeros(len(dates), dtype=bool)
    for holiday_month, holiday_day in FIXED_HOLIDAYS:
        fixed |= (month == holiday_month) & (day == holiday_day)
    black_friday = (month == 11) & (dates.day_of_week.to_numpy() == 4) & (day >= 22) & (day <= 28)
    return fixed | black_friday


def build_competitor_prices(list_prices: np.ndarray, n_days: int, rng: np.random.Generator) -> np.ndarray:
    """Competitor price per day x product: list price times an AR(1) log-ratio walk."""
    stationary_sd = COMPETITOR_INNOVATION_SD / np.sqrt(1.0 - COMPETITOR_PERSISTENCE**2)
    log_ratio = np.empty((n_days, list_prices.size))
    log_ratio[0] = rng.normal(0.0, stationary_sd, list_prices.size)
    for day in range(1, n_days):
        innovation = rng.normal(0.0, COMPETITOR_INNOVATION_SD, list_prices.size)
        log_ratio[day] = COMPETITOR_PERSISTENCE * log_ratio[day - 1] + innovation
    return np.round(list_prices * np.exp(log_ratio), 2)


def context_on_days(calendar: Calendar, days: np.ndarray, competitor_price: np.ndarray) -> MarketContext:
    """The market context of exposures on ``days`` (indices into the calendar)."""
    return MarketContext(
        weekday=calendar.weekday[days],
        season=calendar.season[days],
        holiday=calendar.holiday[days],
        competitor_price=np.asarray(competitor_price, dtype=float),
    )
