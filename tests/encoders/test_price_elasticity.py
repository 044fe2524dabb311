"""The orthogonalised (DML) elasticity recovers a known elasticity where prices answer demand shocks; OLS does not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pricegym.encoders.elasticity_panel import days_to_christmas, elasticity_panel, within_cells
from pricegym.encoders.price_elasticity import (
    ElasticityEstimates,
    ElasticitySettings,
    estimate_elasticities,
    main,
    naive_elasticity,
)

REPO = Path(__file__).resolve().parents[2]
REAL_DATA = REPO.parent / "shared" / "data" / "online_retail.csv.gz"
TYPES = ("registered-uk", "guest-uk")


def synthetic_panel(elasticity_by_category: dict[str, float], n_products: int = 120, n_weeks: int = 40,
                    seed: int = 0) -> pd.DataFrame:
    """A panel in the layout of :func:`elasticity_panel` with known elasticities and endogenous prices.

    A demand shock (a non-linear function of the week of year and the restock flag, both controls) raises
    demand, and the shop raises its price with it: the price is correlated with the unobserved-by-OLS part of
    demand, so a regression of log quantity on log price that does not model the shock flexibly is biased up.
    """
    rng = np.random.default_rng(seed)
    categories = list(elasticity_by_category)
    product = np.repeat(np.arange(n_products), len(TYPES) * n_weeks)
    kind = np.tile(np.repeat(np.arange(len(TYPES)), n_weeks), n_products)
    week = np.tile(np.arange(n_weeks), n_products * len(TYPES)) + 1
    category = np.asarray(categories)[product % len(categories)]
    restocked = (rng.random(product.size) < 0.1).astype(np.int64)
    shock = np.sin(2 * np.pi * week / 26) + 0.8 * restocked + 0.6 * (week > 30)
    log_relative_price = 0.3 * shock + rng.normal(0, 0.2, product.size)
    cell_level = rng.normal(2, 1, n_products * len(TYPES))[product * len(TYPES) + kind]
    truth = np.vectorize(elasticity_by_category.get)(category)
    log_quantity = cell_level + truth * log_relative_price + 1.2 * shock + rng.normal(0, 0.3, product.size)
    dates = pd.Series(pd.Timestamp("2011-01-03") + pd.to_timedelta(7 * (week - 1), unit="D"))
    panel = pd.DataFrame({
        "product_id": [f"p{p:03d}" for p in product], "customer_type": np.asarray(TYPES)[kind],
        "week_of_year": week, "days_to_christmas": days_to_christmas(dates).to_numpy(),
        "product_age_weeks": week - 1, "weeks_since_last_sale": 1 + 3 * restocked, "restocked": restocked,
        "price_tier": rng.integers(0, 2, product.size), "log_quantity": log_quantity,
        "log_relative_price": log_relative_price, "category": category,
        "product_text": [f"product {p}" for p in product],
    })
    panel["cell"] = panel["product_id"] + "|" + panel["customer_type"]
    for i in range(2):
        panel[f"text_pc{i}"] = rng.normal(size=n_products)[product]
    return within_cells(panel)


@pytest.fixture(scope="module")
def one_elasticity() -> tuple[pd.DataFrame, ElasticityEstimates]:
    panel = synthetic_panel({"mugs": -1.5})
    return panel, estimate_elasticities(panel, ElasticitySettings(n_folds=3, seed=0))


def covers(row: pd.Series | dict, truth: float) -> bool:
    return bool(row["ci_low"] <= truth <= row["ci_high"])


def test_naive_regression_is_biased(one_elasticity) -> None:
    panel, _ = one_elasticity
    for within in (False, True):
        naive = naive_elasticity(panel, within=within)
        assert not covers(naive, -1.5), naive
        assert naive["elasticity"] > -1.5  # prices rise with demand shocks: the naive slope is biased up


def test_orthogonal_estimate_covers_the_truth(one_elasticity) -> None:
    _, estimates = one_elasticity
    overall = estimates.groups.iloc[0]
    assert overall["level"] == "all" and covers(overall, -1.5), overall
    assert overall["std_error"] < 0.2
    assert overall["bert_beta"] == pytest.approx(-overall["elasticity"])
    summary = estimates.summary
    assert summary["naive_within_ols"]["elasticity"] > summary["dml_elasticity"]["ci_high"]


def test_group_elasticities_are_recovered_and_separated() -> None:
    truth = {"mugs": -0.8, "bags": -2.4}
    panel = synthetic_panel(truth, seed=0)
    groups = estimate_elasticities(panel, ElasticitySettings(n_folds=3, seed=0)).groups
    by_category = groups[groups["level"] == "category"].set_index("group")
    for category, elasticity in truth.items():
        assert covers(by_category.loc[category], elasticity), by_category.loc[category]
    assert by_category.loc["bags", "ci_high"] < by_category.loc["mugs", "ci_low"]
    crossed = groups[groups["level"] == "category x customer_type"]
    assert len(crossed) == 4 and set(crossed["customer_type"]) == set(TYPES)
    assert (crossed["n_rows"] > 0).all()


def test_product_estimates_have_intervals(one_elasticity) -> None:
    _, estimates = one_elasticity
    products = estimates.products
    assert len(products) == 120
    assert (products["ci_low"] < products["elasticity"]).all() and (products["elasticity"] < products["ci_high"]).all()
    assert products["elasticity"].median() == pytest.approx(-1.5, abs=0.3)
    assert 0 <= estimates.summary["share_products_ci_excludes_zero"] <= 1


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "--max-products" in capsys.readouterr().out


def test_missing_data_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "result"
    status = main(["--data", str(tmp_path / "absent.csv.gz"), "--out", str(out)])
    error = capsys.readouterr().err.strip()
    assert status != 0
    assert len(error.splitlines()) == 1 and "absent.csv.gz" in error, error
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not REAL_DATA.is_file(), reason="the Online Retail file is not at ../shared/data")
def test_panel_of_real_transactions() -> None:
    from pricegym.worlds.online_retail import OnlineRetailConfig, load_online_retail

    transactions = load_online_retail(OnlineRetailConfig(data_path=REAL_DATA)).transactions
    panel = elasticity_panel(transactions.iloc[:60_000])
    assert {"registered-uk", "guest-uk"} <= set(panel["customer_type"])
    assert panel.groupby("cell")["within_log_relative_price"].sum().abs().max() < 1e-8
    assert panel["relative_price"].between(0.2, 5).all() and np.isfinite(panel["log_quantity"]).all()
    assert panel["days_to_christmas"].between(0, 365).all() and (panel["product_age_weeks"] >= 0).all()
    assert panel["week"].dt.dayofweek.eq(0).all() and (panel["cell_weeks"] >= 2).all()
