"""The demand interface: the contract every demand source implements.

A demand source answers, for arrays of customers x products x prices x market contexts (all
broadcast together) and a reference-price state:

* :meth:`DemandModel.demand` - the purchase probability of one exposure (``response ==
  "purchase_probability"``, exposure worlds) or the expected quantity (``response ==
  "expected_quantity"``, count worlds);
* :meth:`DemandModel.optimal_price` - the price maximising expected revenue, or margin when unit
  costs are given;
* :meth:`DemandModel.price_elasticity` - ``d log demand / d log price``.

Sources: the synthetic world's ground truth (:mod:`pricegym.worlds.synthetic`) and, later, the
fitted BERT demand model. Both share one functional form, :class:`LinearPriceDemand`, whose
price response is monotone and whose optimum is finite and interior by construction:

    index = a(customer, product, context) - beta(customer, product) * (price / list_price - 1)
            + reference-price term
    demand = sigmoid(index)   (exposure)   or   exp(index)   (count)

with ``beta > 0``. The reference-price term (:class:`ReferencePriceEffect`) is a gain when the
price lies below the customer's reference price and a (larger) loss when above it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
from scipy.special import expit, wrightomega

from pricegym.config_checks import config_dataclass, number
from pricegym.errors import ConfigError

ArrayLike = np.ndarray | float | int
Response = Literal["purchase_probability", "expected_quantity"]


@dataclass(frozen=True)
class MarketContext:
    """Market conditions, as arrays that broadcast with customers, products and prices.

    Attributes:
        weekday: 0 = Monday ... 6 = Sunday.
        season: index into :data:`pricegym.worlds.schema.SEASONS`.
        holiday: whether the day is a public or shopping holiday.
        competitor_price: a rival's price for the product; NaN where not known.
    """

    weekday: np.ndarray
    season: np.ndarray
    holiday: np.ndarray
    competitor_price: np.ndarray

    @classmethod
    def neutral(cls) -> MarketContext:
        """A Monday in spring, no holiday, no known competitor price."""
        return cls(np.array(0), np.array(1), np.array(False), np.array(np.nan))


@config_dataclass("reference-price effect")
class ReferencePriceEffect:
    """Gain/loss effect of the gap between price and a customer's reference price.

    The reference price ``r`` is a memory of past prices that moves after each price seen::

        r <- theta * r + (1 - theta) * price

    and adds to the utility index ``gain * max(r - price, 0) / list_price`` when the price is a
    bargain against memory, or subtracts ``loss * max(price - r, 0) / list_price`` when it is
    dearer. ``loss >= gain`` (loss aversion) keeps the index concave in price, so revenue keeps a
    single interior maximum.

    Attributes:
        theta: memory weight in [0, 1): 0 forgets at once, near 1 remembers long.
        gain: utility per unit of relative bargain (>= 0).
        loss: utility lost per unit of relative surcharge (>= gain).
    """

    theta: number(0.0, 1.0, high_open=True) = 0.8
    gain: number(0.0, 20.0) = 0.6
    loss: number(0.0, 20.0) = 1.2

    def __post_init__(self) -> None:
        if self.loss < self.gain:
            raise ConfigError(
                f"reference-price coefficients need 0 <= gain <= loss (loss aversion keeps revenue "
                f"single-peaked); got gain={self.gain}, loss={self.loss}"
            )

    def update(self, reference_price: ArrayLike, price_seen: ArrayLike) -> np.ndarray:
        """The reference price after seeing ``price_seen``."""
        return self.theta * np.asarray(reference_price) + (1.0 - self.theta) * np.asarray(price_seen)

    def utility_term(self, price: np.ndarray, reference_price: np.ndarray, list_price: np.ndarray) -> np.ndarray:
        """The gain/loss term added to the utility index."""
        gap = (reference_price - price) / list_price
        return self.gain * np.maximum(gap, 0.0) - self.loss * np.maximum(-gap, 0.0)


class DemandModel(ABC):
    """The contract of every demand source; all methods are vectorised and broadcast their inputs.

    ``customers`` and ``products`` are integer indices into the source's own customer and product
    tables; ``prices`` are in currency; ``reference_prices`` default to "no memory effect".
    """

    response: ClassVar[Response]

    @abstractmethod
    def demand(
        self,
        customers: ArrayLike,
        products: ArrayLike,
        prices: ArrayLike,
        context: MarketContext | None = None,
        reference_prices: ArrayLike | None = None,
    ) -> np.ndarray:
        """Purchase probability per exposure, or expected quantity, at the given prices."""

    @abstractmethod
    def optimal_price(
        self,
        customers: ArrayLike,
        products: ArrayLike,
        context: MarketContext | None = None,
        reference_prices: ArrayLike | None = None,
        unit_costs: ArrayLike | None = None,
    ) -> np.ndarray:
        """The price maximising ``(price - unit_cost) * demand`` (revenue when costs are None)."""

    @abstractmethod
    def price_elasticity(
        self,
        customers: ArrayLike,
        products: ArrayLike,
        prices: ArrayLike,
        context: MarketContext | None = None,
        reference_prices: ArrayLike | None = None,
    ) -> np.ndarray:
        """``d log demand / d log price``: negative wherever demand falls in price."""


class LinearPriceDemand(DemandModel):
    """Demand whose utility index is linear in ``price / list_price`` plus a reference-price kink.

    Subclasses provide :meth:`intercept_and_slope`; this class derives demand, the optimal price
    (closed form through the Wright omega function, ``omega(z) = W(exp(z))``) and elasticities.
    """

    def __init__(
        self,
        list_prices: np.ndarray,
        reference_effect: ReferencePriceEffect,
        response: Response,
    ) -> None:
        self.list_prices = np.asarray(list_prices, dtype=float)
        self.reference_effect = reference_effect
        self.response = response  # type: ignore[misc]

    @abstractmethod
    def intercept_and_slope(
        self, customers: np.ndarray, products: np.ndarray, context: MarketContext | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Utility at list price ``a`` and price sensitivity ``beta > 0`` (per unit of price / list price)."""

    # -- the shared functional form ------------------------------------------------------------

    def utility_index(
        self,
        customers: ArrayLike,
        products: ArrayLike,
        prices: ArrayLike,
        context: MarketContext | None = None,
        reference_prices: ArrayLike | None = None,
    ) -> np.ndarray:
        """The index that the link maps to demand (log-odds for exposures, log-rate for counts)."""
        customers, products = np.asarray(customers), np.asarray(products)
        prices = _positive_prices(prices)
        intercept, slope = self.intercept_and_slope(customers, products, context)
        list_price = self.list_prices[products]
        index = intercept - slope * (prices / list_price - 1.0)
        if reference_prices is not None:
            index = index + self.reference_effect.utility_term(prices, np.asarray(reference_prices), list_price)
        return index

    def demand(self, customers, products, prices, context=None, reference_prices=None) -> np.ndarray:
        index = self.utility_index(customers, products, prices, context, reference_prices)
        return expit(index) if self.response == "purchase_probability" else np.exp(index)

    def price_elasticity(self, customers, products, prices, context=None, reference_prices=None) -> np.ndarray:
        customers, products = np.asarray(customers), np.asarray(products)
        prices = _positive_prices(prices)
        _, slope = self.intercept_and_slope(customers, products, context)
        list_price = self.list_prices[products]
        index_slope = slope / list_price  # -d index / d price, before the reference term
        if reference_prices is not None:
            above = prices > np.asarray(reference_prices)
            effect = self.reference_effect
            index_slope = index_slope + np.where(above, effect.loss, effect.gain) / list_price
        elasticity = -prices * index_slope
        if self.response == "purchase_probability":
            elasticity = elasticity * (1.0 - self.demand(customers, products, prices, context, reference_prices))
        return elasticity

    def optimal_price(self, customers, products, context=None, reference_prices=None, unit_costs=None) -> np.ndarray:
        customers, products = np.asarray(customers), np.asarray(products)
        intercept, slope = self.intercept_and_slope(customers, products, context)
        list_price = self.list_prices[products]
        unit_costs = np.zeros_like(list_price) if unit_costs is None else np.asarray(unit_costs, dtype=float)
        if reference_prices is None:
            return self._optimum_on_line(intercept + slope, slope / list_price, unit_costs)
        return self._optimum_with_reference(intercept, slope, list_price, np.asarray(reference_prices), unit_costs)

    def _optimum_on_line(
        self, index_at_zero: np.ndarray, index_slope: np.ndarray, unit_costs: np.ndarray
    ) -> np.ndarray:
        """argmax over p of (p - c) * link(index_at_zero - index_slope * p)."""
        if self.response == "expected_quantity":
            return unit_costs + 1.0 / index_slope
        margin_index = index_at_zero - index_slope * unit_costs - 1.0
        return unit_costs + (1.0 + wrightomega(margin_index).real) / index_slope

    def _optimum_with_reference(self, intercept, slope, list_price, reference_price, unit_costs) -> np.ndarray:
        """Optimum of the kinked (concave) index: the gain line's optimum if it lies below the
        reference price, else the loss line's if it lies above, else the kink itself."""
        effect = self.reference_effect
        gain_line = self._optimum_on_line(
            intercept + slope + effect.gain * reference_price / list_price,
            (slope + effect.gain) / list_price,
            unit_costs,
        )
        loss_line = self._optimum_on_line(
            intercept + slope + effect.loss * reference_price / list_price,
            (slope + effect.loss) / list_price,
            unit_costs,
        )
        kink = np.broadcast_to(reference_price, np.broadcast_shapes(gain_line.shape, reference_price.shape))
        above_kink = np.where(loss_line >= reference_price, loss_line, kink)
        return np.where(gain_line <= reference_price, gain_line, above_kink)


def _positive_prices(prices: ArrayLike) -> np.ndarray:
    prices = np.asarray(prices, dtype=float)
    if not np.all(np.isfinite(prices) & (prices > 0)):
        raise ValueError(f"prices must be finite and positive; got {prices[~(np.isfinite(prices) & (prices > 0))][:3]}")
    return prices
