"""The second stage of the demand fit: the head refit on cached embeddings."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from pricegym.encoders.demand_data import DemandData
from pricegym.encoders.demand_model import BertDemandModel
from pricegym.encoders.demand_reduction import head_tables
from pricegym.encoders.head_refit import HeadRefitConfig, refit_head
from pricegym.errors import ConfigError
from pricegym.worlds.demand import ReferencePriceEffect

HIDDEN, N_CUSTOMERS, N_PRODUCTS = 8, 12, 6


class _NoEncoder(nn.Module):
    """Stands in for BERT: the head only needs the hidden size."""

    config = SimpleNamespace(hidden_size=HIDDEN)


def _rows(rng: np.random.Generator, n: int) -> DemandData:
    customer, product = rng.integers(N_CUSTOMERS, size=n), rng.integers(N_PRODUCTS, size=n)
    relative = rng.uniform(0.6, 1.4, size=n)
    index = -1.0 + 0.3 * (product % 3) - 2.0 * (relative - 1.0)
    outcome = (rng.random(n) < 1 / (1 + np.exp(-index))).astype(float)
    zeros = np.zeros(n, np.int64)
    return DemandData(customer_texts=tuple(f"c{i}" for i in range(N_CUSTOMERS)),
                      product_texts=tuple(f"p{j}" for j in range(N_PRODUCTS)), customer=customer, product=product,
                      relative_price=relative, weekday=zeros, season=zeros, holiday=np.zeros(n),
                      competitor_gap=np.zeros(n), outcome=outcome)


@pytest.fixture()
def setup():
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    model = BertDemandModel(_NoEncoder(), "mean", ReferencePriceEffect(gain=0.0, loss=0.0), "purchase_probability",
                            head_size=16, initial_intercept=0.5)
    vectors = torch.randn(N_CUSTOMERS, HIDDEN), torch.randn(N_PRODUCTS, HIDDEN)
    return model, vectors, _rows(rng, 3_000), _rows(rng, 1_000)


def _loss(model: BertDemandModel, vectors, data: DemandData) -> float:
    _, _, batch = data.batch(np.arange(len(data)), torch.device("cpu"))
    customers, products = np.unique(data.customer), np.unique(data.product)
    with torch.no_grad():
        index = model.utility_index(vectors[0][customers], vectors[1][products], batch)
        return float(model.loss(index, batch.outcome))


def test_the_refit_lowers_the_loss_and_keeps_its_best_epoch(setup):
    model, vectors, train, validation = setup
    before = _loss(model, vectors, train)
    history = refit_head(model, *vectors, train, validation, HeadRefitConfig(epochs=20, batch_size=256,
                                                                             learning_rate=1e-2))
    assert history.train_loss[0] == pytest.approx(before, rel=1e-5)
    assert _loss(model, vectors, train) < before - 0.02
    assert history.best_epoch >= 1 and history.steps >= 12 and history.seconds > 0
    assert history.validation_loss[history.best_epoch] == min(history.validation_loss)
    assert _loss(model, vectors, validation) == pytest.approx(history.validation_loss[history.best_epoch], rel=1e-5)


def test_a_strong_anchor_pulls_each_rows_slope_to_its_own_anchor(setup):
    model, vectors, train, validation = setup
    per_product = 2.0 + 0.5 * np.arange(N_PRODUCTS)  # each product its own anchor: rows must stay aligned
    history = refit_head(model, *vectors, train, validation,
                         HeadRefitConfig(epochs=60, batch_size=256, learning_rate=1e-2, anchor_strength=100.0,
                                         patience=60), anchor_slope=per_product[train.product])
    _, slopes = head_tables(model, *vectors)
    assert np.abs(slopes - per_product[None, :]).max() < 0.15, slopes
    assert history.anchor_penalty[-1] < history.anchor_penalty[0]


def test_zero_weights_switch_the_anchor_off(setup):
    model, vectors, train, validation = setup
    config = HeadRefitConfig(epochs=5, batch_size=256, learning_rate=1e-2, anchor_strength=100.0)
    state = {name: value.clone() for name, value in model.state_dict().items()}
    refit_head(model, *vectors, train, validation, config)
    free = head_tables(model, *vectors)[1]
    model.load_state_dict(state)
    refit_head(model, *vectors, train, validation, config, anchor_slope=np.full(len(train), 4.0),
               anchor_weight=np.zeros(len(train)))
    np.testing.assert_allclose(head_tables(model, *vectors)[1], free, atol=1e-5)


def test_no_epochs_change_nothing(setup):
    model, vectors, train, validation = setup
    state = {name: value.clone() for name, value in model.state_dict().items()}
    history = refit_head(model, *vectors, train, validation, HeadRefitConfig(epochs=0))
    assert history.steps == 0 and history.train_loss == [] and history.best_epoch == 0
    for name, value in model.state_dict().items():
        assert torch.equal(value, state[name]), name


def test_anchors_need_one_finite_value_per_row(setup):
    model, vectors, train, validation = setup
    config = HeadRefitConfig(epochs=1)
    with pytest.raises(ConfigError, match="one value per training row"):
        refit_head(model, *vectors, train, validation, config, anchor_slope=np.ones(3))
    with pytest.raises(ConfigError, match="without anchor_slope"):
        refit_head(model, *vectors, train, validation, config, anchor_weight=np.ones(len(train)))
    with pytest.raises(ConfigError, match="finite"):
        refit_head(model, *vectors, train, validation, config, anchor_slope=np.full(len(train), np.nan))
