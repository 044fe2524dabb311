"""A matrix of corrupt demand run folders: each case builds a valid small run folder, corrupts one
thing, and expects one :class:`DataError` that names the file, the problem and how to regenerate it."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from pricegym.encoders.demand_run_checks import EMBEDDINGS_FILE, MODEL_CARD, TABLES_CARD, TABLES_FILE, read_demand_run
from pricegym.encoders.demand_tables import ContextWeights, DemandTables
from pricegym.errors import DataError
from pricegym.worlds.demand import ReferencePriceEffect

CUSTOMERS, PRODUCTS = 4, 3
DROP = object()
"""A card field or array to remove."""


def write_valid_run(folder: Path) -> Path:
    """A small, valid run folder: tables, their card, embeddings and a model card."""
    rng = np.random.default_rng(0)
    list_prices = np.array([10.0, 25.0, 4.0])
    tables = DemandTables(
        intercept=rng.normal(size=(CUSTOMERS, PRODUCTS)), slope=rng.uniform(0.5, 3.0, (CUSTOMERS, PRODUCTS)),
        list_prices=list_prices, context_weights=ContextWeights(np.linspace(-0.1, 0.1, 7), np.zeros(4), 0.2, 0.5),
        reference_effect=ReferencePriceEffect(), response="purchase_probability",
        price_ranges=np.column_stack([0.7 * list_prices, 1.2 * list_prices]),
        slope_std=np.full((CUSTOMERS, PRODUCTS), 0.1),
        customer_ids=tuple(f"c{i}" for i in range(CUSTOMERS)), product_ids=tuple(f"p{j}" for j in range(PRODUCTS)),
        world="synthetic",
    )
    tables.save(folder)
    np.savez(folder / EMBEDDINGS_FILE, product_ids=np.array(tables.product_ids),
             customer_ids=np.array(tables.customer_ids), product_vectors=rng.normal(size=(PRODUCTS, 5)),
             customer_vectors=rng.normal(size=(CUSTOMERS, 5)))
    (folder / MODEL_CARD).write_text(json.dumps({"world": "synthetic", "response": "purchase_probability"}))
    return folder


@pytest.fixture()
def run(tmp_path: Path) -> Path:
    return write_valid_run(tmp_path / "run")


# -- corruptions ------------------------------------------------------------------------------------


def edit_npz(file: str, **changes: object) -> Callable[[Path], None]:
    """Rewrite an archive with arrays replaced (``DROP``: removed)."""
    def corrupt(folder: Path) -> None:
        with np.load(folder / file) as stored:
            arrays = {name: stored[name] for name in stored.files}
        for name, value in changes.items():
            arrays.pop(name) if value is DROP else arrays.__setitem__(name, np.asarray(value))
        np.savez(folder / file, **arrays)
    return corrupt


def edit_array(name: str, change: Callable[[np.ndarray], np.ndarray]) -> Callable[[Path], None]:
    """Replace one table array by ``change(array)``."""
    def corrupt(folder: Path) -> None:
        with np.load(folder / TABLES_FILE) as stored:
            value = change(stored[name].copy())
        edit_npz(TABLES_FILE, **{name: value})(folder)
    return corrupt


def set_at(index: tuple, value: float) -> Callable[[np.ndarray], np.ndarray]:
    def change(array: np.ndarray) -> np.ndarray:
        array = array.astype(float)
        array[index] = value
        return array
    return change


def edit_card(file: str = TABLES_CARD, **changes: object) -> Callable[[Path], None]:
    """Rewrite a JSON card with fields replaced (``DROP``: removed)."""
    def corrupt(folder: Path) -> None:
        card = json.loads((folder / file).read_text())
        for name, value in changes.items():
            card.pop(name) if value is DROP else card.__setitem__(name, value)
        (folder / file).write_text(json.dumps(card))
    return corrupt


def write_bytes(file: str, content: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / file).write_bytes(content)


def truncate(file: str, share: float) -> Callable[[Path], None]:
    def corrupt(folder: Path) -> None:
        content = (folder / file).read_bytes()
        (folder / file).write_bytes(content[: int(len(content) * share)])
    return corrupt


def remove(file: str) -> Callable[[Path], None]:
    return lambda folder: (folder / file).unlink()


def save_single_array(folder: Path) -> None:
    with open(folder / TABLES_FILE, "wb") as handle:
        np.save(handle, np.ones(3))


def save_pickled_arrays(folder: Path) -> None:
    edit_npz(TABLES_FILE, intercept=np.array([{"a": 1}], dtype=object))(folder)


def replace_folder_by_file(folder: Path) -> None:
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    folder.write_text("not a folder")


def remove_folder(folder: Path) -> None:
    replace_folder_by_file(folder)
    folder.unlink()


def rewrite_members(file: str, change: Callable[[str, bytes], tuple[str, bytes]]) -> Callable[[Path], None]:
    """Rewrite every member of an archive as ``change(name, content)`` gives it (name and bytes)."""
    def corrupt(folder: Path) -> None:
        with zipfile.ZipFile(folder / file) as archive:
            members = [change(name, archive.read(name)) for name in archive.namelist()]
        with zipfile.ZipFile(folder / file, "w") as archive:
            for name, content in members:
                archive.writestr(name, content)
    return corrupt


def forged_header(shape: tuple[int, ...]) -> bytes:
    """A .npy header declaring a float64 array of ``shape``, followed by a few bytes of data."""
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(stream, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return stream.getvalue() + bytes(64)


def declare(member: str, shape: tuple[int, ...]) -> Callable[[str, bytes], tuple[str, bytes]]:
    return lambda name, content: (name, forged_header(shape) if name == member else content)


def add_member(file: str, name: str, content: bytes) -> Callable[[Path], None]:
    def corrupt(folder: Path) -> None:
        with zipfile.ZipFile(folder / file, "a") as archive:
            archive.writestr(name, content)
    return corrupt


# (case id, corruption, file named in the error, pattern of the problem)
CASES = [
    ("missing folder", remove_folder, "run", "no such folder"),
    ("folder is a file", replace_folder_by_file, "run", "is a file, not a run folder"),
    ("missing tables", remove(TABLES_FILE), TABLES_FILE, "is missing"),
    ("missing card", remove(TABLES_CARD), TABLES_CARD, "is missing"),
    ("empty tables", write_bytes(TABLES_FILE, b""), TABLES_FILE, "is empty \\(0 bytes\\)"),
    ("truncated tables", truncate(TABLES_FILE, 0.5), TABLES_FILE, "not a readable .npz"),
    ("tables are text", write_bytes(TABLES_FILE, b"hello, not an archive"), TABLES_FILE,
     "not an .npz archive \\(it starts with b'hell'"),
    ("tables are one .npy", save_single_array, TABLES_FILE, "not an .npz archive"),
    ("tables need unpickling", save_pickled_arrays, TABLES_FILE, "not a readable .npz.*pickle"),
    ("a member that is not .npy", rewrite_members(TABLES_FILE, lambda name, content: (name[:-4], content)),
     TABLES_FILE, "holds the member 'intercept', which is not a .npy array"),
    ("an extra text member", add_member(TABLES_FILE, "notes.txt", b"hello"), TABLES_FILE,
     "holds the member 'notes.txt'"),
    ("a member that is text", rewrite_members(TABLES_FILE, lambda name, content: (name, b"not an array")),
     TABLES_FILE, "not a readable .npz.*magic string"),
    ("a header declaring 8 TB", rewrite_members(TABLES_FILE, declare("slope.npy", (10**12,))), TABLES_FILE,
     "member 'slope.npy', whose header declares an array of shape \\[1000000000000\\] .* but which holds"),
    ("a header declaring 16 GB", rewrite_members(TABLES_FILE, declare("intercept.npy", (2 * 10**9,))), TABLES_FILE,
     "member 'intercept.npy', whose header declares"),
    ("embeddings declaring 40 TB", rewrite_members(EMBEDDINGS_FILE, declare("product_vectors.npy", (10**12, 5))),
     EMBEDDINGS_FILE, "member 'product_vectors.npy', whose header declares"),
    ("card is not JSON", write_bytes(TABLES_CARD, b'{"response": '), TABLES_CARD, "not readable JSON"),
    ("card is not UTF-8", write_bytes(TABLES_CARD, b"\xff\xfe\x00"), TABLES_CARD, "not readable JSON"),
    ("card is a list", write_bytes(TABLES_CARD, b"[1, 2]"), TABLES_CARD, "JSON list, expected an object"),
    ("card without response", edit_card(response=DROP), TABLES_CARD, "lacks the field.*response"),
    ("banana response", edit_card(response="banana"), TABLES_CARD,
     "response 'banana'; expected one of purchase_probability, expected_quantity"),
    ("unknown world", edit_card(world="atlantis"), TABLES_CARD, "world 'atlantis'; expected one of synthetic"),
    ("future format", edit_card(format_version=99), TABLES_CARD, "format_version 99"),
    ("bad pricegym version", edit_card(pricegym_version=3), TABLES_CARD, "pricegym_version 3"),
    ("loss below gain", edit_card(reference_effect={"theta": 0.5, "gain": 2.0, "loss": 1.0}), TABLES_CARD,
     "reference_effect.*gain <= loss"),
    ("reference effect missing theta", edit_card(reference_effect={"gain": 0.1, "loss": 0.2}), TABLES_CARD,
     "reference_effect"),
    ("empty card object", write_bytes(TABLES_CARD, b"{}"), TABLES_CARD, "lacks the field"),
    ("string competitor", edit_card(competitor="high"), TABLES_CARD, "competitor 'high'; expected a finite number"),
    ("customer ids too few", edit_card(customer_ids=["c0"]), TABLES_CARD, "names 1 customer_ids, but intercept has 4"),
    ("product ids repeated", edit_card(product_ids=["p0", "p0", "p1"]), TABLES_CARD, "repeats 'p0' in product_ids"),
    ("product ids not strings", edit_card(product_ids=["p0", 1, 2]), TABLES_CARD,
     "2 product_ids that are not strings \\(e.g. 1\\)"),
    ("missing price_ranges", edit_npz(TABLES_FILE, price_ranges=DROP), TABLES_FILE, "lacks the array.*price_ranges"),
    ("missing slope", edit_npz(TABLES_FILE, slope=DROP), TABLES_FILE, "lacks the array.*slope"),
    ("string intercept", edit_npz(TABLES_FILE, intercept=np.full((CUSTOMERS, PRODUCTS), "x")), TABLES_FILE,
     "intercept of dtype <U1; expected real numbers"),
    ("bool slope", edit_npz(TABLES_FILE, slope=np.ones((CUSTOMERS, PRODUCTS), bool)), TABLES_FILE,
     "slope of dtype bool"),
    ("complex list prices", edit_npz(TABLES_FILE, list_prices=np.ones(PRODUCTS, complex)), TABLES_FILE,
     "list_prices of dtype complex"),
    ("1-D intercept", edit_array("intercept", np.ravel), TABLES_FILE, "intercept of shape \\[12\\]"),
    ("empty intercept", edit_npz(TABLES_FILE, intercept=np.zeros((0, PRODUCTS))), TABLES_FILE,
     "non-empty \\[customers, products\\]"),
    ("NaN intercept", edit_array("intercept", set_at((1, 2), np.nan)), TABLES_FILE,
     "non-finite value.*intercept.*\\[1, 2\\]"),
    ("inf intercept", edit_array("intercept", set_at((0, 0), np.inf)), TABLES_FILE, "non-finite value.*intercept"),
    ("zero slope", edit_array("slope", set_at((2, 1), 0.0)), TABLES_FILE, "slope that are not positive"),
    ("negative slope", edit_array("slope", np.negative), TABLES_FILE, "12 value\\(s\\) of slope that are not positive"),
    ("NaN slope", edit_array("slope", set_at((0, 1), np.nan)), TABLES_FILE, "non-finite value.*slope"),
    ("slope of other products", edit_npz(TABLES_FILE, slope=np.ones((CUSTOMERS, PRODUCTS + 1))), TABLES_FILE,
     "slope of shape \\[4, 4\\], which does not broadcast to intercept's \\[4, 3\\]"),
    ("3-D slope", edit_npz(TABLES_FILE, slope=np.ones((1, CUSTOMERS, PRODUCTS))), TABLES_FILE,
     "slope of shape \\[1, 4, 3\\]"),
    ("negative slope_std", edit_array("slope_std", set_at((0, 0), -0.5)), TABLES_FILE, "slope_std.*non-negative"),
    ("list prices of other products", edit_array("list_prices", lambda a: a[:2]), TABLES_FILE,
     "list_prices of shape \\[2\\]; expected \\[3\\]"),
    ("zero list price", edit_array("list_prices", set_at((1,), 0.0)), TABLES_FILE, "list_prices that are not positive"),
    ("NaN list price", edit_array("list_prices", set_at((0,), np.nan)), TABLES_FILE, "non-finite.*list_prices"),
    ("price ranges of one column", edit_array("price_ranges", lambda a: a[:, 0]), TABLES_FILE,
     "price_ranges of shape \\[3\\]; expected \\[3, 2\\]"),
    ("price ranges transposed", edit_array("price_ranges", np.transpose), TABLES_FILE,
     "price_ranges of shape \\[2, 3\\]"),
    ("price range low above high", edit_array("price_ranges", lambda a: a[:, ::-1]), TABLES_FILE,
     "3 invalid price_ranges row.*product 0"),
    ("price range half NaN", edit_array("price_ranges", set_at((1, 1), np.nan)), TABLES_FILE,
     "invalid price_ranges row.*product 1: \\[\\d.*, nan\\]"),
    ("price range infinite", edit_array("price_ranges", set_at((2, 1), np.inf)), TABLES_FILE,
     "invalid price_ranges row.*product 2"),
    ("price range at zero", edit_array("price_ranges", set_at((0, 0), 0.0)), TABLES_FILE,
     "invalid price_ranges row.*product 0"),
    ("weekday of six days", edit_array("weekday", lambda a: a[:6]), TABLES_FILE, "weekday of shape \\[6\\]"),
    ("NaN season", edit_array("season", set_at((3,), np.nan)), TABLES_FILE, "non-finite.*season"),
    ("empty embeddings", write_bytes(EMBEDDINGS_FILE, b""), EMBEDDINGS_FILE, "is empty"),
    ("truncated embeddings", truncate(EMBEDDINGS_FILE, 0.7), EMBEDDINGS_FILE, "not a readable .npz"),
    ("embeddings without products", edit_npz(EMBEDDINGS_FILE, product_vectors=DROP), EMBEDDINGS_FILE,
     "lacks the array product_vectors"),
    ("1-D product embeddings", edit_npz(EMBEDDINGS_FILE, product_vectors=np.ones(PRODUCTS)), EMBEDDINGS_FILE,
     "product_vectors of shape \\[3\\]; expected \\[3, d\\]"),
    ("embeddings of other products", edit_npz(EMBEDDINGS_FILE, product_vectors=np.ones((PRODUCTS + 2, 5))),
     EMBEDDINGS_FILE, "product_vectors of shape \\[5, 5\\]; expected \\[3, d\\]"),
    ("embeddings of other customers", edit_npz(EMBEDDINGS_FILE, customer_vectors=np.ones((2, 5))), EMBEDDINGS_FILE,
     "customer_vectors of shape \\[2, 5\\]; expected \\[4, d\\]"),
    ("NaN embedding", edit_npz(EMBEDDINGS_FILE, customer_vectors=np.full((CUSTOMERS, 5), np.nan)), EMBEDDINGS_FILE,
     "non-finite.*customer_vectors"),
    ("string embeddings", edit_npz(EMBEDDINGS_FILE, product_vectors=np.full((PRODUCTS, 5), "x")), EMBEDDINGS_FILE,
     "product_vectors of dtype <U1"),
    ("embeddings of other product ids", edit_npz(EMBEDDINGS_FILE, product_ids=np.array(["a", "b", "c"])),
     EMBEDDINGS_FILE, "product_ids that differ"),
    ("model card is not JSON", write_bytes(MODEL_CARD, b"{"), MODEL_CARD, "not readable JSON"),
    ("model card of another response", edit_card(MODEL_CARD, response="expected_quantity"), MODEL_CARD,
     "response 'expected_quantity', but demand_tables.json says 'purchase_probability'"),
    ("model card with banana response", edit_card(MODEL_CARD, response="banana"), MODEL_CARD, "response 'banana'"),
    ("model card of another world", edit_card(MODEL_CARD, world="online-retail"), MODEL_CARD,
     "world 'online-retail', but demand_tables.json says 'synthetic'"),
]


@pytest.mark.parametrize(("corrupt", "file", "problem"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_a_corrupt_run_folder_is_one_data_error(run: Path, corrupt, file: str, problem: str):
    corrupt(run)
    with pytest.raises(DataError) as raised:
        DemandTables.load(run)
    message = str(raised.value)
    assert Path(raised.value.source).name == file, message
    assert raised.value.source in message
    assert re.search(problem, message), message
    assert "fit-demand --out" in message, message
    assert "\n" not in message


def test_a_nan_in_the_card_is_refused(run: Path):
    card = json.loads((run / TABLES_CARD).read_text())
    (run / TABLES_CARD).write_text(json.dumps({**card, "holiday": float("nan")}))  # JSON's NaN token
    with pytest.raises(DataError, match="holiday nan; expected a finite number"):
        DemandTables.load(run)


@pytest.mark.parametrize("share", [0.001, 0.01, 0.1, 0.3, 0.6, 0.9, 0.99])
def test_a_tables_archive_cut_anywhere_is_one_data_error(run: Path, share: float):
    truncate(TABLES_FILE, share)(run)
    with pytest.raises(DataError, match="demand_tables.npz: is (not a readable .npz|not an .npz|empty)"):
        DemandTables.load(run)


def test_a_tables_archive_with_flipped_bytes_is_one_data_error(run: Path):
    content = bytearray((run / TABLES_FILE).read_bytes())
    for position in np.random.default_rng(3).choice(len(content), size=40, replace=False):
        content[position] ^= 0xFF
    (run / TABLES_FILE).write_bytes(bytes(content))
    with pytest.raises(DataError, match="demand_tables.npz"):
        DemandTables.load(run)


# -- what stays accepted ----------------------------------------------------------------------------


def test_a_valid_run_folder_loads_as_saved(run: Path):
    tables = DemandTables.load(run)
    with np.load(run / TABLES_FILE) as stored:
        np.testing.assert_array_equal(tables.intercept, stored["intercept"])
        np.testing.assert_array_equal(tables.price_ranges, stored["price_ranges"])
    assert tables.response == "purchase_probability" and tables.world == "synthetic"
    assert tables.product_ids == ("p0", "p1", "p2") and tables.context_weights.competitor == 0.5
    assert json.loads((run / TABLES_CARD).read_text())["format_version"] == 1


def test_an_older_card_without_versions_or_world_still_loads(run: Path):
    edit_card(format_version=DROP, pricegym_version=DROP, world=DROP)(run)
    assert DemandTables.load(run).world is None


def test_unseen_price_ranges_slopes_per_product_and_no_extras_are_accepted(run: Path):
    """A NaN price range means "no price seen" (PersonalizedDiscount-v0: no floor); a slope per product
    broadcasts over customers; embeddings and the model card are optional; unnamed tables are fine."""
    edit_array("price_ranges", set_at((1, slice(None)), np.nan))(run)
    edit_npz(TABLES_FILE, slope=np.array([[0.5, 1.0, 2.0]]), slope_std=np.array(0.0))(run)
    edit_card(customer_ids=[], product_ids=[])(run)
    (run / EMBEDDINGS_FILE).unlink()
    (run / MODEL_CARD).unlink()
    tables = DemandTables.load(run)
    assert np.isnan(tables.price_ranges[1]).all() and np.isfinite(tables.price_ranges[[0, 2]]).all()
    np.testing.assert_array_equal(tables.slope, np.tile([0.5, 1.0, 2.0], (CUSTOMERS, 1)))
    assert tables.slope_std.shape == (CUSTOMERS, PRODUCTS) and tables.customer_ids == ()


def test_integer_arrays_are_read_as_floats(run: Path):
    edit_array("list_prices", lambda prices: prices.astype(np.int64))(run)
    assert DemandTables.load(run).list_prices.dtype == np.float64


def test_the_checked_run_returns_embedding_free_arrays_broadcast_to_the_table(run: Path):
    checked = read_demand_run(run)
    assert set(checked.arrays) == {"intercept", "slope", "slope_std", "list_prices", "price_ranges", "weekday",
                                   "season"}
    assert all(array.dtype == np.float64 for array in checked.arrays.values())


def test_pickle_never_runs_when_reading_a_run(run: Path, tmp_path: Path):
    marker = tmp_path / "pickle-ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    np.savez(run / TABLES_FILE, intercept=np.array([Payload()], dtype=object))
    with pytest.raises(DataError, match="not a readable .npz"):
        DemandTables.load(run)
    assert not marker.exists()


# -- every consumer gets the checks --------------------------------------------------------------------


@pytest.mark.parametrize("env_id", ["pricegym/Markdown-v0", "pricegym/PersonalizedDiscount-v0",
                                    "pricegym/Competition-v0"])
@pytest.mark.parametrize("demand_source", ["fitted", "ground_truth"])
def test_environments_refuse_a_corrupt_run_at_construction(run: Path, env_id: str, demand_source: str):
    """``gym.make`` reads the run (tables and embeddings), so the error comes before any reset."""
    import gymnasium as gym

    import pricegym.envs  # noqa: F401  (registers the environments)
    from pricegym.worlds.registry import WorldConfig
    from pricegym.worlds.synthetic import SyntheticWorldConfig

    world = WorldConfig(synthetic=SyntheticWorldConfig(seed=1, n_products=8, n_customers=20, n_exposures=500,
                                                       n_days=20))
    edit_card(response="banana")(run)
    with pytest.raises(DataError, match="demand_tables.json: has response 'banana'"):
        gym.make(env_id, world=world, demand_source=demand_source, demand_run=run)
