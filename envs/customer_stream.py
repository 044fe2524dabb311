"""The customers of one selling season, drawn up front so that randomness never depends on actions.

Common random numbers by design: at reset, and in a fixed order, the season's exogenous draws are
made from the environment's ``np_random``:

1. arrivals per period, Poisson at the base rate (for a batch of seasons at once);
2. which customer each arrival is (by the population's weights, tilted over the season from the
   least to the most price-sensitive customers by ``shopper_mix_shift``);
3. one uniform per arriving customer x product.

A customer buys a product when its uniform falls below the purchase probability at the offered
price, i.e. when its *purchase threshold* ``s = a(customer, product, day) - logit(uniform)``
exceeds the price terms of the utility index. Two policies run with one seed therefore meet the
very same customers with the very same willingness to pay, and their comparison is paired.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logit

from pricegym.envs.market import PricingMarket, draw_customers
from pricegym.worlds.demand import ReferencePriceEffect


@dataclass(frozen=True)
class SeasonBatch:
    """The arriving customers of several seasons, drawn together (one draw per season is slow).

    Rows of all seasons are stacked; season ``b``'s period ``t`` holds rows
    ``period_start[b * T + t] : period_start[b * T + t + 1]``.

    Attributes:
        products: ``[B, K]`` the products of each season.
        period_start: ``[B * T + 1]`` row offsets of every (season, period).
        customers: demand-row index of every arriving customer.
        threshold: ``[rows, K]`` the index margin ``a - logit(uniform)``.
        slope: ``[rows, K]`` price sensitivity ``beta`` of each customer for each product.
        reservation_price: ``[rows, K]`` the highest price each customer pays while the reference
            price sits at the list price (buy iff price < reservation price).
        sorted_reservations: per product slot, reservation prices sorted within each
            (season, period) block, as plain lists for bisection in the step.
    """

    products: np.ndarray
    horizon: int
    period_start: np.ndarray
    customers: np.ndarray
    threshold: np.ndarray
    slope: np.ndarray
    reservation_price: np.ndarray
    sorted_reservations: list[list[float]]

    @property
    def size(self) -> int:
        return self.products.shape[0]

    def offsets(self, season: int) -> list[int]:
        """Row offsets of the season's periods (``T + 1`` values)."""
        return self.period_start[season * self.horizon:(season + 1) * self.horizon + 1].tolist()


def appeal_over_season(horizon: int, appeal_decay: float) -> np.ndarray:
    """``[T]`` utility shift of each period: 0 at the start, ``-appeal_decay`` in the last period."""
    return -appeal_decay * np.arange(horizon) / max(horizon - 1, 1)


def draw_seasons(market: PricingMarket, products: np.ndarray, first_day: int, horizon: int, arrival_rate: float,
                 appeal_decay: float, shopper_cdf: np.ndarray, rng: np.random.Generator) -> SeasonBatch:
    """Draw the customers of ``len(products)`` seasons (see the module docstring for the order).

    ``shopper_cdf`` is :func:`~pricegym.envs.market.stacked_cdf` of the season's per-period arrival weights.
    """
    n_seasons = products.shape[0]
    arrivals = rng.poisson(arrival_rate, size=n_seasons * horizon)
    block = np.repeat(np.arange(n_seasons * horizon), arrivals)  # (season, period) of every row
    customers = draw_customers(shopper_cdf, market.customer_weights.size, block % horizon, rng)
    uniforms = rng.random((customers.size, products.shape[1]))
    row_products = products[block // horizon]
    days = (first_day + block % horizon)[:, None]
    intercept, slope = market.demand.intercept_and_slope(customers[:, None], row_products,
                                                         market.context(days, row_products))
    intercept = intercept + appeal_over_season(horizon, appeal_decay)[block % horizon][:, None]
    threshold = intercept - logit(np.clip(uniforms, 1e-12, 1 - 1e-12))
    slope = np.broadcast_to(slope, threshold.shape)
    reservation = reservation_price(threshold, slope, market.list_prices[row_products], market.reference_effect)
    return SeasonBatch(
        products=products, horizon=horizon, period_start=np.concatenate([[0], np.cumsum(arrivals)]),
        customers=customers, threshold=threshold, slope=slope, reservation_price=reservation,
        sorted_reservations=[reservation[np.lexsort((reservation[:, k], block)), k].tolist()
                             for k in range(products.shape[1])],
    )


def reservation_price(threshold: np.ndarray, slope: np.ndarray, list_price: np.ndarray,
                      effect: ReferencePriceEffect) -> np.ndarray:
    """The price at which ``threshold - slope (p/L - 1) + reference term`` crosses zero, with the
    reference price at the list price: on the loss side above it, on the gain side below it."""
    above_list = threshold >= 0
    relative = 1.0 + threshold / (slope + np.where(above_list, effect.loss, effect.gain))
    return relative * list_price


def buyers_with_memory(threshold: np.ndarray, slope: np.ndarray, prices: np.ndarray, list_prices: np.ndarray,
                       reference_prices: np.ndarray, effect: ReferencePriceEffect) -> np.ndarray:
    """Buyers per product when reference prices have moved away from the list prices."""
    gap = (reference_prices - prices) / list_prices
    reference_term = effect.gain * np.maximum(gap, 0.0) - effect.loss * np.maximum(-gap, 0.0)
    index = threshold - slope * (prices / list_prices - 1.0) + reference_term
    return np.count_nonzero(index > 0, axis=0)
