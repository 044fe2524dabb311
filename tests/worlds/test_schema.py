"""The transactions schema: validation on load, and atomic CSV/Parquet writing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pricegym.errors import DataError
from pricegym.worlds.schema import COLUMN_NAMES, read_transactions, validate_transactions, write_table


def valid_frame(rows: int = 3) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [f"C{i}" for i in range(rows)],
        "customer_text": ["student in Lyon"] * rows,
        "product_id": [f"P{i}" for i in range(rows)],
        "product_text": ["A notebook"] * rows,
        "timestamp": pd.date_range("2024-01-01", periods=rows, freq="D"),
        "list_price": [10.0] * rows,
        "unit_cost": [4.0] * rows,
        "price": [9.5] * rows,
        "quantity": np.arange(rows, dtype=np.int64),
        "weekday": np.zeros(rows, dtype=np.int64),
        "season": ["winter"] * rows,
        "holiday": [False] * rows,
        "competitor_price": [np.nan] * rows,
    })


def test_a_valid_frame_passes_and_keeps_extra_columns_after_the_schema():
    frame = valid_frame().assign(price_source="incumbent")
    validated = validate_transactions(frame[list(reversed(frame.columns))])
    assert list(validated.columns) == [*COLUMN_NAMES, "price_source"]


@pytest.mark.parametrize("change, message", [
    (lambda f: f.drop(columns=["price"]), "missing column"),
    (lambda f: f.assign(price=["9.5"] * 3), "'price' should hold float"),
    (lambda f: f.assign(timestamp=["2024-01-01"] * 3), "'timestamp' should hold datetime"),
    (lambda f: f.assign(quantity=[1.0, 2.0, 3.0]), "'quantity' should hold int"),
    (lambda f: f.assign(price=[9.5, -1.0, 9.5]), "'price' must be finite and positive"),
    (lambda f: f.assign(list_price=[10.0, np.nan, 10.0]), "'list_price' must be finite and positive"),
    (lambda f: f.assign(unit_cost=[-1.0, 4.0, 4.0]), "'unit_cost'"),
    (lambda f: f.assign(quantity=np.array([0, -1, 2], dtype=np.int64)), "'quantity' must be >= 0"),
    (lambda f: f.assign(weekday=np.array([0, 7, 1], dtype=np.int64)), "'weekday'"),
    (lambda f: f.assign(season=["winter", "monsoon", "summer"]), "monsoon"),
    (lambda f: f.assign(competitor_price=[np.nan, 0.0, 5.0]), "'competitor_price'"),
    (lambda f: f.iloc[:0], "no transactions"),
])
def test_invalid_frames_are_refused_with_the_column_and_problem_named(change, message):
    with pytest.raises(DataError, match=message) as raised:
        validate_transactions(change(valid_frame()), source="shop.csv")
    assert str(raised.value).startswith("shop.csv: ")


@pytest.mark.parametrize("name", ["out.csv", "out.csv.gz", "out.parquet"])
def test_tables_round_trip_through_every_format(tmp_path, name):
    frame = valid_frame()
    path = write_table(frame, tmp_path / "nested" / name)
    pd.testing.assert_frame_equal(read_transactions(path), frame, check_dtype=False)
    assert sorted(p.name for p in path.parent.iterdir()) == [name]  # no partial file left behind


def test_unknown_output_format_writes_nothing(tmp_path):
    with pytest.raises(DataError, match=r"\.csv, \.csv\.gz or \.parquet"):
        write_table(valid_frame(), tmp_path / "out.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    def broken_writer(self, target, **kwargs):
        open(target, "w").write("half")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", broken_writer)
    with pytest.raises(OSError, match="disk full"):
        write_table(valid_frame(), tmp_path / "out.parquet")
    assert list(tmp_path.iterdir()) == []


def test_reading_a_missing_file_names_it(tmp_path):
    with pytest.raises(DataError, match="missing.csv: no such file"):
        read_transactions(tmp_path / "missing.csv")
