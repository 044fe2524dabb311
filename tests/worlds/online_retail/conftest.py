"""Fixtures of the online-retail tests: tiny raw CSVs written into ``tmp_path`` (no data files)."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

RAW_HEADER: tuple[str, ...] = (
    "InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country",
)

RawRow = Sequence[object]
WriteRaw = Callable[..., Path]


def sale(
    invoice: str,
    code: str,
    description: str,
    quantity: int,
    when: str,
    price: float,
    customer: int | str = 17850,
    country: str = "United Kingdom",
) -> tuple[object, ...]:
    """One raw row in the column order of :data:`RAW_HEADER`; ``customer=""`` is a guest."""
    return (invoice, code, description, quantity, when, price, customer, country)


@pytest.fixture
def make_sale() -> Callable[..., tuple[object, ...]]:
    """The :func:`sale` row builder."""
    return sale


@pytest.fixture
def write_raw(tmp_path: Path) -> WriteRaw:
    """A function writing raw rows as a CSV (gzip when the name ends in .gz) and returning its path."""

    def write(
        rows: Sequence[RawRow], name: str = "online_retail.csv", header: Sequence[str] = RAW_HEADER
    ) -> Path:
        path = tmp_path / name
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "wt", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(header)
            writer.writerows(rows)
        return path

    return write
