"""The fine-tuned demand model: monotone by construction, tables equal to the model, sensible fits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from pricegym.encoders.demand_data import DemandData
from pricegym.encoders.demand_evaluation import tables_predictor
from pricegym.encoders.demand_model import BertDemandModel, PriceResponseHead
from pricegym.encoders.demand_reduction import reduce_to_tables
from pricegym.encoders.demand_rows import world_rows
from pricegym.encoders.demand_tables import ContextWeights, DemandTables
from pricegym.encoders.demand_training import DemandTrainingConfig, embed_texts, train_demand_model
from pricegym.encoders.text_encoder import TextEncoder, TextEncoderConfig
from pricegym.encoders.tiny_bert import tiny_bert
from pricegym.errors import ConfigError, DataError
from pricegym.worlds.demand import MarketContext, ReferencePriceEffect
from pricegym.worlds.synthetic import SyntheticWorld, SyntheticWorldConfig

SMALL_WORLD = SyntheticWorldConfig(seed=11, n_products=16, n_customers=60, n_exposures=8_000, n_days=60,
                                   exploration_share=0.5)


@pytest.fixture(scope="module")
def small_world() -> SyntheticWorld:
    return SyntheticWorld.build(SMALL_WORLD)


@pytest.fixture(scope="module")
def fitted(small_world, tmp_path_factory):
    """A tiny BERT demand model fine-tuned briefly on the small world."""
    rows = world_rows(small_world)
    model_module, tokenizer = tiny_bert(rows.data.customer_texts + rows.data.product_texts, seed=0)
    encoder = TextEncoder.from_model(model_module, tokenizer, TextEncoderConfig(model_name="tiny-random-bert",
                                                                                device="cpu"))
    torch.manual_seed(0)
    model = BertDemandModel(encoder.model, "mean", small_world.config.reference_effect, "purchase_probability")
    history = train_demand_model(model, encoder, rows.rows_of("train"), rows.rows_of("validation"),
                                 DemandTrainingConfig(epochs=2, max_steps_per_epoch=12, head_learning_rate=1e-2),
                                 tmp_path_factory.mktemp("checkpoints"), progress=False)
    return rows, encoder, model.eval(), history


def test_training_writes_a_checkpoint_per_epoch_and_lowers_the_loss(fitted, tmp_path_factory):
    rows, encoder, model, history = fitted
    assert len(history.train_loss) == len(history.validation_loss) >= 1
    assert history.validation_loss[history.best_epoch] == min(history.validation_loss)
    assert history.train_loss[-1] < 0.69  # better than a coin: the intercept and price slope were learned


def test_simulation_tables_give_the_full_models_probabilities(fitted):
    rows, encoder, model, _ = fitted
    tables = reduce_to_tables(model, encoder, rows.data.customer_texts, rows.data.product_texts, rows.list_prices)
    test = rows.rows_of("test")
    customer_texts, product_texts, batch = test.batch(np.arange(len(test)), encoder.device)
    with torch.no_grad():
        index = model.utility_index(embed_texts(encoder, customer_texts), embed_texts(encoder, product_texts), batch)
    full_model = torch.sigmoid(index).numpy()
    np.testing.assert_allclose(tables_predictor(tables)(test), full_model, atol=1e-5)


def test_fitted_elasticities_have_the_right_sign_and_rough_size(fitted, small_world):
    rows, encoder, model, _ = fitted
    tables = reduce_to_tables(model, encoder, rows.data.customer_texts, rows.data.product_texts, rows.list_prices,
                              customer_rows=rows.customer_rows)
    customers, products = small_world.all_pairs()
    list_price = rows.list_prices[products]
    below_list = 0.85 * list_price  # away from the reference-price kink at list price
    fitted_elasticity = tables.price_elasticity(customers, products, below_list, MarketContext.neutral(), list_price)
    true_elasticity = small_world.ground_truth.price_elasticity(customers, products, below_list,
                                                               MarketContext.neutral(), list_price)
    assert np.all(fitted_elasticity < 0)
    ratio = np.median(fitted_elasticity) / np.median(true_elasticity)
    assert 0.4 < ratio < 2.5, f"median fitted elasticity {np.median(fitted_elasticity):.2f} vs true " \
                              f"{np.median(true_elasticity):.2f}"


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), hidden=st.sampled_from([4, 16]), scale=st.floats(0.1, 20.0))
def test_any_head_gives_falling_demand_and_an_interior_revenue_optimum(seed, hidden, scale):
    torch.manual_seed(seed)
    head = PriceResponseHead(hidden, head_size=8)
    with torch.no_grad():
        for parameter in head.parameters():
            parameter.mul_(scale)
        customer_vectors = (torch.randn(5, 1, hidden) * scale).expand(5, 7, hidden)
        product_vectors = (torch.randn(1, 7, hidden) * scale).expand(5, 7, hidden)
        intercept, slope = head(customer_vectors, product_vectors)
    tables = DemandTables(intercept.double().numpy(), slope.double().numpy(), np.linspace(5, 50, 7),
                          ContextWeights.zero(), ReferencePriceEffect(), "purchase_probability")
    customers, products = np.arange(5)[:, None, None], np.arange(7)[None, :, None]
    prices = np.geomspace(0.05, 50.0, 400)[None, None, :] * tables.list_prices[products]
    demand = tables.demand(customers, products, prices, reference_prices=tables.list_prices[products])
    assert np.all(np.diff(demand, axis=-1) <= 1e-12)
    optimum = tables.optimal_price(customers[..., 0], products[..., 0],
                                   reference_prices=tables.list_prices[products[..., 0]])
    assert np.all(np.isfinite(optimum)) and np.all(optimum > 0)


def test_tables_round_trip_through_disk(fitted, tmp_path):
    rows, encoder, model, _ = fitted
    tables = reduce_to_tables(model, encoder, rows.data.customer_texts, rows.data.product_texts, rows.list_prices,
                              product_ids=rows.product_ids)
    loaded = DemandTables.load(tables.save(tmp_path))
    np.testing.assert_array_equal(loaded.slope, tables.slope)
    assert loaded.product_ids == rows.product_ids and loaded.reference_effect == tables.reference_effect
    with pytest.raises(DataError, match="no readable demand tables"):
        DemandTables.load(tmp_path / "nowhere")


def test_tables_refuse_non_positive_slopes():
    with pytest.raises(ValueError, match="positive"):
        DemandTables(np.zeros((1, 1)), np.zeros((1, 1)), np.ones(1), ContextWeights.zero(), ReferencePriceEffect(),
                     "purchase_probability")


@pytest.mark.parametrize("bad_price", [np.nan, 0.0, -3.0])
def test_nan_or_non_positive_prices_are_refused(small_world, bad_price):
    frame = small_world.transactions.copy()
    frame.loc[frame.index[5], "price"] = bad_price
    with pytest.raises(DataError, match="finite and positive"):
        DemandData.from_transactions(frame, np.zeros(len(frame)), tuple(sorted(frame["customer_text"].unique())),
                                     tuple(small_world.products["product_id"]),
                                     tuple(small_world.products["product_text"]))


def test_a_world_without_price_variation_is_refused():
    world = SyntheticWorld.build(SyntheticWorldConfig(seed=2, n_products=8, n_customers=20, n_exposures=800,
                                                      n_days=20, exploration_share=0.0))
    world.transactions["price"] = world.transactions["list_price"]
    with pytest.raises(DataError, match="never vary within a product"):
        world_rows(world)


def test_invalid_training_configs_are_refused():
    with pytest.raises(ConfigError, match="epochs"):
        DemandTrainingConfig(epochs=0)


def test_fit_demand_end_to_end_with_a_tiny_model(tmp_path):
    from pricegym.encoders.fit_demand import FitDemandConfig, fit_demand
    from pricegym.worlds.registry import WorldConfig

    config = FitDemandConfig(
        world=WorldConfig(synthetic=SyntheticWorldConfig(seed=4, n_products=10, n_customers=30, n_exposures=2_000,
                                                         n_days=30)),
        encoder=TextEncoderConfig(model_name="tiny-random-bert", device="cpu"),
        training=DemandTrainingConfig(epochs=1, max_steps_per_epoch=3), bootstrap_rounds=2,
        output_dir=tmp_path / "run", cache_dir=tmp_path / "cache")
    result = fit_demand(config, progress=False, argv=["pricegym", "fit-demand"])
    saved = {path.name for path in result.output_dir.iterdir()}
    assert {"encoder", "head.pt", "demand_tables.npz", "model_card.json", "run.json", "checkpoints",
            "embeddings.npz"} <= saved
    embeddings = np.load(result.output_dir / "embeddings.npz")
    assert embeddings["product_vectors"].shape[0] == 10 and embeddings["customer_vectors"].shape[0] == 30
    assert set(result.metrics["split"]) == {"test", "cold_start_test"}
    assert set(result.metrics["model"]) == {"BERT fine-tuned (monotone head)", "GLM on frozen embeddings",
                                            "product id + price (no text)"}
    assert len(result.card["data_sha256"]) == 64 and result.truth_errors is not None
    assert result.tables.intercept.shape == (30, 10) and np.all(result.tables.slope_std >= 0)
    with pytest.raises(ConfigError, match="already exists"):
        fit_demand(config, progress=False)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cache", "run"]  # nothing half-written


def test_unknown_model_is_refused_before_any_work(tmp_path):
    from pricegym.encoders.fit_demand import FitDemandConfig, fit_demand
    from pricegym.worlds.registry import WorldConfig

    config = FitDemandConfig(
        world=WorldConfig(synthetic=SyntheticWorldConfig(n_products=8, n_customers=20, n_exposures=500, n_days=20)),
        encoder=TextEncoderConfig(model_name=str(tmp_path / "no-such-model"), device="cpu"),
        output_dir=tmp_path / "run", cache_dir=tmp_path / "cache")
    with pytest.raises(ConfigError, match="no-such-model"):
        fit_demand(config, progress=False)
    assert not (tmp_path / "run").exists()


def test_demand_rows_of_the_synthetic_world_index_every_customer(small_world):
    rows = world_rows(small_world)
    assert len(rows.customer_ids) == len(small_world.customers)
    assert rows.customer_rows.max() < len(rows.data.customer_texts)


def test_metrics_on_known_cases():
    from pricegym.encoders.demand_metrics import auc, count_metrics, expected_calibration_error, log_loss

    bought = np.array([0.0, 0.0, 1.0, 1.0])
    assert auc(np.array([0.1, 0.2, 0.8, 0.9]), bought) == 1.0
    assert auc(np.array([0.9, 0.8, 0.2, 0.1]), bought) == 0.0
    assert log_loss(np.full(4, 0.5), bought) == pytest.approx(np.log(2))
    assert expected_calibration_error(np.array([0.05, 0.05, 0.95, 0.95]), bought) == pytest.approx(0.05)
    rng = np.random.default_rng(0)
    rate = rng.uniform(0.1, 3.0, 20_000)
    calibrated = count_metrics(rate, rng.poisson(rate).astype(float))
    doubled = count_metrics(2 * rate, rng.poisson(rate).astype(float))
    assert calibrated["worst_decile_relative_error"] < 0.1 < doubled["worst_decile_relative_error"]
    assert calibrated["poisson_deviance"] < doubled["poisson_deviance"]
