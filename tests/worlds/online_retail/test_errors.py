"""Bad input gives one DataError (or ConfigError) that names the file and the problem."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from pricegym.errors import ConfigError, DataError
from pricegym.worlds.online_retail import OnlineRetailConfig, load_online_retail
from pricegym.worlds.online_retail.reading import read_raw_transactions

GOOD = ("536365", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "6", "2010-12-01 08:26:00", "2.55", "17850",
        "United Kingdom")


def _load(path: Path) -> None:
    load_online_retail(OnlineRetailConfig(data_path=path))


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv.gz"
    with pytest.raises(DataError, match="no such file") as caught:
        _load(path)
    assert caught.value.source == str(path)


@pytest.mark.parametrize("name", ["x" * 5_000 + ".csv", "a\0b.csv"])
def test_a_path_the_system_cannot_look_up_is_a_data_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(DataError) as caught:
        _load(tmp_path / name)
    assert "online_retail.csv.gz" in caught.value.problem


def test_missing_column_is_named(write_raw) -> None:
    header = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "Country")
    path = write_raw([GOOD[:6] + GOOD[7:]], header=header)
    with pytest.raises(DataError, match=r"missing column\(s\) \['CustomerID'\]") as caught:
        read_raw_transactions(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("Quantity", "six", "'Quantity' should hold integer values but line 3 holds 'six'"),
        ("Quantity", "1.5", "'Quantity' should hold integer values but line 3 holds '1.5'"),
        ("Quantity", "", "'Quantity' should hold integer values but line 3 holds a blank"),
        ("UnitPrice", "£2.55", "'UnitPrice' should hold number values but line 3 holds '£2.55'"),
        ("CustomerID", "abc", "'CustomerID' should hold integer or blank values but line 3 holds 'abc'"),
        ("InvoiceDate", "yesterday", "'InvoiceDate' should hold date-time"),
        ("Quantity", "99999999999999999999", "'Quantity' should hold integer values but line 3 holds '9999"),
        ("CustomerID", "1e30", "'CustomerID' should hold integer or blank values but line 3 holds '1e30'"),
        ("InvoiceDate", "9999-12-01 08:26:00", "'InvoiceDate' holds '9999-12-01 08:26:00' on line 3, outside"),
        ("InvoiceDate", "1066-10-14 09:00:00", "outside the dates pricegym handles"),
    ],
)
def test_mistyped_column_is_named(write_raw, column: str, value: str, expected: str) -> None:
    bad = list(GOOD)
    bad[list(("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID",
              "Country")).index(column)] = value
    path = write_raw([GOOD, bad])
    with pytest.raises(DataError) as caught:
        read_raw_transactions(path)
    assert expected in caught.value.problem
    assert caught.value.source == str(path)


def test_corrupt_gzip(write_raw) -> None:
    path = write_raw([GOOD] * 2000, name="online_retail.csv.gz")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # truncated download
    with pytest.raises(DataError, match="could not be read as a gzip-compressed CSV") as caught:
        read_raw_transactions(path)
    assert caught.value.source == str(path)


def test_gzip_name_without_gzip_content(tmp_path: Path) -> None:
    path = tmp_path / "online_retail.csv.gz"
    path.write_bytes(b"this is not gzip at all\n" * 10)
    with pytest.raises(DataError, match="gzip") as caught:
        read_raw_transactions(path)
    assert str(path) in str(caught.value)


def test_gzip_content_is_detected_without_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "online_retail.csv"
    header = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    path.write_bytes(gzip.compress((header + ",".join(GOOD) + "\n").encode()))
    assert read_raw_transactions(path)["Quantity"].tolist() == [6]


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match="is empty"):
        read_raw_transactions(path)


def test_empty_after_cleaning(write_raw) -> None:
    cancelled = ("C536379", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "-6", "2010-12-01 09:41:00", "2.55",
                 "17850", "United Kingdom")
    postage = ("536380", "POST", "POSTAGE", "1", "2010-12-01 09:45:00", "18", "12583", "France")
    path = write_raw([cancelled, postage])
    with pytest.raises(DataError, match="no product sales left after cleaning") as caught:
        _load(path)
    assert caught.value.source == str(path)
    assert "'cancellation': 1" in caught.value.problem and "'non-product code': 1" in caught.value.problem


@pytest.mark.parametrize(
    ("field", "value"),
    [("unit_cost_share", 1.2), ("validation_share", -0.1), ("cold_start_share", 1.0), ("seed", -1),
     ("test_share", "0.2")],
)
def test_bad_config_says_expected_received_and_fix(field: str, value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        OnlineRetailConfig(**{field: value})
    message = str(caught.value)
    assert field in message and f"got {value!r}" in message and "pass" in message


def test_config_shares_must_leave_training_time() -> None:
    with pytest.raises(ConfigError, match="validation_share \\+ test_share"):
        OnlineRetailConfig(validation_share=0.5, test_share=0.5)


def test_config_accepts_string_paths(tmp_path: Path) -> None:
    config = OnlineRetailConfig(data_path=str(tmp_path / "x.csv"), cache_dir=str(tmp_path))
    assert config.data_path == tmp_path / "x.csv" and config.cache_dir == tmp_path
    assert config.to_dict()["data_path"] == str(tmp_path / "x.csv")
