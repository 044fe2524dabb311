"""Market-condition columns of the online-retail world: weekday, season and UK bank holidays."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pricegym.worlds.schema import SEASONS, season_of_month

UK_BANK_HOLIDAYS: tuple[str, ...] = (
    "2010-12-27",  # Christmas Day (substitute day)
    "2010-12-28",  # Boxing Day (substitute day)
    "2011-01-03",  # New Year's Day (substitute day)
    "2011-04-22",  # Good Friday
    "2011-04-25",  # Easter Monday
    "2011-04-29",  # Wedding of Prince William and Catherine Middleton (one-off)
    "2011-05-02",  # Early May bank holiday
    "2011-05-30",  # Spring bank holiday
    "2011-08-29",  # Summer bank holiday
    "2011-12-26",  # Christmas Day (substitute day)
    "2011-12-27",  # Boxing Day (substitute day)
)
"""Bank holidays of England and Wales from December 2010 to December 2011 (the data's span),
as published by GOV.UK. The retailer is UK-based and 91% of its rows are UK sales, so these are
its holidays; other countries' holidays are not recorded."""

_HOLIDAYS = pd.DatetimeIndex(pd.to_datetime(list(UK_BANK_HOLIDAYS)))


def calendar_columns(timestamps: pd.Series) -> pd.DataFrame:
    """``weekday`` (0 = Monday), ``season`` (one of :data:`SEASONS`) and ``holiday`` of each time.

    Raises nothing for times outside 2010-12..2011-12: they are simply not holidays.
    """
    values = pd.DatetimeIndex(timestamps)
    seasons = np.asarray(SEASONS, dtype=object)[season_of_month(values.month.to_numpy())]
    columns = pd.DataFrame(
        {
            "weekday": values.day_of_week.to_numpy().astype("int64"),
            "season": seasons,
            "holiday": values.normalize().isin(_HOLIDAYS),
        },
        index=timestamps.index,
    )
    return columns.astype({"season": str})
