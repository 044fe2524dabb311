"""The supervised BERT pricing baseline: learns the incumbent's rule, serves the model's prices from a table,
saves and reloads its run folder, and refuses bad input with one clear error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pricegym.agents.fit_pricer import FINE_TUNED, TABLED, FitPricerConfig, fit_pricer, load_pricer
from pricegym.agents.pricer_model import predict_log_ratios
from pricegym.agents.pricer_training import PricerTrainingConfig
from pricegym.agents.pricing_rows import pricing_rows
from pricegym.agents.pricing_texts import ContextBuckets
from pricegym.cli import main
from pricegym.encoders.text_encoder import TextEncoderConfig
from pricegym.errors import ConfigError, DataError
from pricegym.worlds.registry import WorldConfig, load_world
from pricegym.worlds.synthetic import SyntheticWorld, SyntheticWorldConfig

# A known rule: the incumbent without noise, price = unit_cost x markup[segment, category]. The segment is in
# the customer text and the cost in the product text, so text explains every price; a per-product mean
# cannot tell segments apart.
RULE_WORLD = SyntheticWorldConfig(seed=7, n_products=24, n_customers=30, n_exposures=3_000, n_days=60,
                                  incumbent_price_noise=0.0)
TINY_TRAINING = PricerTrainingConfig(epochs=12, batch_size=16, max_train_texts=400, max_validation_texts=200,
                                     encoder_learning_rate=5e-3, head_learning_rate=5e-3, patience=12)


def tiny_config(tmp_path: Path, **changes) -> FitPricerConfig:
    settings = dict(world=WorldConfig(synthetic=RULE_WORLD),
                    encoder=TextEncoderConfig(model_name="tiny-random-bert", max_length=96, device="cpu"),
                    training=TINY_TRAINING, context_buckets="none", max_eval_rows=600,
                    output_dir=tmp_path / "run", cache_dir=tmp_path / "cache")
    return FitPricerConfig(**{**settings, **changes})


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pricer")
    return fit_pricer(tiny_config(folder), progress=False, argv=["pricegym", "fit-pricer"])


@pytest.fixture(scope="module")
def rule_world() -> SyntheticWorld:
    return load_world(WorldConfig(synthetic=RULE_WORLD))


def _metric(metrics, model: str, split: str, column: str = "rmse_log_ratio") -> float:
    return float(metrics.loc[(metrics["model"] == model) & (metrics["split"] == split), column].iloc[0])


def test_the_regressor_learns_the_incumbent_rule(fitted):
    metrics = fitted.metrics
    assert set(metrics["split"]) == {"test", "cold_start_test"}
    bert, product_mean = _metric(metrics, FINE_TUNED, "test"), _metric(metrics, "per-product mean price", "test")
    assert bert < 0.5 * product_mean, f"BERT log-ratio RMSE {bert:.3f} vs per-product mean {product_mean:.3f}"
    assert _metric(metrics, FINE_TUNED, "test", "rmse") < _metric(metrics, "per-product mean price", "test", "rmse")
    assert fitted.history.validation_rmse[fitted.history.best_epoch] == min(fitted.history.validation_rmse)


def test_the_table_charges_price_sensitive_segments_less(fitted, rule_world):
    by_segment = fitted.by_row.set_index("segment")["table_price_over_list"]
    sensitive = by_segment[[name for name in by_segment.index if name.startswith("price-sensitive")]].mean()
    quality = by_segment[[name for name in by_segment.index if name.startswith("quality-focused")]].mean()
    assert sensitive < quality  # the incumbent's markup factors are 0.9 and 1.12


def test_the_tabulated_policy_returns_the_models_prices(fitted, rule_world):
    loaded = load_pricer(fitted.output_dir, rule_world)
    policy = loaded.policy
    np.testing.assert_array_equal(policy.ratios, fitted.policy.ratios)
    rows = pricing_rows(rule_world, ContextBuckets("none"))
    texts = rows.table_texts(loaded.tokenizer.sep_token)
    chosen = np.random.default_rng(0).choice(len(texts), size=40, replace=False)
    direct = np.exp(predict_log_ratios(loaded.model, loaded.tokenizer, [texts[i] for i in chosen], 96,
                                       loaded.model.device))
    row, product, bucket = np.unravel_index(chosen, policy.shape)
    np.testing.assert_allclose(policy.price(row, product, bucket), direct * policy.list_prices[product], rtol=1e-5)
    customers = np.flatnonzero(policy.customer_rows == row[0])[:1]
    assert policy.price_for_customers(customers, product[:1], bucket[:1]) == pytest.approx(
        policy.price(row[:1], product[:1], bucket[:1]))


def test_the_run_folder_holds_model_table_card_and_run_record(fitted, rule_world):
    saved = {path.name for path in fitted.output_dir.iterdir()}
    assert {"model", "pricing_table.npz", "pricing_table.json", "model_card.json", "run.json"} <= saved
    assert not any(name.endswith(".partial") for name in (p.name for p in fitted.output_dir.parent.iterdir()))
    card = json.loads((fitted.output_dir / "model_card.json").read_text())
    assert card["world"] == "synthetic" and card["target"] == "log(price / list_price)"
    assert card["table_shape"] == [15, 24, 1] and {m["model"] for m in card["metrics"]} >= {FINE_TUNED, TABLED}
    assert json.loads((fitted.output_dir / "run.json").read_text())["argv"] == ["pricegym", "fit-pricer"]


def test_an_existing_run_folder_is_refused_without_overwrite(fitted, tmp_path):
    with pytest.raises(ConfigError, match="already exists"):
        fit_pricer(tiny_config(tmp_path, output_dir=fitted.output_dir), progress=False)


def test_a_model_card_of_other_data_is_refused(fitted):
    other = SyntheticWorld.build(SyntheticWorldConfig(seed=8, n_products=24, n_customers=30, n_exposures=3_000,
                                                      n_days=60))
    with pytest.raises(DataError, match="fitted on other synthetic data"):
        load_pricer(fitted.output_dir, other)
    other.name = "online-retail"  # a card names the world it was fitted on
    with pytest.raises(DataError, match="fitted on the 'synthetic' world"):
        load_pricer(fitted.output_dir, other)
    with pytest.raises(DataError, match="no readable model_card.json"):
        load_pricer(fitted.output_dir / "model")


def test_a_world_without_price_variation_is_refused():
    world = SyntheticWorld.build(SyntheticWorldConfig(seed=2, n_products=8, n_customers=20, n_exposures=800,
                                                      n_days=20))
    world.transactions["price"] = world.transactions["list_price"]
    with pytest.raises(DataError, match="no pricing rule to learn"):
        pricing_rows(world)


def test_a_world_without_incumbent_prices_is_refused():
    world = SyntheticWorld.build(SyntheticWorldConfig(seed=2, n_products=8, n_customers=20, n_exposures=800,
                                                      n_days=20, exploration_share=1.0))
    with pytest.raises(DataError, match="no incumbent-priced exposures"):
        pricing_rows(world)


@pytest.mark.parametrize("arguments, message", [
    (["--device", "tpu"], "device must be one of"),
    (["--context", "weekday-season-holiday", "--n-products", "400"], "more than max_table_texts"),
    (["--max-train-texts", "0"], "--max-train-texts"),
])
def test_bad_input_ends_with_one_line(arguments, message, tmp_path, capsys):
    tiny = ["--n-customers", "40", "--n-exposures", "1500", "--n-days", "30", "--model", "tiny-random-bert"]
    code = main(["fit-pricer", *tiny, *arguments, "--out", str(tmp_path / "run"), "--quiet"])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and error[-1].startswith("pricegym: error:") and message in error[-1]
    assert not (tmp_path / "run").exists()
