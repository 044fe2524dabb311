"""Under a fitted demand model, the products it saw at one price only are left out of the pool."""

from __future__ import annotations

import numpy as np

from pricegym.envs import CompetitionEnv, MarkdownEnv, PersonalizedDiscountEnv


def test_products_seen_at_one_price_are_left_out_of_every_fitted_pool(small_world_config, one_price_tables_run,
                                                                      tables_run):
    for env_class in (MarkdownEnv, CompetitionEnv, PersonalizedDiscountEnv):
        options = {"world": small_world_config, "demand_source": "fitted", "observe_embeddings": False}
        narrowed = env_class(**options, demand_run=one_price_tables_run)
        full = env_class(**options, demand_run=tables_run)
        assert np.isin([0, 1, 2], full.pool).sum() >= 2  # they are training products of this world
        assert not np.isin([0, 1, 2], narrowed.pool).any(), env_class.__name__
        np.testing.assert_array_equal(narrowed.pool, full.pool[~np.isin(full.pool, [0, 1, 2])])
        narrowed.reset(seed=0)  # and the environment runs on the rest
