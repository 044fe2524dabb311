"""The one vocabulary and transactions schema of pricegym.

Every world (synthetic or real) produces a table of *transactions*: who saw or bought what, at
which price, under which market conditions. This module is the single place that defines its
columns, their dtypes and their meaning, and the single validator that every loader calls.

Vocabulary
----------
``list_price``
    A product's static price, the catalogue price. It never changes within a world.
``unit_cost``
    What one unit costs the seller, so that margins (``price - unit_cost``) exist everywhere.
``price``
    What was offered (exposure worlds) or paid (sales worlds) in one transaction.
``quantity``
    Units bought; 0 where the world records an exposure without a purchase.
``reference_price``
    A customer's (or segment's) memory of past prices. It is a *state that moves*
    (``r <- theta * r + (1 - theta) * price`` after each price seen), never a static column, so it
    is deliberately absent from the schema: demand models receive it as an argument.
Market conditions
    ``weekday`` (0 = Monday ... 6 = Sunday), ``season`` (one of :data:`SEASONS`), ``holiday``
    (a public or shopping holiday), ``competitor_price`` (a rival's price for the product, NaN where
    not known).

Worlds may add columns of their own (for example ``customer_segment``, ``product_category`` or
``price_source``); the validator checks the required ones and lets the others through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api import types as pdt

from pricegym.errors import DataError
from pricegym.safe_writes import atomic_file

SEASONS: tuple[str, ...] = ("winter", "spring", "summer", "autumn")
"""Seasons by index; :func:`season_of_month` maps a calendar month to one."""


def season_of_month(month: np.ndarray | int) -> np.ndarray:
    """Season index (into :data:`SEASONS`) of calendar months 1-12 (northern hemisphere)."""
    return (np.asarray(month) % 12) // 3


@dataclass(frozen=True)
class Column:
    """One column of the transactions schema."""

    name: str
    kind: str  # one of "string", "datetime", "float", "int", "bool"
    meaning: str


_KIND_CHECKS: dict[str, Callable[[pd.Series], bool]] = {
    "string": lambda s: pdt.is_string_dtype(s) or (pdt.is_object_dtype(s) and s.map(type).eq(str).all()),
    "datetime": pdt.is_datetime64_any_dtype,
    "float": pdt.is_float_dtype,
    "int": lambda s: pdt.is_integer_dtype(s) and not pdt.is_bool_dtype(s),
    "bool": pdt.is_bool_dtype,
}

TRANSACTION_COLUMNS: tuple[Column, ...] = (
    Column("customer_id", "string", "who saw or bought; a customer, or a customer type such as a guest"),
    Column("customer_text", "string", "the customer's static text profile, read by the language model"),
    Column("product_id", "string", "the product's identifier in its world"),
    Column("product_text", "string", "the product's title and description, read by the language model"),
    Column("timestamp", "datetime", "when the exposure or sale happened"),
    Column("list_price", "float", "the product's static catalogue price"),
    Column("unit_cost", "float", "what one unit costs the seller"),
    Column("price", "float", "the price offered or paid"),
    Column("quantity", "int", "units bought; 0 for an exposure without purchase"),
    Column("weekday", "int", "0 = Monday ... 6 = Sunday"),
    Column("season", "string", "winter, spring, summer or autumn"),
    Column("holiday", "bool", "a public or shopping holiday"),
    Column("competitor_price", "float", "a rival's price for the product; NaN where not known"),
)
"""The required columns, in their canonical order."""

COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in TRANSACTION_COLUMNS)


def validate_transactions(frame: pd.DataFrame, source: object = "transactions") -> pd.DataFrame:
    """Check that ``frame`` follows the transactions schema and return it with columns in order.

    Checks column presence, dtypes, and the values every world must respect (positive finite
    prices, non-negative costs and quantities, known seasons and weekdays).

    Raises:
        DataError: naming ``source`` and the first problem found.
    """
    missing = [name for name in COLUMN_NAMES if name not in frame.columns]
    if missing:
        raise DataError(
            source,
            f"missing column(s) {missing}; a transactions table needs {list(COLUMN_NAMES)} "
            "(see pricegym.worlds.schema)",
        )
    for column in TRANSACTION_COLUMNS:
        if not _KIND_CHECKS[column.kind](frame[column.name]):
            raise DataError(
                source,
                f"column {column.name!r} should hold {column.kind} values but has dtype "
                f"{frame[column.name].dtype}; convert it before loading",
            )
    if frame.empty:
        raise DataError(source, "holds no transactions; expected at least one row")
    _check_values(frame, source)
    extras = [name for name in frame.columns if name not in COLUMN_NAMES]
    return frame[list(COLUMN_NAMES) + extras]


def _check_values(frame: pd.DataFrame, source: object) -> None:
    for name in ("list_price", "price"):
        values = frame[name].to_numpy()
        if not np.all(np.isfinite(values) & (values > 0)):
            raise DataError(source, f"column {name!r} must be finite and positive; found {_first_bad(values)}")
    costs = frame["unit_cost"].to_numpy()
    if not np.all(np.isfinite(costs) & (costs >= 0)):
        raise DataError(source, f"column 'unit_cost' must be finite and >= 0; found {_first_bad(costs)}")
    if (frame["quantity"] < 0).any():
        raise DataError(source, "column 'quantity' must be >= 0 (exposures without purchase record 0)")
    if not frame["weekday"].between(0, 6).all():
        raise DataError(source, "column 'weekday' must lie in 0..6 (0 = Monday)")
    unknown_seasons = set(frame["season"].unique()) - set(SEASONS)
    if unknown_seasons:
        raise DataError(source, f"column 'season' holds {sorted(unknown_seasons)}; expected one of {SEASONS}")
    competitor = frame["competitor_price"].to_numpy()
    if np.any(competitor[~np.isnan(competitor)] <= 0):
        raise DataError(source, "column 'competitor_price' must be positive or NaN (unknown)")


def _first_bad(values: np.ndarray) -> str:
    bad = values[~(np.isfinite(values) & (values > 0))]
    return f"{bad[0]!r} ({bad.size} bad row(s))" if bad.size else "no bad value"


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` to CSV or Parquet by ``path``'s extension, atomically.

    The file appears complete or not at all: it is written beside its destination under a
    temporary name, then renamed (:func:`pricegym.safe_writes.atomic_file`: missing folders are
    created, the temporary file is removed on every exit path, Ctrl-C included).

    Raises:
        DataError: for an extension other than ``.csv``, ``.csv.gz`` or ``.parquet``.
        WriteError: when ``path`` cannot be written (a parent that is a file, a folder of that name,
            no permission, a full disk).
    """
    path = Path(path)
    writer = writer_for(path)
    with atomic_file(path) as partial:
        writer(frame, partial)
    return path


def writer_for(path: Path) -> Callable[[pd.DataFrame, Path], None]:
    """The writer of ``path``'s format; raises :class:`DataError` for an unknown extension."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        return lambda frame, target: frame.to_parquet(target, index=False)
    if name.endswith(".csv") or name.endswith(".csv.gz"):
        compression = "gzip" if name.endswith(".gz") else None
        return lambda frame, target: frame.to_csv(target, index=False, compression=compression)
    raise DataError(path, "unknown output format; expected a file name ending in .csv, .csv.gz or .parquet")


def read_transactions(path: str | Path) -> pd.DataFrame:
    """Read a transactions table written by :func:`write_table` and validate it."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "no such file")
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            frame = pd.read_parquet(path)
        elif name.endswith(".csv") or name.endswith(".csv.gz"):
            frame = pd.read_csv(path, parse_dates=["timestamp"], dtype={"customer_id": str, "product_id": str})
        else:
            raise DataError(path, "unknown format; expected .csv, .csv.gz or .parquet")
    except (OSError, ValueError, EOFError) as error:
        raise DataError(path, f"could not be read ({error})") from error
    return validate_transactions(frame, path)
