"""Shared fixtures: tiny worlds that build in well under a second, and fitted-tables runs of the small world."""

from __future__ import annotations

import numpy as np
import pytest

from pricegym.encoders.demand_tables import ContextWeights, DemandTables
from pricegym.worlds.demand import MarketContext
from pricegym.worlds.registry import WorldConfig, load_world
from pricegym.worlds.synthetic import SyntheticWorld, SyntheticWorldConfig

TINY_SYNTHETIC = SyntheticWorldConfig(seed=7, n_products=24, n_customers=90, n_exposures=4_000, n_days=60)


@pytest.fixture(scope="session")
def tiny_config() -> SyntheticWorldConfig:
    return TINY_SYNTHETIC


@pytest.fixture(scope="session")
def tiny_world() -> SyntheticWorld:
    return SyntheticWorld.build(TINY_SYNTHETIC)


SMALL_WORLD = WorldConfig(synthetic=SyntheticWorldConfig(seed=5, n_products=30, n_customers=200, n_exposures=12_000))


@pytest.fixture(scope="session")
def small_world_config() -> WorldConfig:
    return SMALL_WORLD


def _truth_tables_run(folder, price_ranges, embedding_width: int = 12) -> object:
    """Demand tables equal to the small world's truth in a neutral market, with the given price ranges
    (``[products, 2]``, or a function of the logged ranges), and random embeddings."""
    world = load_world(SMALL_WORLD)
    customers, products = world.all_pairs()
    intercept, slope = world.ground_truth.intercept_and_slope(customers, products, MarketContext.neutral())
    logged = world.transactions.groupby("product_id")["price"].agg(["min", "max"])
    tables = DemandTables(
        intercept=intercept, slope=np.broadcast_to(slope, intercept.shape), list_prices=world.ground_truth.list_prices,
        context_weights=ContextWeights.zero(), reference_effect=world.config.reference_effect,
        response="purchase_probability",
        price_ranges=price_ranges(logged.reindex(world.products["product_id"]).to_numpy(),
                                  world.ground_truth.list_prices),
        customer_ids=tuple(world.customers["customer_id"]), product_ids=tuple(world.products["product_id"]),
    )
    folder = tables.save(folder)
    rng = np.random.default_rng(0)
    np.savez(folder / "embeddings.npz", product_vectors=rng.normal(size=(len(world.products), embedding_width)),
             customer_vectors=rng.normal(size=(len(world.customers), embedding_width)))
    return folder


@pytest.fixture(scope="session")
def tables_run(tmp_path_factory) -> object:
    """A run folder holding demand tables equal to the small world's truth in a neutral market
    (what fit-demand writes, without the minutes of fine-tuning), with embeddings."""
    return _truth_tables_run(tmp_path_factory.mktemp("fitted-run"),
                             lambda logged, list_prices: 0.5 + 0.5 * logged)  # a narrower band


@pytest.fixture(scope="session")
def wide_tables_run(tmp_path_factory) -> object:
    """The tables of :func:`tables_run` with 4,096-dimensional embeddings (observations too big to precompute)."""
    return _truth_tables_run(tmp_path_factory.mktemp("wide-run"), lambda logged, list_prices: 0.5 + 0.5 * logged,
                             embedding_width=4_096)


@pytest.fixture(scope="session")
def narrow_tables_run(tmp_path_factory) -> object:
    """The same tables, but the data showed only prices between 0.9 and 1.1 times each list price."""
    return _truth_tables_run(tmp_path_factory.mktemp("narrow-run"),
                             lambda logged, list_prices: np.column_stack([0.9 * list_prices, 1.1 * list_prices]))


@pytest.fixture(scope="session")
def one_price_tables_run(tmp_path_factory) -> object:
    """The tables of :func:`tables_run`, but the data showed products 0, 1 and 2 at one price only."""
    def ranges(logged, list_prices):
        ranges = 0.5 + 0.5 * logged
        ranges[:3, 1] = ranges[:3, 0]
        return ranges

    return _truth_tables_run(tmp_path_factory.mktemp("one-price-run"), ranges)
