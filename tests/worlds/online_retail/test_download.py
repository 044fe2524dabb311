"""The download cache: totals check, layout conversion and sha256 record, without any network."""

from __future__ import annotations

import sys
import urllib.error
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pricegym.errors import DataError
from pricegym.worlds.online_retail import OnlineRetailConfig, download, fetch_online_retail, load_online_retail
from pricegym.worlds.online_retail.download import (
    UCI_TOTALS,
    RetailTotals,
    check_totals,
    checksum_path,
    read_uci_xlsx,
    to_shared_layout,
    verify_checksum,
)
from pricegym.worlds.online_retail.reading import read_raw_transactions


def _xlsx_like_frame() -> pd.DataFrame:
    """What pandas reads from the UCI xlsx: numeric invoices and codes, float customer ids, datetimes."""
    return pd.DataFrame(
        {
            "InvoiceNo": [536365, 536365, "C536379", 536380],
            "StockCode": ["85123A", 71053, "85123A", 22633],
            "Description": ["WHITE HANGING HEART T-LIGHT HOLDER", "WHITE METAL LANTERN",
                            "WHITE HANGING HEART T-LIGHT HOLDER", "HAND WARMER UNION JACK"],
            "Quantity": [6, 6, -1, 12],
            "InvoiceDate": pd.to_datetime(["2010-12-01 08:26", "2010-12-01 08:26", "2010-12-01 09:41",
                                           "2010-12-02 10:03"]),
            "UnitPrice": [2.55, 3.39, 2.55, 1.85],
            "CustomerID": [17850.0, 17850.0, 17850.0, np.nan],
            "Country": ["United Kingdom", "United Kingdom", "United Kingdom", "Germany"],
        }
    )


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace the network call and the xlsx reader; returns the list of URLs 'downloaded'."""
    calls: list[str] = []

    def fake_download(url: str, destination: Path) -> None:
        calls.append(url)
        destination.write_bytes(b"zip bytes")

    monkeypatch.setattr(download, "_download", fake_download)
    monkeypatch.setattr(download, "read_uci_xlsx", lambda zip_path: _xlsx_like_frame())
    return calls


def test_totals_mismatch_names_the_source_and_each_total() -> None:
    with pytest.raises(DataError) as caught:
        check_totals(_xlsx_like_frame(), "Online Retail.xlsx")
    message = str(caught.value)
    assert message.startswith("Online Retail.xlsx: does not match the UCI Online Retail totals")
    assert "rows: expected 541,909, found 4" in message
    assert "invoices: expected 25,900, found 3" in message
    assert "customers: expected 4,372, found 1" in message
    assert "quantity: expected 5,176,450, found 23" in message


def test_matching_totals_pass() -> None:
    frame = _xlsx_like_frame()
    assert RetailTotals.of(frame) == RetailTotals(rows=4, invoices=3, customers=1, quantity=23)
    check_totals(frame, "fake", RetailTotals.of(frame))
    assert UCI_TOTALS.rows == 541_909


def test_shared_layout_round_trips_through_the_reader(tmp_path: Path) -> None:
    layout = to_shared_layout(_xlsx_like_frame())
    assert layout["InvoiceDate"].tolist()[0] == "2010-12-01 08:26:00"
    path = tmp_path / "online_retail.csv.gz"
    layout.to_csv(path, index=False)
    line = __import__("gzip").open(path, "rt").read().splitlines()[4]
    assert line == "536380,22633,HAND WARMER UNION JACK,12,2010-12-02 10:03:00,1.85,,Germany"
    raw = read_raw_transactions(path)
    assert raw["StockCode"].tolist() == ["85123A", "71053", "85123A", "22633"]
    assert raw["CustomerID"].tolist()[:3] == [17850, 17850, 17850] and pd.isna(raw["CustomerID"].iloc[3])


def test_fetch_writes_the_cache_once_and_records_its_sha256(tmp_path: Path, offline: list[str]) -> None:
    expected = RetailTotals.of(_xlsx_like_frame())
    path = fetch_online_retail(tmp_path / "cache", expected=expected)
    assert path == tmp_path / "cache" / "online_retail.csv.gz"
    record = checksum_path(path).read_text().split()
    assert record == [download.sha256_of(path), "online_retail.csv.gz"]
    assert fetch_online_retail(tmp_path / "cache", expected=expected) == path
    assert len(offline) == 1  # the second call used the cache
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["online_retail.csv.gz",
                                                                       "online_retail.csv.gz.sha256"]
    world = load_online_retail(OnlineRetailConfig(cache_dir=tmp_path / "cache", cold_start_share=0.0))
    assert len(world.transactions) == 3  # the cancellation is cleaned away


def test_fetch_refuses_a_download_with_other_totals(tmp_path: Path, offline: list[str]) -> None:
    with pytest.raises(DataError, match="does not match the UCI Online Retail totals"):
        fetch_online_retail(tmp_path)
    assert not (tmp_path / "online_retail.csv.gz").exists()
    assert list(tmp_path.iterdir()) == []


def test_sha256_mismatch_says_to_delete_the_cache(tmp_path: Path, offline: list[str]) -> None:
    path = fetch_online_retail(tmp_path, expected=RetailTotals.of(_xlsx_like_frame()))
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(DataError, match="sha256 mismatch") as caught:
        fetch_online_retail(tmp_path)
    assert caught.value.source == str(path)
    assert f"delete {path}" in caught.value.problem


def test_missing_checksum_record_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "online_retail.csv.gz"
    path.write_bytes(b"anything")
    with pytest.raises(DataError, match="no recorded checksum"):
        verify_checksum(path)


def test_download_failure_names_the_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(url: str, destination: Path) -> None:
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(download, "_download", unreachable)
    with pytest.raises(DataError, match="download failed") as caught:
        fetch_online_retail(tmp_path, url="https://example.invalid/online+retail.zip")
    assert caught.value.source == "https://example.invalid/online+retail.zip"


def test_missing_openpyxl_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "online_retail.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("Online Retail.xlsx", b"not read")
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # makes `import openpyxl` fail
    with pytest.raises(DataError, match=r"pip install 'pricegym\[xlsx\]'") as caught:
        read_uci_xlsx(archive)
    assert caught.value.source == str(archive)


def test_zip_without_the_xlsx_is_reported(tmp_path: Path) -> None:
    archive = tmp_path / "online_retail.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("README.txt", "nothing here")
    with pytest.raises(DataError, match="not 'Online Retail.xlsx'"):
        read_uci_xlsx(archive)
    archive.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="could not be read as the UCI zip"):
        read_uci_xlsx(archive)
