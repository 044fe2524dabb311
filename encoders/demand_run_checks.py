"""Validation of a demand run folder before anything simulates with it.

A ``pricegym fit-demand`` run folder holds the simulation-time tables (``demand_tables.npz`` and
their card ``demand_tables.json``), optionally the fine-tuned embeddings (``embeddings.npz``) and
the model card (``model_card.json``). :func:`read_demand_run` reads and checks them all, and is the
one place that does: :meth:`DemandTables.load <pricegym.encoders.demand_tables.DemandTables.load>`
calls it, so every environment built on a run (``demand_source="fitted"`` or ``demand_run`` given)
refuses a corrupt folder at construction. Every problem is a :class:`~pricegym.errors.DataError`
naming the file, what was expected, what was found, and how to regenerate the folder.

What is checked:

* the folder and ``demand_tables.npz`` / ``demand_tables.json`` exist and parse (a truncated or
  empty archive, a pickled or non-archive file, invalid JSON are refused);
* every table array is present, holds real numbers, has its shape against ``intercept``
  (``[customers, products]``) and the card's ids, and is finite; ``slope`` (and ``slope_std``) may
  be any shape that broadcasts to ``intercept``'s; ``slope > 0`` (demand falls in price),
  ``slope_std >= 0``, ``list_prices > 0``; each ``price_ranges`` row is ``0 < low <= high`` or
  entirely NaN (no price seen: no floor);
* the card's ``response`` is a known response, ``reference_effect`` a valid
  :class:`~pricegym.worlds.demand.ReferencePriceEffect`, ``holiday`` / ``competitor`` finite
  numbers, ids lists of distinct strings; ``format_version`` (absent in cards written before it
  existed: read as version 1, the same layout), ``world`` and ``pricegym_version`` are optional
  (absent in older cards and in hand-built tables) but must be known / well-formed when present;
* ``embeddings.npz`` (when present): ``product_vectors`` ``[products, d]`` and the optional
  ``customer_vectors`` ``[customers, d]``, finite real numbers, and its ids equal to the card's;
* ``model_card.json`` (when present): a JSON object whose ``response`` and ``world`` agree with the
  tables' card.
"""

from __future__ import annotations

import json
import math
import zipfile
import zlib
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
from typing import get_args

import numpy as np

from pricegym.errors import ConfigError, DataError
from pricegym.worlds import WORLD_NAMES
from pricegym.worlds.demand import ReferencePriceEffect, Response

TABLES_FILE = "demand_tables.npz"
TABLES_CARD = "demand_tables.json"
EMBEDDINGS_FILE = "embeddings.npz"
"""Fine-tuned embeddings saved beside the tables, so agents observe the same LM embeddings."""
MODEL_CARD = "model_card.json"
TABLES_FORMAT_VERSION = 1
"""The layout of the tables' card and archive that :meth:`DemandTables.save` writes."""
KNOWN_FORMAT_VERSIONS = (1,)
RESPONSES: tuple[str, ...] = get_args(Response)
TABLE_ARRAYS = ("intercept", "slope", "slope_std", "list_prices", "price_ranges", "weekday", "season")
CARD_FIELDS = ("response", "reference_effect", "holiday", "competitor", "customer_ids", "product_ids")
READ_ERRORS = (OSError, ValueError, EOFError, KeyError, RuntimeError, NotImplementedError, zipfile.BadZipFile,
               zlib.error)
"""What numpy and zipfile raise for a truncated, empty or garbled archive."""


@dataclass(frozen=True)
class DemandRun:
    """The checked content of a run folder's tables: arrays (``slope`` and ``slope_std`` broadcast to
    ``[customers, products]``, all float64) and the card (with ``format_version`` filled in)."""

    arrays: dict[str, np.ndarray]
    card: dict


def regenerate_hint(folder: Path) -> str:
    """How to write the run folder again."""
    return (f"re-run `pricegym fit-demand --out {folder} --overwrite` (with the world options it was fitted "
            "with) to regenerate it")


def read_demand_run(folder: str | Path) -> DemandRun:
    """Read and check the tables, their card, and (when present) the embeddings and model card of a
    run folder; raise :class:`DataError` at the first problem (see the module docstring)."""
    folder = Path(folder)
    _require_folder(folder)
    card = read_tables_card(folder)
    arrays = read_table_arrays(folder)
    run = DemandRun(check_table_arrays(arrays, card, folder), card)
    n_customers, n_products = run.arrays["intercept"].shape
    check_model_card(folder, card)
    read_run_embeddings(folder, n_customers, n_products, card)
    return run


# -- files ------------------------------------------------------------------------------------------


def _require_folder(folder: Path) -> None:
    if not folder.exists():
        raise DataError(folder, "no such folder, so it holds no readable demand tables; expected a run folder "
                                f"written by `pricegym fit-demand --out {folder}`")
    if not folder.is_dir():
        raise DataError(folder, "is a file, not a run folder, so it holds no readable demand tables; pass the "
                                "folder that `pricegym fit-demand --out` wrote")


def _require_file(path: Path) -> None:
    if not path.is_file():
        found = "a folder" if path.exists() else "nothing"
        raise DataError(path, f"is missing (found {found}), so the run holds no readable demand tables; "
                              f"{regenerate_hint(path.parent)}")


def read_json_object(path: Path) -> dict:
    """A JSON file that must hold one object."""
    _require_file(path)
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except READ_ERRORS as error:
        raise DataError(path, f"is not readable JSON ({_one_line(error)}); {regenerate_hint(path.parent)}") from error
    if not isinstance(content, dict):
        raise DataError(path, f"holds a JSON {type(content).__name__}, expected an object; "
                              f"{regenerate_hint(path.parent)}")
    return content


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` archive, read now (numpy reads lazily), without unpickling; each member
    must be a ``.npy`` array no larger than the member itself holds (a forged header cannot make numpy
    allocate terabytes)."""
    _require_file(path)
    try:
        _require_zip_signature(path)
        _require_npy_members(path)
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(f"a single array of shape {list(np.shape(archive))}, not an .npz archive")
        with archive:
            return {name: archive[name] for name in archive.files}
    except READ_ERRORS as error:
        raise DataError(path, f"is not a readable .npz archive (truncated, empty or garbled: "
                              f"{type(error).__name__}: {_one_line(error)}); {regenerate_hint(path.parent)}"
                        ) from error


def _require_npy_members(path: Path) -> None:
    """Every member of the archive is a ``.npy`` array whose header declares no more data than it holds."""
    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            if not member.filename.endswith(".npy"):
                raise DataError(path, f"holds the member {member.filename!r}, which is not a .npy array; expected "
                                      f"only .npy arrays; {regenerate_hint(path.parent)}")
            with archive.open(member) as stream:
                shape, dtype = _npy_header(stream, member.filename, path)
            declared = math.prod(shape) * dtype.itemsize
            if declared > member.file_size:
                raise DataError(path, f"has the member {member.filename!r}, whose header declares an array of shape "
                                      f"{list(shape)} ({declared:,} bytes) but which holds {member.file_size:,} "
                                      f"bytes; the archive is corrupt; {regenerate_hint(path.parent)}")


_NPY_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _npy_header(stream: object, member: str, path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype a ``.npy`` member declares (what ``np.load`` reads before allocating)."""
    version = np.lib.format.read_magic(stream)
    reader = _NPY_HEADER_READERS.get(version)
    if reader is None:
        raise DataError(path, f"has the member {member!r} in .npy format version {version}, which pricegym does not "
                              f"write; {regenerate_hint(path.parent)}")
    shape, _, dtype = reader(stream)
    return shape, dtype


def _require_zip_signature(path: Path) -> None:
    """Refuse an empty file or one that is no zip archive before numpy tries to unpickle it."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    if not head:
        raise DataError(path, f"is empty (0 bytes); expected an .npz archive; {regenerate_hint(path.parent)}")
    if not head.startswith(b"PK"):
        raise DataError(path, f"is not an .npz archive (it starts with {head!r}, not with a zip archive's 'PK' "
                              f"signature); {regenerate_hint(path.parent)}")


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:200] or type(error).__name__


# -- the tables' card -------------------------------------------------------------------------------


def read_tables_card(folder: Path) -> dict:
    """``demand_tables.json``, checked field by field (see the module docstring)."""
    path = folder / TABLES_CARD
    card = read_json_object(path)
    _require_names(card, CARD_FIELDS, "field", path, folder)
    card = {"format_version": TABLES_FORMAT_VERSION, **card}
    _check_card_versions(card, path)
    _check_choice(card["response"], RESPONSES, "response", path)
    if card.get("world") is not None:
        _check_choice(card["world"], WORLD_NAMES, "world", path)
    _check_reference_effect(card["reference_effect"], path)
    for name in ("holiday", "competitor"):
        _check_finite_number(card[name], name, path)
    for name in ("customer_ids", "product_ids"):
        _check_ids(card[name], name, path)
    return card


def _check_card_versions(card: dict, path: Path) -> None:
    version = card["format_version"]
    if isinstance(version, bool) or version not in KNOWN_FORMAT_VERSIONS:
        raise DataError(path, f"has format_version {version!r}; this pricegym reads {list(KNOWN_FORMAT_VERSIONS)} "
                              f"(a newer pricegym wrote it, or it is corrupt); upgrade pricegym or "
                              f"{regenerate_hint(path.parent)}")
    written_by = card.get("pricegym_version")
    if written_by is not None and (not isinstance(written_by, str) or not written_by.strip()):
        raise DataError(path, f"has pricegym_version {written_by!r}; expected a version string; "
                              f"{regenerate_hint(path.parent)}")


def _check_choice(value: object, choices: tuple[str, ...], name: str, path: Path) -> None:
    if not isinstance(value, str) or value not in choices:
        raise DataError(path, f"has {name} {value!r}; expected one of {', '.join(choices)}; "
                              f"{regenerate_hint(path.parent)}")


def _check_finite_number(value: object, name: str, path: Path) -> None:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise DataError(path, f"has {name} {value!r}; expected a finite number; {regenerate_hint(path.parent)}")


def _check_reference_effect(value: object, path: Path) -> None:
    expected = "an object with finite numbers theta in [0, 1) and 0 <= gain <= loss"
    if not isinstance(value, dict) or set(value) != {"theta", "gain", "loss"}:
        raise DataError(path, f"has reference_effect {value!r}; expected {expected}; {regenerate_hint(path.parent)}")
    for name in ("theta", "gain", "loss"):
        _check_finite_number(value[name], f"reference_effect.{name}", path)
    try:
        reference_effect(value)
    except (ConfigError, ValueError, TypeError) as error:
        raise DataError(path, f"has reference_effect {value!r}: {error}; {regenerate_hint(path.parent)}") from error


def reference_effect(card_value: dict) -> ReferencePriceEffect:
    """The card's ``reference_effect`` object as the typed parameters (numbers taken as floats)."""
    return ReferencePriceEffect(**{name: float(number) for name, number in card_value.items()})


def _check_ids(value: object, name: str, path: Path) -> None:
    if not isinstance(value, list):
        raise DataError(path, f"has {name} of type {type(value).__name__}; expected a list of strings; "
                              f"{regenerate_hint(path.parent)}")
    odd = [item for item in value if not isinstance(item, str)]
    if odd:
        raise DataError(path, f"has {len(odd)} {name} that are not strings (e.g. {odd[0]!r}); expected a list "
                              f"of strings; {regenerate_hint(path.parent)}")
    if len(set(value)) != len(value):
        duplicated = next(item for item in value if value.count(item) > 1)
        raise DataError(path, f"repeats {duplicated!r} in {name}; expected distinct ids; "
                              f"{regenerate_hint(path.parent)}")


# -- the tables' arrays -----------------------------------------------------------------------------


def read_table_arrays(folder: Path) -> dict[str, np.ndarray]:
    """The arrays of ``demand_tables.npz``, every expected one present."""
    path = folder / TABLES_FILE
    arrays = read_npz(path)
    _require_names(arrays, TABLE_ARRAYS, "array", path, folder)
    return arrays


def _require_names(found: dict, expected: tuple[str, ...], kind: str, path: Path, folder: Path) -> None:
    """Every ``expected`` name (a card's fields, an archive's arrays) must be in ``found``."""
    missing = [name for name in expected if name not in found]
    if missing:
        raise DataError(path, f"lacks the {kind}(s) {', '.join(missing)}; expected {', '.join(expected)}; "
                              f"{regenerate_hint(folder)}")


def check_table_arrays(arrays: dict[str, np.ndarray], card: dict, folder: Path) -> dict[str, np.ndarray]:
    """The tables' arrays as float64, shapes checked against ``intercept`` and the card, values checked."""
    path = folder / TABLES_FILE
    for name in TABLE_ARRAYS:
        _require_real(arrays[name], name, path)
    intercept = arrays["intercept"]
    if intercept.ndim != 2 or 0 in intercept.shape:
        raise DataError(path, f"has intercept of shape {list(intercept.shape)}; expected a non-empty "
                              f"[customers, products] table; {regenerate_hint(folder)}")
    n_customers, n_products = intercept.shape
    _check_ids_match(card, n_customers, n_products, folder)
    checked = {
        "intercept": intercept,
        "slope": _broadcast(arrays["slope"], "slope", intercept.shape, path),
        "slope_std": _broadcast(arrays["slope_std"], "slope_std", intercept.shape, path),
        "list_prices": _exact_shape(arrays["list_prices"], "list_prices", (n_products,),
                                    "(one per product of intercept)", path),
        "price_ranges": _exact_shape(arrays["price_ranges"], "price_ranges", (n_products, 2),
                                     "(low, high) per product of intercept", path),
        "weekday": _exact_shape(arrays["weekday"], "weekday", (7,), "(Monday first)", path),
        "season": _exact_shape(arrays["season"], "season", (4,), "(one per season)", path),
    }
    checked = {name: np.asarray(value, dtype=np.float64) for name, value in checked.items()}
    _check_values(checked, path)
    return checked


def _require_real(array: np.ndarray, name: str, path: Path) -> None:
    if array.dtype.kind not in "fiu":
        raise DataError(path, f"holds {name} of dtype {array.dtype}; expected real numbers (float); "
                              f"{regenerate_hint(path.parent)}")


def _broadcast(array: np.ndarray, name: str, shape: tuple[int, int], path: Path) -> np.ndarray:
    try:
        if array.ndim > len(shape):
            raise ValueError(f"{array.ndim} dimensions")
        return np.broadcast_to(array, shape)
    except ValueError as error:
        raise DataError(path, f"has {name} of shape {list(array.shape)}, which does not broadcast to intercept's "
                              f"{list(shape)} [customers, products]; {regenerate_hint(path.parent)}") from error


def _exact_shape(array: np.ndarray, name: str, shape: tuple[int, ...], meaning: str, path: Path) -> np.ndarray:
    if array.shape != shape:
        raise DataError(path, f"has {name} of shape {list(array.shape)}; expected {list(shape)} {meaning}; "
                              f"{regenerate_hint(path.parent)}")
    return array


def _check_ids_match(card: dict, n_customers: int, n_products: int, folder: Path) -> None:
    for name, size, axis in (("customer_ids", n_customers, "rows"), ("product_ids", n_products, "columns")):
        if card[name] and len(card[name]) != size:
            raise DataError(folder / TABLES_CARD, f"names {len(card[name])} {name}, but intercept has {size} {axis} "
                                                  f"(expected one id per {axis[:-1]}, or none); "
                                                  f"{regenerate_hint(folder)}")


def _check_values(arrays: dict[str, np.ndarray], path: Path) -> None:
    for name in ("intercept", "slope", "slope_std", "list_prices", "weekday", "season"):
        _require_finite(arrays[name], name, path)
    _require_all(arrays["slope"] > 0, "slope", "positive (demand must fall in price)", arrays["slope"], path)
    _require_all(arrays["slope_std"] >= 0, "slope_std", "non-negative", arrays["slope_std"], path)
    _require_all(arrays["list_prices"] > 0, "list_prices", "positive", arrays["list_prices"], path)
    _check_price_ranges(arrays["price_ranges"], path)


def _require_finite(array: np.ndarray, name: str, path: Path) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DataError(path, f"has {int(bad.sum())} non-finite value(s) in {name} (e.g. {array[where]} at "
                              f"{list(where)}); expected finite numbers; {regenerate_hint(path.parent)}")


def _require_all(holds: np.ndarray, name: str, expected: str, array: np.ndarray, path: Path) -> None:
    if not holds.all():
        where = tuple(int(i) for i in np.argwhere(~holds)[0])
        raise DataError(path, f"has {int((~holds).sum())} value(s) of {name} that are not {expected} (e.g. "
                              f"{array[where]} at {list(where)}); {regenerate_hint(path.parent)}")


def _check_price_ranges(ranges: np.ndarray, path: Path) -> None:
    """Rows ``0 < low <= high``, or both NaN (no price seen: no floor, no ceiling)."""
    low, high = ranges[:, 0], ranges[:, 1]
    unseen = np.isnan(low) & np.isnan(high)
    expected = "finite with 0 < low <= high, or both NaN for a product whose prices were never seen"
    holds = unseen | (np.isfinite(low) & np.isfinite(high) & (low > 0) & (low <= high))
    if not holds.all():
        product = int(np.flatnonzero(~holds)[0])
        raise DataError(path, f"has {int((~holds).sum())} invalid price_ranges row(s) (e.g. product {product}: "
                              f"[{low[product]}, {high[product]}]); expected each row {expected}; "
                              f"{regenerate_hint(path.parent)}")


# -- the model card and the embeddings --------------------------------------------------------------


def check_model_card(folder: Path, tables_card: dict) -> None:
    """``model_card.json``, when present: an object whose ``response`` and ``world`` agree with the tables."""
    path = folder / MODEL_CARD
    if not path.exists():
        return
    card = read_json_object(path)
    for name in ("response", "world"):
        if name in card and card[name] is not None:
            _check_choice(card[name], RESPONSES if name == "response" else WORLD_NAMES, name, path)
            if tables_card.get(name) is not None and card[name] != tables_card[name]:
                raise DataError(path, f"says {name} {card[name]!r}, but {TABLES_CARD} says {tables_card[name]!r}; "
                                      f"the files come from different runs; {regenerate_hint(folder)}")


def read_run_embeddings(folder: str | Path, n_customers: int, n_products: int,
                        tables_card: dict | None = None) -> dict[str, np.ndarray] | None:
    """The checked fine-tuned embeddings of a run as float64 (``product_vectors`` and, when stored,
    ``customer_vectors``), or None when the run holds none."""
    folder = Path(folder)
    path = folder / EMBEDDINGS_FILE
    if not path.exists():
        return None
    stored = read_npz(path)
    if "product_vectors" not in stored:
        raise DataError(path, f"lacks the array product_vectors (found {', '.join(stored) or 'none'}); expected "
                              f"product_vectors [products, d] and optionally customer_vectors; "
                              f"{regenerate_hint(folder)}")
    vectors = {"product_vectors": _embedding_matrix(stored, "product_vectors", n_products, "products", path)}
    if "customer_vectors" in stored:
        vectors["customer_vectors"] = _embedding_matrix(stored, "customer_vectors", n_customers, "customers", path)
    if tables_card is not None:
        for name in ("customer_ids", "product_ids"):
            _check_embedding_ids(stored, name, tables_card[name], path)
    return vectors


def _embedding_matrix(stored: dict[str, np.ndarray], name: str, rows: int, axis: str, path: Path) -> np.ndarray:
    array = stored[name]
    _require_real(array, name, path)
    if array.ndim != 2 or array.shape[0] != rows:
        raise DataError(path, f"has {name} of shape {list(array.shape)}; expected [{rows}, d], one row per "
                              f"{axis[:-1]} of the demand tables; {regenerate_hint(path.parent)}")
    matrix = array.astype(np.float64)
    _require_finite(matrix, name, path)
    return matrix


def _check_embedding_ids(stored: dict[str, np.ndarray], name: str, expected: list[str], path: Path) -> None:
    if name not in stored or not expected:
        return
    ids = stored[name]
    if ids.dtype.kind != "U" or ids.ndim != 1 or ids.tolist() != expected:
        raise DataError(path, f"has {name} that differ from those of {TABLES_CARD} (dtype {ids.dtype}, shape "
                              f"{list(ids.shape)}); the files come from different runs; {regenerate_hint(path.parent)}")
