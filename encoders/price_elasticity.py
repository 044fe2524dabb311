"""Orthogonalised (double machine learning) price elasticities of real transactions, by text group and product.

Model (partially linear, within product x customer type): for a row of the identification panel
(:mod:`pricegym.encoders.elasticity_panel`, fixed effects removed by demeaning within the cell)

    within_log_quantity = elasticity * within_log_relative_price + g(controls, text, customer type) + noise,

with ``within_log_relative_price = m(controls, text, customer type) + price noise``. Both nuisances ``g`` and
``m`` are gradient-boosting regressions, cross-fitted by DoubleML (:class:`doubleml.DoubleMLPLR`, folds and
standard errors clustered by product); the elasticity comes from the residual-on-residual regression
(Chernozhukov, Goldman, Semenova & Taddy, "Orthogonal machine learning for demand estimation"). The score is
DoubleML's ``IV-type`` (outcome residual ``y - elasticity * m(X) - g(X)``): on the synthetic panels of the
tests the ``partialling out`` score was attenuated by 2-3 % (the two nuisance fits overfit the same price
noise differently), the ``IV-type`` score was not. Heterogeneity:
DoubleML's group average effects (:meth:`doubleml.DoubleMLPLR.gate`) on category x customer type dummies
(and on each alone), with cluster-robust intervals; per product: the residual-on-residual slope of the
product's rows with a heteroskedasticity-robust interval.

Units of every ``elasticity`` column: d log(quantity) / d log(price), dimensionless (-1.5: one percent above list
price sells 1.5 percent fewer). At the list price it equals the semi-elasticity d log(quantity) / d(price /
list_price), which is minus the BERT demand head's price slope ``beta`` in ``a - beta * (price / list_price - 1)``
under its exp (Poisson) link: so ``bert_beta = -elasticity``.

Command line: ``python -m pricegym.encoders.price_elasticity --data ../shared/data/online_retail.csv.gz --out DIR``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from pricegym.cli_parsing import CommandLineParser, input_path, output_path, positive_int, run_command_line, seed
from pricegym.encoders.elasticity_panel import (
    CONTROL_COLUMNS,
    Outcome,
    attach_text_features,
    elasticity_panel,
    text_categories,
    text_components,
)
from pricegym.errors import DataError
from pricegym.safe_writes import atomic_folder, check_replaceable, check_target

if TYPE_CHECKING:  # imported where used, so that --help answers at once
    import doubleml
    from sklearn.base import RegressorMixin
    from sklearn.ensemble import HistGradientBoostingRegressor

PROGRAM = "price-elasticity"
GROUP_LEVELS: dict[str, tuple[str, ...]] = {
    "category x customer_type": ("category", "customer_type"),
    "category": ("category",),
    "customer_type": ("customer_type",),
}
"""The heterogeneity levels reported, each by the panel columns that define its groups."""
LearnerFactory = Callable[[int], "RegressorMixin"]


@dataclass(frozen=True)
class ElasticitySettings:
    """How the estimate is computed: cross-fitting folds, per-product thresholds and the interval level."""

    n_folds: int = 5
    seed: int = 0
    level: float = 0.95
    min_product_rows: int = 8
    min_product_price_std: float = 0.02
    make_learner: LearnerFactory | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ElasticityEstimates:
    """The estimates: ``groups`` (one row per level and group, ``all`` included), ``products`` and ``summary``."""

    groups: pd.DataFrame
    products: pd.DataFrame
    summary: dict[str, object]


def boosting_learner(seed: int) -> HistGradientBoostingRegressor:
    """The default nuisance model: histogram gradient boosting, stopped early on a 10 % validation split."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(max_iter=1000, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=40,
                                         early_stopping=True, validation_fraction=0.1, n_iter_no_change=10,
                                         random_state=seed)


def nuisance_features(panel: pd.DataFrame) -> pd.DataFrame:
    """What the nuisance models see: controls and their cell means, text components, cell size, and dummies of
    category and customer type."""
    text = [name for name in panel.columns if name.startswith("text_pc")]
    cell_means = [f"cell_mean_{name}" for name in CONTROL_COLUMNS]
    numeric = panel[[*CONTROL_COLUMNS, *cell_means, *text, "cell_weeks"]].astype(np.float64)
    dummies = pd.get_dummies(panel[["customer_type", "category"]], dtype=np.float64)
    return pd.concat([numeric, dummies], axis=1).set_axis(range(numeric.shape[1] + dummies.shape[1]), axis=1)


def fit_orthogonal(panel: pd.DataFrame, settings: ElasticitySettings) -> doubleml.DoubleMLPLR:
    """Cross-fit the partially linear model of the module docstring; folds and errors clustered by product."""
    import doubleml

    features = nuisance_features(panel)
    x_columns = [f"x{i}" for i in features.columns]
    data = features.set_axis(x_columns, axis=1)
    data["y"] = panel["within_log_quantity"].to_numpy()
    data["d"] = panel["within_log_relative_price"].to_numpy()
    data["product"] = pd.factorize(panel["product_id"])[0].astype(np.float64)
    dml_data = doubleml.DoubleMLData(data, y_col="y", d_cols="d", x_cols=x_columns, cluster_cols="product")
    make = settings.make_learner or boosting_learner
    np.random.seed(settings.seed)  # DoubleML draws its sample splits from numpy's global generator
    learners = [make(settings.seed + offset) for offset in range(3)]  # outcome, price, outcome net of price
    model = doubleml.DoubleMLPLR(dml_data, *learners, n_folds=settings.n_folds, score="IV-type")
    return model.fit(store_predictions=True)


def residuals(model: doubleml.DoubleMLPLR, panel: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The cross-fitted residuals of an ``IV-type`` model fitted on ``panel``, one per row: outcome
    ``y - elasticity * m(X) - g(X)`` and price ``d - m(X)`` (what DoubleML's group effects regress)."""
    price_fit, net_fit = model.predictions["ml_m"][:, 0, 0], model.predictions["ml_g"][:, 0, 0]
    outcome = panel["within_log_quantity"].to_numpy() - float(model.coef[0]) * price_fit - net_fit
    return outcome, panel["within_log_relative_price"].to_numpy() - price_fit


def group_labels(panel: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """One label per row: the values of ``columns`` joined by `` x ``."""
    labels = panel[list(columns)].astype(str)
    return labels.iloc[:, 0] if len(columns) == 1 else labels.agg(" x ".join, axis=1)


def group_elasticities(model: doubleml.DoubleMLPLR, panel: pd.DataFrame, level: str,
                       settings: ElasticitySettings) -> pd.DataFrame:
    """DoubleML group average elasticities of one :data:`GROUP_LEVELS` level, cluster-robust by product."""
    columns = GROUP_LEVELS[level]
    labels = group_labels(panel, columns)
    _, price_residual = residuals(model, panel)
    varies = pd.Series(price_residual ** 2).groupby(labels.to_numpy()).sum() > 1e-8
    usable = varies[varies].index
    dummies = pd.get_dummies(labels, dtype=int)[list(usable)]
    clusters = pd.factorize(panel["product_id"])[0]
    gate = model.gate(dummies, cov_type="cluster", cov_kwds={"groups": clusters})
    interval = gate.confint(level=settings.level)
    table = pd.DataFrame({"level": level, "group": list(usable), "elasticity": np.asarray(gate.coef),
                          "std_error": np.asarray(gate.se), "ci_low": interval.iloc[:, 0].to_numpy(),
                          "ci_high": interval.iloc[:, -1].to_numpy()})
    first = panel.groupby(labels.to_numpy())[list(columns)].first()
    for name in ("category", "customer_type"):
        table[name] = first.loc[usable, name].to_numpy() if name in columns else "all"
    table["n_rows"] = labels.value_counts().reindex(usable).to_numpy()
    table["n_products"] = panel.groupby(labels.to_numpy())["product_id"].nunique().reindex(usable).to_numpy()
    return table


def overall_elasticity(model: doubleml.DoubleMLPLR, panel: pd.DataFrame, settings: ElasticitySettings) -> pd.DataFrame:
    """The pooled DML elasticity as a one-row group table (level and group ``all``)."""
    interval = model.confint(level=settings.level)
    return pd.DataFrame({"level": ["all"], "group": ["all"], "elasticity": [float(model.coef[0])],
                         "std_error": [float(model.se[0])], "ci_low": [float(interval.iloc[0, 0])],
                         "ci_high": [float(interval.iloc[0, 1])], "category": ["all"], "customer_type": ["all"],
                         "n_rows": [len(panel)], "n_products": [panel["product_id"].nunique()]})


def product_elasticities(panel: pd.DataFrame, outcome_residual: np.ndarray, price_residual: np.ndarray,
                         settings: ElasticitySettings) -> pd.DataFrame:
    """Per product with enough rows and price variation: the residual-on-residual elasticity, an HC1 standard
    error and a t interval; products without enough data are left out."""
    frame = pd.DataFrame({"product_id": panel["product_id"].to_numpy(), "y": outcome_residual,
                          "d": price_residual, "within_price": panel["within_log_relative_price"].to_numpy()})
    grouped = frame.groupby("product_id", sort=True)
    moments = pd.DataFrame({"n_rows": grouped.size(), "dd": grouped["d"].apply(lambda d: float(d @ d)),
                            "price_std": grouped["within_price"].std()})
    moments["dy"] = grouped.apply(lambda rows: float(rows["d"] @ rows["y"]), include_groups=False)
    keep = (moments["n_rows"] >= settings.min_product_rows) & (moments["price_std"] >= settings.min_product_price_std)
    moments = moments[keep & (moments["dd"] > 1e-10)].copy()
    moments["elasticity"] = moments["dy"] / moments["dd"]
    frame = frame[frame["product_id"].isin(moments.index)]
    slope = moments["elasticity"].reindex(frame["product_id"]).to_numpy()
    score = (frame["d"].to_numpy() * (frame["y"].to_numpy() - slope * frame["d"].to_numpy())) ** 2
    meat = pd.Series(score).groupby(frame["product_id"].to_numpy()).sum().reindex(moments.index)
    n = moments["n_rows"].to_numpy(dtype=np.float64)
    moments["std_error"] = np.sqrt(meat.to_numpy() * n / (n - 1)) / moments["dd"].to_numpy()
    half_width = stats.t.ppf(0.5 + settings.level / 2, df=n - 1) * moments["std_error"]
    moments["ci_low"], moments["ci_high"] = moments["elasticity"] - half_width, moments["elasticity"] + half_width
    moments["ci_excludes_zero"] = (moments["ci_low"] > 0) | (moments["ci_high"] < 0)
    described = panel.groupby("product_id")[["product_text", "category"]].first()
    table = moments.join(described).reset_index()
    return table[["product_id", "product_text", "category", "n_rows", "price_std", "elasticity", "std_error",
                  "ci_low", "ci_high", "ci_excludes_zero"]]


def naive_elasticity(panel: pd.DataFrame, within: bool, level: float = 0.95) -> dict[str, float]:
    """OLS of log quantity on log relative price plus linear controls, standard errors clustered by product.

    ``within=False``: levels, no fixed effects (the plain regression); ``within=True``: the demeaned variables
    (product x customer type fixed effects) with the same linear controls, price not residualised by ML.
    """
    prefix = "within_" if within else ""
    controls = panel[list(CONTROL_COLUMNS)].astype(np.float64).to_numpy()
    design = np.column_stack([panel[f"{prefix}log_relative_price"].to_numpy(), np.ones(len(panel)), controls])
    coef, std_error = clustered_ols(design, panel[f"{prefix}log_quantity"].to_numpy(),
                                    pd.factorize(panel["product_id"])[0])
    half_width = stats.norm.ppf(0.5 + level / 2) * std_error
    return {"elasticity": coef, "std_error": std_error, "ci_low": coef - half_width, "ci_high": coef + half_width}


def clustered_ols(design: np.ndarray, outcome: np.ndarray, clusters: np.ndarray) -> tuple[float, float]:
    """The first OLS coefficient and its cluster-robust (CR1) standard error."""
    coef, *_ = np.linalg.lstsq(design, outcome, rcond=None)
    bread = np.linalg.pinv(design.T @ design)
    scores = design * (outcome - design @ coef)[:, None]
    summed = np.zeros((clusters.max() + 1, design.shape[1]))
    np.add.at(summed, clusters, scores)
    n_clusters, (n, k) = summed.shape[0], design.shape
    correction = n_clusters / (n_clusters - 1) * (n - 1) / (n - k)
    covariance = correction * bread @ (summed.T @ summed) @ bread
    return float(coef[0]), float(np.sqrt(covariance[0, 0]))


def with_bert_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``semi_elasticity_at_list`` (= elasticity, see the module docstring) and ``bert_beta`` (its negative)."""
    return table.assign(semi_elasticity_at_list=table["elasticity"], bert_beta=-table["elasticity"])


def estimate_elasticities(panel: pd.DataFrame, settings: ElasticitySettings | None = None) -> ElasticityEstimates:
    """Group and product elasticities of a panel with text features (:func:`build_online_retail_panel`).

    Returns:
        ``groups``: ``level`` (``all`` or a :data:`GROUP_LEVELS` key), ``group``, ``category``, ``customer_type``,
        ``elasticity``, ``std_error``, ``ci_low``, ``ci_high``, ``n_rows``, ``n_products``,
        ``semi_elasticity_at_list``, ``bert_beta``; ``products``: one row per product with enough data (columns
        of :func:`product_elasticities` and the BERT columns); ``summary``: naive vs DML and the product figures.
    """
    settings = settings or ElasticitySettings()
    if len(panel) < 4 * settings.n_folds or panel["product_id"].nunique() < settings.n_folds:
        raise DataError("elasticity panel", f"{len(panel)} rows of {panel['product_id'].nunique()} products is too "
                                            f"little to cross-fit {settings.n_folds} folds; use more data")
    model = fit_orthogonal(panel, settings)
    tables = [overall_elasticity(model, panel, settings)]
    tables += [group_elasticities(model, panel, level, settings) for level in GROUP_LEVELS]
    groups = with_bert_columns(pd.concat(tables, ignore_index=True))
    products = with_bert_columns(product_elasticities(panel, *residuals(model, panel), settings))
    return ElasticityEstimates(groups, products, estimate_summary(model, panel, groups, products, settings))


def estimate_summary(model: doubleml.DoubleMLPLR, panel: pd.DataFrame, groups: pd.DataFrame,
                     products: pd.DataFrame, settings: ElasticitySettings) -> dict[str, object]:
    """Naive vs DML, the share of products whose interval excludes zero and the per-product quantiles."""
    overall = groups.iloc[0]
    quantiles = (0.05, 0.25, 0.5, 0.75, 0.95)
    slopes = products["elasticity"]
    return {
        "dml_elasticity": {name: float(overall[name]) for name in ("elasticity", "std_error", "ci_low", "ci_high")},
        "naive_pooled_ols": naive_elasticity(panel, within=False, level=settings.level),
        "naive_within_ols": naive_elasticity(panel, within=True, level=settings.level),
        "nuisance_rmse": {name: float(np.ravel(loss)[0]) for name, loss in model.nuisance_loss.items()},
        "n_rows": len(panel), "n_cells": int(panel["cell"].nunique()),
        "n_products_in_panel": int(panel["product_id"].nunique()), "n_products_estimated": len(products),
        "share_products_ci_excludes_zero": float(products["ci_excludes_zero"].mean()) if len(products) else None,
        "share_products_significantly_negative": float((products["ci_high"] < 0).mean()) if len(products) else None,
        "product_elasticity_quantiles": {f"q{round(q * 100):02d}": float(slopes.quantile(q)) for q in quantiles}
        if len(products) else {},
        "level": settings.level, "n_folds": settings.n_folds, "seed": settings.seed,
        "min_product_rows": settings.min_product_rows, "min_product_price_std": settings.min_product_price_std,
    }


def build_online_retail_panel(transactions: pd.DataFrame, products: pd.DataFrame, product_vectors: np.ndarray,
                              outcome: Outcome = "units", n_components: int = 8, n_categories: int = 8,
                              seed_value: int = 0) -> pd.DataFrame:
    """The identification panel of online-retail ``transactions`` with the text features of ``products``.

    Args:
        products: the world's catalogue (``product_id``, ``product_text``), aligned with ``product_vectors``
            (text embeddings of ``product_text``).
        outcome: ``units`` or ``orders`` (see :func:`~pricegym.encoders.elasticity_panel.weekly_sales`).
    """
    components = text_components(product_vectors, n_components, seed_value)
    categories = text_categories(product_vectors, products["product_text"], n_categories, seed_value)
    panel = elasticity_panel(transactions, outcome=outcome)
    return attach_text_features(panel, products, components, categories)


# --- command line -----------------------------------------------------------------------------------------


def build_parser() -> CommandLineParser:
    """The command line of ``python -m pricegym.encoders.price_elasticity``."""
    parser = CommandLineParser(prog="python -m pricegym.encoders.price_elasticity", program=PROGRAM,
                               description="Orthogonalised (DoubleML) price elasticities of the Online Retail "
                                           "transactions, by text category x customer type and by product.")
    parser.add_argument("--data", type=input_path, required=True, help="online_retail.csv.gz (raw UCI layout)")
    parser.add_argument("--out", type=output_path, required=True,
                        help="folder to write elasticities.csv, product_elasticities.csv, summary.json")
    parser.add_argument("--seed", type=seed, default=0, help="folds, k-means and subsample (default: %(default)s)")
    parser.add_argument("--max-products", type=positive_int, default=None,
                        help="estimate on a random subset of this many products (default: all)")
    parser.add_argument("--outcome", choices=("units", "orders"), default="units",
                        help="log quantity counts units or order lines (default: %(default)s)")
    parser.add_argument("--folds", type=positive_int, default=5, help="cross-fitting folds (default: %(default)s)")
    parser.add_argument("--categories", type=positive_int, default=8, help="text categories (default: %(default)s)")
    parser.add_argument("--model", default="all-MiniLM-L6-v2", help="text encoder (default: %(default)s)")
    parser.add_argument("--cache-dir", type=output_path, default=Path(".cache/embeddings"),
                        help="embedding cache (default: %(default)s)")
    parser.add_argument("--threads", type=positive_int, default=1, help="CPU threads (default: %(default)s)")
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier output folder")
    return parser


def embed_products(texts: list[str], model: str, cache_dir: Path) -> np.ndarray:
    """Cached embeddings of the product texts by the text encoder ``model`` on the CPU."""
    from pricegym.encoders.embedding_cache import CachedTextEncoder
    from pricegym.encoders.text_encoder import TextEncoderConfig

    encoder = CachedTextEncoder.from_config(TextEncoderConfig(model_name=model, device="cpu"), cache_dir)
    return encoder.embed(texts, progress=True)


def subsample_products(transactions: pd.DataFrame, products: pd.DataFrame, max_products: int | None,
                       seed_value: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """At most ``max_products`` products drawn at random, with their transactions."""
    if max_products is None or max_products >= len(products):
        return transactions, products
    kept = products.sample(n=max_products, random_state=seed_value).sort_index()
    return transactions[transactions["product_id"].isin(kept["product_id"])], kept.reset_index(drop=True)


def run(arguments: argparse.Namespace) -> int:
    """Load, embed, estimate and write; the command's body."""
    from pricegym.worlds.online_retail import OnlineRetailConfig, load_online_retail

    started = time.perf_counter()
    out = check_replaceable(check_target(arguments.out, "folder"), arguments.overwrite, "summary.json")
    from threadpoolctl import threadpool_limits
    from tqdm.auto import tqdm

    stages = tqdm(total=4, desc=PROGRAM, unit="stage", disable=None)
    with threadpool_limits(limits=arguments.threads):
        stages.set_postfix_str("loading data")
        world = load_online_retail(OnlineRetailConfig(data_path=arguments.data))
        transactions, products = subsample_products(world.transactions, world.products, arguments.max_products,
                                                    arguments.seed)
        stages.update()
        stages.set_postfix_str("embedding texts")
        vectors = embed_products(products["product_text"].tolist(), arguments.model, arguments.cache_dir)
        stages.update()
        stages.set_postfix_str("cross-fitting (DoubleML)")
        panel = build_online_retail_panel(transactions, products, vectors, arguments.outcome,
                                          n_categories=arguments.categories, seed_value=arguments.seed)
        estimates = estimate_elasticities(panel, ElasticitySettings(n_folds=arguments.folds, seed=arguments.seed))
        stages.update()
    summary = {**estimates.summary, "outcome": arguments.outcome, "text_model": arguments.model,
               "max_products": arguments.max_products, "data": str(arguments.data),
               "libraries": {name: version(name) for name in ("doubleml", "scikit-learn", "numpy", "pandas")},
               "wall_time_s": round(time.perf_counter() - started, 1)}
    with atomic_folder(out) as folder:
        estimates.groups.to_csv(folder / "elasticities.csv", index=False)
        estimates.products.to_csv(folder / "product_elasticities.csv", index=False)
        (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    stages.update()
    stages.close()
    print(json.dumps({key: summary[key] for key in ("dml_elasticity", "naive_within_ols",
                                                    "share_products_ci_excludes_zero", "wall_time_s")}))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status."""
    return run_command_line(build_parser(), argv, run)


if __name__ == "__main__":
    raise SystemExit(main())
