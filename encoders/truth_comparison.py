"""Error of a fitted demand model against the synthetic world's ground truth.

For customer x product pairs, both models are queried in a neutral market with the reference
price at list price, on a grid of prices. Two errors are reported, each inside and outside the
range of prices the product was seen at in training (what RL agents will exploit is the second):

* the mean absolute error of the price elasticity ``d log demand / d log price``, at prices inside
  the observed range (its quartiles) and outside it (0.6 x its minimum, 1.4 x its maximum); inside
  the range also as a percentage of the median true elasticity there (the same pairs and prices);
* the mean absolute error of the revenue-optimal price (as a share of list price), split by
  whether the true optimum lies inside the product's observed range.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pricegym.worlds.demand import DemandModel, MarketContext

PairDemand = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
"""(customer indices, product indices, relative prices) -> demand, broadcast together."""

OPTIMUM_GRID = np.geomspace(0.1, 5.0, 801)
LOG_STEP = 0.02


def truth_pair_demand(truth: DemandModel, list_prices: np.ndarray) -> PairDemand:
    """The ground truth as a :data:`PairDemand` (neutral market, reference price = list price)."""

    def demand(customers: np.ndarray, products: np.ndarray, relative_prices: np.ndarray) -> np.ndarray:
        list_price = list_prices[products]
        return truth.demand(customers, products, relative_prices * list_price, MarketContext.neutral(), list_price)

    return demand


def elasticity(demand: PairDemand, customers, products, relative_prices) -> np.ndarray:
    """Central-difference elasticity in log price."""
    up = demand(customers, products, relative_prices * np.exp(LOG_STEP))
    down = demand(customers, products, relative_prices * np.exp(-LOG_STEP))
    return (np.log(up) - np.log(down)) / (2 * LOG_STEP)


def optimal_relative_price(demand: PairDemand, customers: np.ndarray, products: np.ndarray) -> np.ndarray:
    """Revenue-maximising price / list price on :data:`OPTIMUM_GRID`, per pair."""
    grid = OPTIMUM_GRID[None, :]
    revenue = grid * demand(customers[:, None], products[:, None], grid)
    return OPTIMUM_GRID[np.argmax(revenue, axis=1)]


def compare_with_truth(model: PairDemand, truth: PairDemand, customers: np.ndarray, products: np.ndarray,
                       observed_range: np.ndarray) -> dict[str, float]:
    """Elasticity and optimal-price errors of ``model`` on the pairs, inside and outside the observed range.

    Args:
        customers, products: pair indices (1-D, same length).
        observed_range: ``[n_products, 2]`` lowest and highest relative price seen in training.
    """
    low, high = observed_range[products, 0], observed_range[products, 1]
    inside = np.stack([low + share * (high - low) for share in (0.25, 0.5, 0.75)], axis=1)
    outside = np.stack([0.6 * low, 1.4 * high], axis=1)
    c, p = customers[:, None], products[:, None]
    true_optimum = optimal_relative_price(truth, customers, products)
    model_optimum = optimal_relative_price(model, customers, products)
    optimum_inside = (true_optimum >= low) & (true_optimum <= high)
    optimum_error = np.abs(model_optimum - true_optimum)
    true_inside = elasticity(truth, c, p, inside)
    mae_inside = _mae(elasticity(model, c, p, inside), true_inside)
    median_inside = float(np.median(true_inside))
    return {
        "elasticity_mae_in_range": mae_inside,
        "median_true_elasticity_in_range": median_inside,
        "elasticity_mae_in_range_pct": 100.0 * mae_inside / abs(median_inside) if median_inside else np.nan,
        "elasticity_mae_out_of_range": _mae(elasticity(model, c, p, outside), elasticity(truth, c, p, outside)),
        "optimal_price_mae_in_range": float(optimum_error[optimum_inside].mean()) if optimum_inside.any() else np.nan,
        "optimal_price_mae_out_of_range": (float(optimum_error[~optimum_inside].mean())
                                           if (~optimum_inside).any() else np.nan),
        "true_optimum_out_of_range_share": float(1.0 - optimum_inside.mean()),
    }


def _mae(predicted: np.ndarray, true: np.ndarray) -> float:
    return float(np.mean(np.abs(predicted - true)))
