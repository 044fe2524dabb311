"""The demand interface: monotone price response, an interior optimum, the reference-price kink."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricegym.errors import ConfigError
from pricegym.worlds.demand import LinearPriceDemand, MarketContext, ReferencePriceEffect


class ConstantDemand(LinearPriceDemand):
    """One customer, one product, with a given intercept and price sensitivity."""

    def __init__(self, intercept: float, slope: float, list_price: float, effect: ReferencePriceEffect,
                 response="purchase_probability") -> None:
        super().__init__(np.array([list_price]), effect, response)
        self.intercept, self.slope = intercept, slope

    def intercept_and_slope(self, customers, products, context):
        shape = np.broadcast_shapes(np.shape(customers), np.shape(products))
        return np.full(shape, self.intercept), np.full(shape, self.slope)


def grid_optimum(model, reference=None, unit_cost=0.0) -> float:
    prices = np.linspace(0.01, 20 * model.list_prices[0], 400_001)
    objective = (prices - unit_cost) * model.demand(0, 0, prices, reference_prices=reference)
    return float(prices[np.argmax(objective)])


demand_parameters = dict(
    intercept=st.floats(-6.0, 4.0),
    slope=st.floats(0.2, 8.0),
    list_price=st.floats(1.0, 200.0),
    gain=st.floats(0.0, 2.0),
    extra_loss=st.floats(0.0, 2.0),
    theta=st.floats(0.0, 0.95),
    response=st.sampled_from(["purchase_probability", "expected_quantity"]),
)


@settings(max_examples=60, deadline=None)
@given(**demand_parameters, reference_share=st.floats(0.3, 2.0))
def test_demand_falls_in_price_and_revenue_peaks_inside(intercept, slope, list_price, gain, extra_loss, theta,
                                                       response, reference_share):
    effect = ReferencePriceEffect(theta=theta, gain=gain, loss=gain + extra_loss)
    model = ConstantDemand(intercept, slope, list_price, effect, response)
    reference = reference_share * list_price
    prices = np.linspace(0.05, 5.0, 200) * list_price
    demand = model.demand(0, 0, prices, reference_prices=reference)
    assert np.all(np.diff(demand) <= 0)
    assert np.all(model.price_elasticity(0, 0, prices, reference_prices=reference) < 0)
    optimum = float(model.optimal_price(0, 0, reference_prices=reference))
    assert 0 < optimum < np.inf
    revenue = lambda p: p * model.demand(0, 0, p, reference_prices=reference)  # noqa: E731
    assert revenue(optimum) >= revenue(optimum * 0.97) and revenue(optimum) >= revenue(optimum * 1.03)


@pytest.mark.parametrize("reference_share", [None, 0.5, 0.9, 1.0, 1.3, 3.0])
@pytest.mark.parametrize("unit_cost", [0.0, 4.0])
def test_closed_form_optimum_matches_a_grid_search(reference_share, unit_cost):
    model = ConstantDemand(-1.0, 2.5, 10.0, ReferencePriceEffect(theta=0.7, gain=0.8, loss=1.6))
    reference = None if reference_share is None else reference_share * 10.0
    closed_form = float(model.optimal_price(0, 0, reference_prices=reference, unit_costs=unit_cost))
    assert closed_form == pytest.approx(grid_optimum(model, reference, unit_cost), abs=2e-3)


def test_count_response_optimum_is_inverse_slope():
    model = ConstantDemand(0.5, 2.0, 10.0, ReferencePriceEffect(), response="expected_quantity")
    assert float(model.optimal_price(0, 0)) == pytest.approx(10.0 / 2.0)
    assert float(model.optimal_price(0, 0)) == pytest.approx(grid_optimum(model), abs=2e-3)


def test_reference_price_memory_moves_as_documented():
    effect = ReferencePriceEffect(theta=0.75, gain=0.5, loss=1.0)
    assert effect.update(20.0, 10.0) == pytest.approx(0.75 * 20.0 + 0.25 * 10.0)
    reference = 20.0
    for _ in range(200):
        reference = effect.update(reference, 10.0)
    assert reference == pytest.approx(10.0)


def test_a_bargain_against_memory_raises_demand_and_a_surcharge_lowers_it_more():
    effect = ReferencePriceEffect(theta=0.5, gain=0.5, loss=1.5)
    model = ConstantDemand(-1.0, 2.0, 10.0, effect)
    without_memory = model.demand(0, 0, 10.0)
    assert model.demand(0, 0, 10.0, reference_prices=12.0) > without_memory
    assert model.demand(0, 0, 10.0, reference_prices=8.0) < without_memory
    index_gain = model.utility_index(0, 0, 10.0, reference_prices=12.0) - model.utility_index(0, 0, 10.0)
    index_loss = model.utility_index(0, 0, 10.0) - model.utility_index(0, 0, 10.0, reference_prices=8.0)
    assert index_gain == pytest.approx(0.5 * 0.2) and index_loss == pytest.approx(1.5 * 0.2)


@pytest.mark.parametrize("theta, gain, loss", [(1.0, 0.5, 1.0), (-0.1, 0.5, 1.0), (0.5, 1.0, 0.5), (0.5, -0.1, 1.0)])
def test_invalid_reference_effects_are_refused(theta, gain, loss):
    with pytest.raises(ConfigError):
        ReferencePriceEffect(theta=theta, gain=gain, loss=loss)


@pytest.mark.parametrize("price", [0.0, -1.0, np.nan, np.inf])
def test_non_positive_or_missing_prices_are_refused(price):
    model = ConstantDemand(-1.0, 2.0, 10.0, ReferencePriceEffect())
    with pytest.raises(ValueError, match="finite and positive"):
        model.demand(0, 0, price)


def test_neutral_context_broadcasts():
    context = MarketContext.neutral()
    assert context.weekday.shape == () and np.isnan(context.competitor_price)
