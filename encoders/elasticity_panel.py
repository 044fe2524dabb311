"""The identification panel for price elasticities: product x customer type x week cells of real sales.

Built from the online-retail transactions (:func:`pricegym.worlds.online_retail.load_online_retail` reads and
cleans them; nothing is re-read here). One row per product x customer type x week *with a sale*:

``customer_type``
    ``registered-uk``, ``registered-abroad``, ``guest-uk`` or ``guest-abroad`` (CustomerID or not, times the
    customer's country being the United Kingdom or not);
``log_quantity``
    log of the units sold in the cell-week (``outcome="units"``) or of its order lines (``outcome="orders"``,
    the count the BERT demand model's Poisson head fits);
``relative_price``, ``log_relative_price``
    the cell-week's price over the product's list price (catalogue modal price) and its log; the price is the
    median unit price among the week's order lines of the lowest volume tier present (the shelf price, not a
    bulk discount), as the world's own demand panel does;
``price_tier``
    that lowest volume tier (index into the world's ``QUANTITY_TIERS``: 0 = single units .. 4 = 24+), a
    control: volume breaks move the price;
controls
    ``week_of_year``, ``days_to_christmas``, ``product_age_weeks`` (since the product's first sale),
    ``weeks_since_last_sale`` (of the product, any customer; a long gap is the stock-out proxy) and
    ``restocked`` (that gap was 3 weeks or more);
``cell``
    the product x customer type fixed effect: identification comes from price changes within a cell.

Weeks without a sale are not rows (their log quantity is undefined): estimates are of the intensive margin.
Text features: :func:`text_components` (PCA of product-description embeddings) and :func:`text_categories`
(k-means clusters of the same embeddings, named by their most common head nouns).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

Outcome = Literal["units", "orders"]
HOME_COUNTRY = "United Kingdom"
RESTOCK_GAP_WEEKS = 3
CONTROL_COLUMNS: tuple[str, ...] = (
    "week_of_year", "days_to_christmas", "product_age_weeks", "weeks_since_last_sale", "restocked", "price_tier",
)
"""The time-varying controls of every panel row (the nuisance models also see text and customer type)."""


def market_customer_type(customer_type: pd.Series, country: pd.Series) -> pd.Series:
    """``registered``/``guest`` joined with ``uk``/``abroad`` (e.g. ``guest-abroad``)."""
    market = np.where(country.to_numpy() == HOME_COUNTRY, "uk", "abroad")
    return customer_type.astype(str) + "-" + pd.Series(market, index=customer_type.index)


def week_start(timestamps: pd.Series) -> pd.Series:
    """The Monday (midnight) of each timestamp's week."""
    days = timestamps.dt.normalize()
    return days - pd.to_timedelta(days.dt.dayofweek, unit="D")


def days_to_christmas(dates: pd.Series) -> pd.Series:
    """Days from each date to the next 25 December (0 on Christmas day)."""
    this_year = pd.to_datetime(dates.dt.year.astype(str) + "-12-25")
    next_christmas = this_year.where(this_year >= dates, this_year + pd.DateOffset(years=1))
    return (next_christmas - dates).dt.days.astype(np.int64)


def weekly_sales(transactions: pd.DataFrame, outcome: Outcome = "units") -> pd.DataFrame:
    """Aggregate transactions into product x customer type x week cells with their shelf price.

    Args:
        transactions: the online-retail transactions (``product_id``, ``timestamp``, ``quantity``, ``price``,
            ``customer_type``, ``country``, ``quantity_tier``, ``list_price``).
        outcome: what ``quantity`` counts: ``units`` sold or order lines (``orders``).

    Returns:
        ``product_id``, ``customer_type``, ``week``, ``quantity``, ``price``, ``price_tier``, ``list_price``.
    """
    frame = pd.DataFrame({
        "product_id": transactions["product_id"].astype(str),
        "customer_type": market_customer_type(transactions["customer_type"], transactions["country"]),
        "week": week_start(transactions["timestamp"]),
        "units": transactions["quantity"].astype(np.float64),
        "price": transactions["price"].astype(np.float64),
        "tier": transactions["quantity_tier"].cat.codes.astype(np.int64),
        "list_price": transactions["list_price"].astype(np.float64),
    })
    keys = ["product_id", "customer_type", "week"]
    frame["lowest_tier"] = frame.groupby(keys, sort=False)["tier"].transform("min")
    lowest = frame[frame["tier"] == frame["lowest_tier"]]
    shelf = lowest.groupby(keys, sort=False).agg(price=("price", "median"), price_tier=("tier", "first"))
    cells = frame.groupby(keys, sort=False).agg(
        units=("units", "sum"), orders=("units", "size"), list_price=("list_price", "first"))
    cells = cells.join(shelf).reset_index()
    cells["quantity"] = cells[outcome].astype(np.float64)
    columns = ["product_id", "customer_type", "week", "quantity", "price", "price_tier", "list_price"]
    return cells[columns].sort_values(keys, kind="stable").reset_index(drop=True)


def add_controls(cells: pd.DataFrame) -> pd.DataFrame:
    """Add the :data:`CONTROL_COLUMNS`, the log outcome and price, and the ``cell`` fixed-effect key."""
    cells = cells.copy()
    weeks = cells["week"]
    cells["week_of_year"] = weeks.dt.isocalendar().week.astype(np.int64).to_numpy()
    cells["days_to_christmas"] = days_to_christmas(weeks + pd.Timedelta(days=3))
    first_sale = cells.groupby("product_id")["week"].transform("min")
    cells["product_age_weeks"] = ((weeks - first_sale).dt.days // 7).astype(np.int64)
    product_weeks = cells[["product_id", "week"]].drop_duplicates().sort_values(["product_id", "week"])
    gap = product_weeks.groupby("product_id")["week"].diff().dt.days.div(7).fillna(0.0)
    product_weeks = product_weeks.assign(weeks_since_last_sale=gap.to_numpy())
    cells = cells.merge(product_weeks, on=["product_id", "week"], how="left")
    cells["restocked"] = (cells["weeks_since_last_sale"] >= RESTOCK_GAP_WEEKS).astype(np.int64)
    cells["relative_price"] = cells["price"] / cells["list_price"]
    cells["log_relative_price"] = np.log(cells["relative_price"])
    cells["log_quantity"] = np.log(cells["quantity"])
    cells["cell"] = cells["product_id"] + "|" + cells["customer_type"]
    return cells


def within_cells(panel: pd.DataFrame, min_weeks: int = 2) -> pd.DataFrame:
    """Keep cells with at least ``min_weeks`` rows; add the within-cell (demeaned) outcome and price.

    ``within_log_quantity`` and ``within_log_relative_price`` are the fixed-effect-free variables the
    orthogonalised estimate residualises. Demeaning moves the cell's mean of the controls' effect into every
    row, so the nuisance models also see ``cell_weeks`` (the cell's row count) and ``cell_mean_<control>`` for
    each of :data:`CONTROL_COLUMNS` (the Mundlak device).
    """
    counts = panel.groupby("cell")["cell"].transform("size")
    panel = panel[counts >= min_weeks].copy()
    grouped = panel.groupby("cell")
    panel["cell_weeks"] = grouped["cell"].transform("size").astype(np.int64)
    for name in ("log_quantity", "log_relative_price"):
        panel[f"within_{name}"] = panel[name] - grouped[name].transform("mean")
    for name in CONTROL_COLUMNS:
        panel[f"cell_mean_{name}"] = grouped[name].transform("mean").astype(np.float64)
    return panel.reset_index(drop=True)


def elasticity_panel(transactions: pd.DataFrame, outcome: Outcome = "units", min_weeks: int = 2,
                     max_price_ratio: float = 5.0) -> pd.DataFrame:
    """The identification panel of the module docstring, fixed effects removed (:func:`within_cells`).

    Cell-weeks priced more than ``max_price_ratio`` times above or below the list price are dropped (mis-keyed
    prices and one-off lines such as a product sold as a set).
    """
    cells = weekly_sales(transactions, outcome)
    ratio = cells["price"] / cells["list_price"]
    plausible = (ratio >= 1 / max_price_ratio) & (ratio <= max_price_ratio) & (cells["quantity"] > 0)
    return within_cells(add_controls(cells[plausible & (cells["list_price"] > 0)]), min_weeks)


def text_components(vectors: np.ndarray, n_components: int = 8, seed: int = 0) -> np.ndarray:
    """The first ``n_components`` principal components of text embeddings (fewer if there are few texts)."""
    from sklearn.decomposition import PCA

    n_components = max(1, min(n_components, vectors.shape[0] - 1, vectors.shape[1]))
    return PCA(n_components=n_components, random_state=seed).fit_transform(vectors.astype(np.float64))


def text_categories(vectors: np.ndarray, texts: pd.Series, n_categories: int = 8, seed: int = 0) -> pd.Series:
    """A category per text: k-means cluster of its (normalised) embedding, named ``c<k>:<noun>/<noun>`` after
    the two most common last words (head nouns, e.g. ``holder``, ``bag``) of the cluster's texts."""
    from sklearn.cluster import KMeans

    n_categories = max(1, min(n_categories, vectors.shape[0]))
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    labels = KMeans(n_clusters=n_categories, n_init=4, random_state=seed).fit_predict(unit.astype(np.float64))
    head_nouns = texts.astype(str).str.lower().str.extract(r"([a-z]+)\W*$", expand=False).fillna("item")
    names = {}
    for label in range(n_categories):
        common = head_nouns[labels == label].value_counts().index[:2]
        names[label] = f"c{label}:" + "/".join(common) if len(common) else f"c{label}"
    return pd.Series([names[label] for label in labels], index=texts.index, name="category")


def attach_text_features(panel: pd.DataFrame, products: pd.DataFrame, components: np.ndarray,
                         categories: pd.Series) -> pd.DataFrame:
    """Join each row's product text components (``text_pc<i>``), ``category`` and ``product_text``.

    Args:
        products: ``product_id`` and ``product_text``, aligned with ``components`` and ``categories``.
    """
    features = pd.DataFrame(components, columns=[f"text_pc{i}" for i in range(components.shape[1])])
    features["product_id"] = products["product_id"].astype(str).to_numpy()
    features["product_text"] = products["product_text"].astype(str).to_numpy()
    features["category"] = np.asarray(categories)
    return panel.merge(features, on="product_id", how="inner", validate="many_to_one")
