"""Fetching the UCI Online Retail original into a local cache, for a user with internet.

The official original is a zip at the UCI repository holding ``Online Retail.xlsx``.
:func:`fetch_online_retail` downloads it once, checks it against the known totals
(:data:`UCI_TOTALS`), converts it to the CSV layout of the project's shared
``online_retail.csv.gz`` (same column names, ``InvoiceDate`` as ``YYYY-MM-DD HH:MM:SS``,
``CustomerID`` an integer or blank) and writes it atomically into the cache, recording its
sha256 in ``online_retail.csv.gz.sha256`` beside it. Later loads verify the cached file against
that record, so a truncated or edited cache is caught rather than silently used.

Reading the xlsx needs the optional dependency openpyxl (``pip install 'pricegym[xlsx]'``).
The network call lives in :func:`_download` alone, so tests replace it.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from pricegym.errors import DataError
from pricegym.worlds.online_retail.reading import RAW_COLUMNS
from pricegym.worlds.schema import write_table

UCI_URL: str = "https://archive.ics.uci.edu/static/public/352/online+retail.zip"
"""The UCI Machine Learning Repository's zip of the original (data set id 352, CC BY 4.0)."""

XLSX_MEMBER: str = "Online Retail.xlsx"
"""The spreadsheet inside the zip."""

CACHE_FILE_NAME: str = "online_retail.csv.gz"
"""The cached CSV's name, the same as the project's shared copy."""

DOWNLOAD_TIMEOUT_S: float = 120.0


@dataclass(frozen=True)
class RetailTotals:
    """Totals that identify the data set: rows, distinct invoices and customers, units."""

    rows: int
    invoices: int
    customers: int
    quantity: int

    @classmethod
    def of(cls, frame: pd.DataFrame) -> RetailTotals:
        """The totals of a raw frame with the columns of :data:`RAW_COLUMNS`."""
        return cls(
            rows=len(frame),
            invoices=int(frame["InvoiceNo"].astype(str).nunique()),
            customers=int(frame["CustomerID"].dropna().nunique()),
            quantity=int(pd.to_numeric(frame["Quantity"]).sum()),
        )


UCI_TOTALS = RetailTotals(rows=541_909, invoices=25_900, customers=4_372, quantity=5_176_450)
"""The known totals of the UCI Online Retail data set."""


def check_totals(frame: pd.DataFrame, source: object, expected: RetailTotals = UCI_TOTALS) -> None:
    """Raise :class:`DataError` naming ``source`` unless ``frame`` has the ``expected`` totals."""
    found = RetailTotals.of(frame)
    wrong = {
        name: (value, getattr(found, name)) for name, value in asdict(expected).items() if getattr(found, name) != value
    }
    if wrong:
        detail = "; ".join(f"{name}: expected {want:,}, found {got:,}" for name, (want, got) in wrong.items())
        raise DataError(
            source,
            f"does not match the UCI Online Retail totals ({detail}); the download may be incomplete or "
            "the file has changed upstream: delete it and try again, or pass data_path to a verified copy",
        )


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def checksum_path(data_path: Path) -> Path:
    """Where the sha256 of a cached file is recorded: beside it, with ``.sha256`` appended."""
    return data_path.with_name(data_path.name + ".sha256")


def verify_checksum(data_path: Path) -> None:
    """Raise :class:`DataError` unless ``data_path``'s sha256 equals the one recorded beside it."""
    record = checksum_path(data_path)
    if not record.is_file():
        raise DataError(
            data_path,
            f"has no recorded checksum ({record.name} is missing), so it cannot be trusted; "
            f"delete {data_path} to download it again",
        )
    recorded = record.read_text(encoding="utf-8").split()
    expected = recorded[0].lower() if recorded else ""
    actual = sha256_of(data_path)
    if actual != expected:
        raise DataError(
            data_path,
            f"sha256 mismatch: recorded {expected or '(empty)'} in {record.name}, file has {actual}; the cached "
            f"file is damaged or was changed: delete {data_path} (and {record.name}) to download it again",
        )


def to_shared_layout(frame: pd.DataFrame) -> pd.DataFrame:
    """The raw frame in the CSV layout of ``online_retail.csv.gz``.

    Columns in :data:`RAW_COLUMNS` order; ``InvoiceNo`` and ``StockCode`` as text (the xlsx stores
    numeric-looking ones as numbers), ``InvoiceDate`` as ``YYYY-MM-DD HH:MM:SS``, ``CustomerID``
    an integer or blank.
    """
    missing = [name for name in RAW_COLUMNS if name not in frame.columns]
    if missing:
        raise DataError("UCI Online Retail.xlsx", f"missing column(s) {missing}; expected {list(RAW_COLUMNS)}")
    return pd.DataFrame(
        {
            "InvoiceNo": frame["InvoiceNo"].astype(str),
            "StockCode": frame["StockCode"].astype(str),
            "Description": frame["Description"],
            "Quantity": pd.to_numeric(frame["Quantity"]).astype("int64"),
            "InvoiceDate": pd.to_datetime(frame["InvoiceDate"]).dt.strftime("%Y-%m-%d %H:%M:%S"),
            "UnitPrice": pd.to_numeric(frame["UnitPrice"]).astype("float64"),
            "CustomerID": pd.to_numeric(frame["CustomerID"]).round().astype("Int64"),
            "Country": frame["Country"].astype(str),
        }
    )


def read_uci_xlsx(zip_path: Path) -> pd.DataFrame:
    """The sheet of ``Online Retail.xlsx`` inside the downloaded zip.

    Raises:
        DataError: when openpyxl is not installed, or the zip is unreadable or lacks the xlsx.
    """
    try:
        with zipfile.ZipFile(zip_path) as archive:
            if XLSX_MEMBER not in archive.namelist():
                raise DataError(zip_path, f"holds {archive.namelist()}, not {XLSX_MEMBER!r}; the UCI zip has changed")
            _require_openpyxl(zip_path)
            with archive.open(XLSX_MEMBER) as sheet:
                return pd.read_excel(sheet, engine="openpyxl", dtype={"InvoiceNo": str, "StockCode": str})
    except (zipfile.BadZipFile, OSError, ValueError, KeyError) as error:
        raise DataError(zip_path, f"could not be read as the UCI zip ({type(error).__name__}: {error})") from error


def _require_openpyxl(source: Path) -> None:
    """Raise :class:`DataError` saying how to install openpyxl when it is missing."""
    try:
        import openpyxl  # noqa: F401
    except ImportError as error:
        raise DataError(
            source,
            "reading the UCI xlsx needs the optional dependency openpyxl, which is not installed; "
            "run pip install 'pricegym[xlsx]' (or pass data_path to online_retail.csv.gz)",
        ) from error


def _download(url: str, destination: Path) -> None:
    """Copy ``url`` into ``destination`` (the only network call of pricegym's data loading)."""
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, destination.open("wb") as out:
        shutil.copyfileobj(response, out)


def fetch_online_retail(
    cache_dir: str | Path, *, url: str = UCI_URL, expected: RetailTotals | None = None
) -> Path:
    """The path of the cached ``online_retail.csv.gz``, downloading and converting it if absent.

    Args:
        cache_dir: the cache folder (created if needed).
        url: where the UCI zip is downloaded from.
        expected: the totals the download must match; None means :data:`UCI_TOTALS`.

    Raises:
        DataError: when the download fails, the xlsx cannot be read, its totals do not match, or
            an existing cached file does not match its recorded sha256.
    """
    cache_dir = Path(cache_dir).expanduser()
    target = cache_dir / CACHE_FILE_NAME
    if target.is_file():
        verify_checksum(target)
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".download-") as scratch:
        zip_path = Path(scratch) / "online_retail.zip"
        try:
            _download(url, zip_path)
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            raise DataError(
                url,
                f"download failed ({error}); check the internet connection, or pass data_path to a local "
                "copy of online_retail.csv.gz",
            ) from error
        raw = read_uci_xlsx(zip_path)
        check_totals(raw, f"{url} ({XLSX_MEMBER})", UCI_TOTALS if expected is None else expected)
        staged = write_table(to_shared_layout(raw), Path(scratch) / CACHE_FILE_NAME)
        write_text_atomically(checksum_path(target), f"{sha256_of(staged)}  {CACHE_FILE_NAME}\n")
        staged.replace(target)
    return target


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` under a temporary name, then rename it into place."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
