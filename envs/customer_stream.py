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
from functools import cached_property

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
            (season, period) block, as plain lists for bisection in the step (made at first use).
    """

    products: np.ndarray
    horizon: int
    period_start: np.ndarray
    customers: np.ndarray
    threshold: np.ndarray
    slope: np.ndarray
    reservation_price: np.ndarray

    @property
    def size(self) -> int:
        return self.products.shape[0]

    @property
    def block(self) -> np.ndarray:
        """``[rows]`` the (season, period) block ``b * T + t`` of every row."""
        return np.repeat(np.arange(self.period_start.size - 1), np.diff(self.period_start))

    @cached_property
    def sorted_reservations(self) -> list[list[float]]:
        """Per product slot, the reservation prices sorted within each (season, period) block, as lists."""
        reservation, block = self.reservation_price, self.block
        return [reservation[np.lexsort((reservation[:, k], block)), k].tolist() for k in range(self.products.shape[1])]

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
    arrivals = rng.poisson(arrival_rate, size=products.shape[0] * horizon)
    periods = np.repeat(np.arange(products.shape[0] * horizon), arrivals) % horizon
    customers = draw_customers(shopper_cdf, market.customer_weights.size, periods, rng)
    uniforms = rng.random((customers.size, products.shape[1]))
    return season_batch(market, products, first_day, horizon, appeal_decay, arrivals, customers,
                        logit(np.clip(uniforms, 1e-12, 1 - 1e-12)))


def season_batch(market: PricingMarket, products: np.ndarray, first_day: int, horizon: int, appeal_decay: float,
                 arrivals: np.ndarray, customers: np.ndarray, noise: np.ndarray) -> SeasonBatch:
    """The seasons of drawn ``arrivals`` (``[B * T]``), ``customers`` (``[rows]``) and logistic ``noise``
    (``[rows, K]``, the logit of each customer x product's uniform): their thresholds and reservation prices."""
    block = np.repeat(np.arange(products.shape[0] * horizon), arrivals)  # (season, period) of every row
    row_products = products[block // horizon]
    intercept, slope = row_utilities(market, row_products, customers, block % horizon, first_day, horizon,
                                     appeal_decay)
    return seasons_of(market, products, horizon, arrivals, customers, row_products, intercept - noise, slope)


def row_utilities(market: PricingMarket, row_products: np.ndarray, customers: np.ndarray, periods: np.ndarray,
                  first_day: int, horizon: int, appeal_decay: float) -> tuple[np.ndarray, np.ndarray]:
    """The intercept (with the season's fading appeal) and the slope of each row's customer (``[rows]``) for its
    products (``[rows, K]``) in its period of the season (``[rows]``); the slope may be broadcast."""
    days = (first_day + periods)[:, None]
    intercept, slope = market.demand.intercept_and_slope(customers[:, None], row_products,
                                                         market.context(days, row_products))
    return intercept + appeal_over_season(horizon, appeal_decay)[periods][:, None], slope


def seasons_of(market: PricingMarket, products: np.ndarray, horizon: int, arrivals: np.ndarray, customers: np.ndarray,
               row_products: np.ndarray, threshold: np.ndarray, slope: np.ndarray) -> SeasonBatch:
    """The :class:`SeasonBatch` of drawn arrivals and customers with their products, thresholds and slopes."""
    slope = np.broadcast_to(slope, threshold.shape)
    reservation = reservation_price(threshold, slope, market.list_prices[row_products], market.reference_effect)
    return SeasonBatch(products=products, horizon=horizon,
                       period_start=np.concatenate([[0], np.cumsum(arrivals)]), customers=customers,
                       threshold=threshold, slope=slope, reservation_price=reservation)


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
    index = utility_index(threshold, slope, prices, list_prices, reference_prices, effect)
    return np.count_nonzero(index > 0, axis=0)


def utility_index(threshold: np.ndarray, slope: np.ndarray, prices: np.ndarray, list_prices: np.ndarray,
                  reference_prices: np.ndarray, effect: ReferencePriceEffect) -> np.ndarray:
    """Each customer's utility index at ``prices`` given the reference prices (buy iff positive); the
    arguments broadcast together."""
    gap = (reference_prices - prices) / list_prices
    reference_term = effect.gain * np.maximum(gap, 0.0) - effect.loss * np.maximum(-gap, 0.0)
    return threshold - slope * (prices / list_prices - 1.0) + reference_term
