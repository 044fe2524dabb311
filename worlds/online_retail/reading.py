"""Reading the raw UCI Online Retail CSV (the layout of ``online_retail.csv.gz``) with typed columns.

The fast path lets the CSV parser type the numeric columns itself; only when that fails is the
file read again as text, to name the column, row and value at fault.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from pricegym.errors import DataError

RAW_COLUMNS: dict[str, str] = {
    "InvoiceNo": "text",
    "StockCode": "text",
    "Description": "text",
    "Quantity": "integer",
    "InvoiceDate": "date-time (YYYY-MM-DD HH:MM:SS)",
    "UnitPrice": "number",
    "CustomerID": "integer or blank",
    "Country": "text",
}
"""The columns of the raw file and what each must hold."""

_PARSER_DTYPES: dict[str, str] = {
    "InvoiceNo": "str",
    "StockCode": "str",
    "Description": "str",
    "Quantity": "int64",
    "InvoiceDate": "str",
    "UnitPrice": "float64",
    "CustomerID": "Int64",
    "Country": "str",
}

_READ_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error, OSError, UnicodeDecodeError, pd.errors.ParserError)


def read_raw_transactions(path: str | Path) -> pd.DataFrame:
    """Read the raw CSV (gzip or plain, by content) and type its columns.

    Returns:
        The eight :data:`RAW_COLUMNS` (extra columns are dropped): ``Quantity`` int64,
        ``UnitPrice`` float64, ``InvoiceDate`` datetime64, ``CustomerID`` nullable Int64, the rest
        strings (``Description`` may be missing; a missing ``Country`` reads ``Unspecified``).

    Raises:
        DataError: naming ``path`` for a missing file, an unreadable or corrupt file, a missing
            column, or a column whose values do not have the expected type.
    """
    path = Path(path)
    if not _is_file(path):
        raise DataError(
            path,
            "no such file; pass the path of online_retail.csv.gz (CLI: --data), or leave the path unset to download it",
        )
    header = _read(path, nrows=0)
    missing = [name for name in RAW_COLUMNS if name not in header.columns]
    if missing:
        found = list(header.columns)
        raise DataError(path, f"missing column(s) {missing}; expected the columns {list(RAW_COLUMNS)} (found {found})")
    try:
        raw = _read(path, usecols=list(RAW_COLUMNS), dtype=_PARSER_DTYPES)
    except (ValueError, TypeError, OverflowError):
        raw = _read(path, usecols=list(RAW_COLUMNS), dtype=str)
        for name, integer, optional in (("Quantity", True, False), ("UnitPrice", False, False),
                                        ("CustomerID", True, True)):
            raw[name] = _parse_numbers(raw[name], name, path, integer=integer, optional=optional)
    if raw["Quantity"].isna().any() or raw["UnitPrice"].isna().any():
        name = "Quantity" if raw["Quantity"].isna().any() else "UnitPrice"
        _raise_bad(path, name, raw[name].isna(), raw[name])
    for name in ("InvoiceNo", "StockCode"):
        if raw[name].isna().any():
            _raise_bad(path, name, raw[name].isna(), raw[name])
    raw["InvoiceDate"] = _parse_dates(raw["InvoiceDate"], path)
    raw["Quantity"] = raw["Quantity"].astype("int64")
    raw["UnitPrice"] = raw["UnitPrice"].astype("float64")
    raw["Country"] = raw["Country"].fillna("Unspecified")
    return raw[list(RAW_COLUMNS)]


def _is_file(path: Path) -> bool:
    """Whether ``path`` is a file; a path the system cannot even look up (too long) is a DataError."""
    try:
        return path.is_file()
    except (OSError, ValueError) as error:
        raise DataError(path, f"cannot be read ({getattr(error, 'strerror', None) or error}); pass the path of "
                              "online_retail.csv.gz") from None


def _read(path: Path, **options: object) -> pd.DataFrame:
    """``pd.read_csv`` with blanks as missing, turning unreadable input into a :class:`DataError`."""
    compression = "gzip" if _is_gzip(path) else None
    try:
        return pd.read_csv(path, keep_default_na=False, na_values=[""], compression=compression, **options)
    except pd.errors.EmptyDataError as error:
        raise DataError(path, "is empty; expected a CSV with the header " + ",".join(RAW_COLUMNS)) from error
    except _READ_ERRORS as error:
        kind = "gzip-compressed CSV" if compression else "CSV"
        raise DataError(path, f"could not be read as a {kind} ({type(error).__name__}: {error}); "
                              "the file is damaged or truncated: replace it") from error


def _is_gzip(path: Path) -> bool:
    """Whether the file starts with the gzip magic bytes, or is named ``*.gz``."""
    with path.open("rb") as stream:
        return stream.read(2) == b"\x1f\x8b" or path.name.lower().endswith(".gz")


def _parse_numbers(values: pd.Series, name: str, path: Path, *, integer: bool, optional: bool) -> pd.Series:
    """Parse a text column as numbers; DataError naming the column and the first bad value."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = (numbers.isna() & values.notna()) | (values.isna() & (not optional))
    if integer:
        filled = numbers.fillna(0)
        bad |= numbers.notna() & ~(np.isfinite(filled) & (filled % 1 == 0) & (filled.abs() < 2**63))  # int64
    if bad.any():
        _raise_bad(path, name, bad, values)
    return numbers.round().astype("Int64") if integer else numbers.astype("float64")


def _parse_dates(values: pd.Series, path: Path) -> pd.Series:
    """Parse ``InvoiceDate`` text; DataError naming the column and the first bad value."""
    dates = pd.to_datetime(values, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    if dates.isna().any():
        dates = dates.fillna(pd.to_datetime(values[dates.isna()], format="ISO8601", errors="coerce"))
    if dates.isna().any():
        _raise_bad(path, "InvoiceDate", dates.isna(), values)
    outside = (dates < pd.Timestamp.min) | (dates > pd.Timestamp.max)
    if outside.any():
        row = int(np.argmax(outside.to_numpy())) + 2
        raise DataError(path, f"column 'InvoiceDate' holds {values[outside].iloc[0]!r} on line {row}, outside the "
                              f"dates pricegym handles ({pd.Timestamp.min:%Y-%m-%d} to {pd.Timestamp.max:%Y-%m-%d}; "
                              f"{int(outside.sum())} bad row(s)); fix or remove those rows")
    return dates.astype("datetime64[ns]")


def _raise_bad(path: Path, name: str, bad: pd.Series, values: pd.Series) -> None:
    """Raise the DataError for a column whose ``bad`` rows do not hold the expected type."""
    row = int(np.argmax(bad.to_numpy())) + 2  # 1-based, after the header line
    shown = values[bad].iloc[0]
    raise DataError(
        path,
        f"column {name!r} should hold {RAW_COLUMNS[name]} values but line {row} holds "
        f"{'a blank' if pd.isna(shown) else repr(shown)} ({int(bad.sum())} bad row(s)); fix or remove those rows",
    )
