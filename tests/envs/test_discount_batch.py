"""PersonalizedDiscountBatch: the single environment's episodes under seeds, fresh draws without, checked inputs."""

from __future__ import annotations

import numpy as np
import pytest

from pricegym.envs import PersonalizedDiscountConfig, PersonalizedDiscountEnv
from pricegym.envs.discount_batch import (
    ENDED,
    RUNNING,
    PersonalizedDiscountBatch,
    _weighted_rows_without_replacement,
)
from pricegym.errors import ConfigError, EnvStateError

SHORT = {"horizon": 40, "budget_window": 7, "n_customers": 6}
"""Short episodes with several budget windows and returning customers."""


def _config(world, **options) -> PersonalizedDiscountConfig:
    return PersonalizedDiscountConfig(world=world, **{**SHORT, **options})


def _random_actions(config: PersonalizedDiscountConfig, rng: np.random.Generator, batch: int) -> np.ndarray:
    """Random actions, a third of them the deepest discount (where the floor and the budget cap meet rounding)."""
    deepest = rng.random(batch) < 1 / 3
    if config.action_space == "box":
        return np.where(deepest, 1.0, rng.uniform(-1.0, 1.0, batch)).astype(np.float32)[:, None]
    return np.where(deepest, config.ladder_size - 1, rng.integers(0, config.ladder_size, batch))


def _assert_same_step(batched: tuple, singles: list[tuple]) -> None:
    """One batched step against the single environments' steps, slot by slot."""
    observations, rewards, terminated, truncated, infos = batched
    for slot, (observation, reward, ended, cut, info) in enumerate(singles):
        np.testing.assert_allclose(observations[slot], observation, rtol=0, atol=1e-6)
        assert rewards[slot] == pytest.approx(reward, rel=1e-9, abs=1e-12)
        assert (terminated[slot], truncated[slot]) == (ended, cut)
        for key, value in info.items():
            if isinstance(value, bool | int):  # flags and the customer: exactly
                assert infos[key][slot] == value, key
            else:
                assert infos[key][slot] == pytest.approx(value, rel=1e-9, abs=1e-12), key


def _assert_same_context(batch: PersonalizedDiscountBatch, singles: list[PersonalizedDiscountEnv]) -> None:
    context = batch.policy_context()
    for slot, env in enumerate(singles):
        for key, value in env.current_visit().items():
            assert context[key][slot] == pytest.approx(value, rel=1e-12, abs=1e-12), key


def _play_against_singles(config: PersonalizedDiscountConfig, steps: int = 95) -> dict[str, int]:
    """Four seeded slots against four single environments, with random actions; slots 1 and 3 are reset
    (seeded) mid-episode, and every ended slot is reset with a new seed, so slots end at different steps.
    Returns counts of the info flags seen (to check that budget caps, floors and purchases happened)."""
    rng = np.random.default_rng(0)
    batch = PersonalizedDiscountBatch(4, config, seed=1)
    singles = [PersonalizedDiscountEnv(config) for _ in range(4)]
    seeds = [11, 12, 13, 12]  # a repeated seed: both slots play the same episode
    observations, _ = batch.reset(seeds)
    first = [env.reset(seed=seed)[0] for env, seed in zip(singles, seeds, strict=True)]
    np.testing.assert_allclose(observations, first, atol=1e-6)
    next_seed, seen = 100, {"discount_capped": 0, "price_at_floor": 0, "bought": 0, "ended": 0}
    for step in range(steps):
        _assert_same_context(batch, singles)
        actions = _random_actions(config, rng, 4)
        result = batch.step(actions)
        _assert_same_step(result, [env.step(action) for env, action in zip(singles, actions, strict=True)])
        for key in ("discount_capped", "price_at_floor", "bought"):
            seen[key] += int(result[4][key].sum())
        ended = result[2] | result[3]
        seen["ended"] += int(ended.sum())
        reset = ended | (np.array([False, True, False, True]) if step == 15 else False)
        if reset.any():
            new_seeds = [next_seed + slot if reset[slot] else None for slot in range(4)]
            next_seed += 4
            observations, _ = batch.reset(new_seeds, mask=reset)
            for slot in np.flatnonzero(reset):
                np.testing.assert_allclose(observations[slot], singles[slot].reset(seed=new_seeds[slot])[0],
                                           atol=1e-6)
    return seen


@pytest.mark.parametrize("action_space", ["box", "ladder"])
@pytest.mark.parametrize("scenario", ["high-margin", "promotion-budget", "mid-margin"])
def test_seeded_slots_play_the_single_environments_episodes(small_world_config, scenario, action_space):
    config = _config(small_world_config, scenario=scenario, action_space=action_space, discount_budget=0.02)
    seen = _play_against_singles(config)
    assert seen["discount_capped"] > 0 and seen["bought"] > 0 and seen["ended"] >= 6


@pytest.mark.parametrize("action_space", ["box", "ladder"])
def test_seeded_slots_play_the_single_environments_episodes_with_fitted_demand(small_world_config, tables_run,
                                                                                action_space):
    """The fitted tables' price floor binds (max_discount beyond the prices the data showed)."""
    config = _config(small_world_config, demand_source="fitted", demand_run=tables_run, action_space=action_space,
                     max_discount=0.9, discount_budget=0.5)
    seen = _play_against_singles(config)
    assert seen["price_at_floor"] > 0 and seen["bought"] > 0


def test_seeded_slots_without_embeddings_and_with_one_product(small_world_config):
    _play_against_singles(_config(small_world_config, observe_embeddings=False, n_products=1, n_customers=1,
                                  budget_window=1_000, discount_budget=0.0), steps=45)


@pytest.mark.parametrize("max_discount, window", [(0.3, 3), (0.45, 3), (0.7, 4)])
def test_the_tolerance_flags_match_where_deep_discounts_meet_the_floor_and_the_budget(small_world_config,
                                                                                      max_discount, window):
    """Budgets of ``window - 1`` deepest discounts per window: the deepest discount meets the floor, and the budget
    left, up to rounding, where only the single environment's tolerance decides the flags."""
    _play_against_singles(_config(small_world_config, max_discount=max_discount, budget_window=window,
                                  discount_budget=max_discount * (window - 1) / window, n_products=1))


def _play_unseeded(batch: PersonalizedDiscountBatch, steps: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random actions for ``steps`` steps, ended slots reset unseeded; all observations and rewards."""
    rng = np.random.default_rng(seed)
    observations, _ = batch.reset()
    seen, rewards = [observations], []
    for _ in range(steps):
        observations, reward, terminated, truncated, _ = batch.step(_random_actions(batch.config, rng,
                                                                                    batch.num_envs))
        seen.append(observations)
        rewards.append(reward)
        if (terminated | truncated).any():
            observations, _ = batch.reset(mask=terminated | truncated)
            seen.append(observations)
    return np.stack(seen), np.stack(rewards)


@pytest.mark.parametrize("action_space", ["box", "ladder"])
def test_unseeded_episodes_are_valid_and_differ_across_slots(small_world_config, action_space):
    batch = PersonalizedDiscountBatch(16, _config(small_world_config, action_space=action_space), seed=3)
    observations, rewards = _play_unseeded(batch, 50)
    space = batch.single_observation_space
    assert observations.dtype == np.float32 and rewards.dtype == np.float64
    assert np.all((observations >= space.low) & (observations <= space.high))
    assert np.isfinite(rewards).all() and (rewards > 0).any()
    first = observations[0]
    assert len({row.tobytes() for row in first}) == 16  # every slot starts its own episode
    assert len({tuple(row) for row in batch.customer_rows}) == 16


def test_unseeded_draws_follow_the_single_environments_rules(small_world_config):
    """Products: distinct, sorted, from the pool; customers: distinct demand rows of positive weight; the
    thresholds, slopes and intercepts: the demand source's on the visit's day; budgets by the scenario."""
    config = _config(small_world_config, n_products=3)
    batch = PersonalizedDiscountBatch(64, config, seed=0)
    batch.reset()
    env, market = batch.single_env, batch.market
    assert np.isin(batch.products, env.pool).all() and (np.diff(batch.products, axis=1) > 0).all()
    assert all(np.unique(rows).size == config.n_customers for rows in batch.customer_rows)
    assert (market.customer_weights[batch.customer_rows] > 0).all()
    rows = np.take_along_axis(batch.customer_rows, batch.visitors, axis=1)
    products = np.take_along_axis(batch.products, batch.viewed, axis=1)
    days = env._days(np.arange(config.horizon))
    intercept, slope = market.demand.intercept_and_slope(rows, products, market.context(days, products))
    np.testing.assert_allclose(batch.intercept, intercept)
    np.testing.assert_allclose(batch.slope, np.broadcast_to(slope, batch.slope.shape))
    assert (batch.threshold != batch.intercept).all()  # a uniform per visit
    np.testing.assert_allclose(batch.budget, config.economics.discount_budget * config.budget_window
                               * market.list_prices[batch.products].mean(axis=1))


def test_unseeded_pools_are_drawn_by_activity_without_replacement(small_world_config):
    """How often each demand row joins a pool matches numpy's ``choice(replace=False, p=weights)``, which the
    single environment uses (successive sampling by weight), to sampling error."""
    config = _config(small_world_config, n_customers=20, horizon=1)
    draws = 3_000
    batch = PersonalizedDiscountBatch(draws, config, seed=0)
    batch.reset()
    weights = batch.market.customer_weights
    reference = np.random.default_rng(1)
    expected = np.zeros(weights.size)
    for _ in range(draws):
        expected[reference.choice(weights.size, size=20, replace=False, p=weights)] += 1
    observed = np.bincount(batch.customer_rows.ravel(), minlength=weights.size)
    chi_square = (observed - expected) ** 2 / np.maximum(observed + expected, 1)  # about 1 per row by chance
    assert chi_square.mean() < 1.5 and chi_square.max() < 25
    product_counts = np.bincount(batch.products.ravel(), minlength=batch.market.list_prices.size)
    pool_share = product_counts[batch.single_env.pool] / draws
    np.testing.assert_allclose(pool_share, config.n_products / batch.single_env.pool.size, atol=0.04)


def test_pools_are_drawn_successively_by_weight():
    """Two draws from skewed weights: row i joins with probability ``w_i + sum_j w_j w_i / (1 - w_j)`` (the first
    draw, or the second after another row j), never with weight 0; the first drawn is listed first."""
    weights = np.array([0.5, 0.3, 0.1, 0.06, 0.04, 0.0])
    rows = _weighted_rows_without_replacement(weights, 200_000, 2, np.random.default_rng(0))
    second = weights[None, :] * weights[:, None] / (1.0 - weights[:, None])
    np.fill_diagonal(second, 0.0)
    expected = weights + second.sum(axis=0)
    np.testing.assert_allclose(np.bincount(rows.ravel(), minlength=6) / 200_000, expected, atol=4e-3)
    np.testing.assert_allclose(np.bincount(rows[:, 0], minlength=6) / 200_000, weights, atol=4e-3)
    assert (rows[:, 0] != rows[:, 1]).all()


def test_every_customer_and_every_product_of_the_pool_can_be_drawn_at_once(small_world_config):
    env = PersonalizedDiscountEnv(_config(small_world_config))
    customers = int(np.count_nonzero(env.market.customer_weights))
    config = _config(small_world_config, n_customers=customers, n_products=int(env.pool.size), horizon=3)
    batch = PersonalizedDiscountBatch(3, config, seed=0)
    batch.reset()
    assert all(sorted(row) == list(range(customers)) for row in batch.customer_rows.tolist())
    assert (batch.products == env.pool).all()


def test_the_cores_seed_reproduces_its_unseeded_episodes(small_world_config):
    config = _config(small_world_config)
    first = _play_unseeded(PersonalizedDiscountBatch(6, config, seed=5), 60)
    again = _play_unseeded(PersonalizedDiscountBatch(6, config, seed=5), 60)
    other = _play_unseeded(PersonalizedDiscountBatch(6, config, seed=6), 60)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])


def test_a_masked_reset_leaves_the_other_slots_alone(small_world_config):
    batch = PersonalizedDiscountBatch(4, _config(small_world_config), seed=0)
    batch.reset()
    for _ in range(5):
        before, *_ = batch.step(np.zeros((4, 1), np.float32))
    mask = np.array([True, False, True, False])
    after, _ = batch.reset(mask=mask)
    np.testing.assert_array_equal(after[~mask], before[~mask])
    assert batch.visit.tolist() == [0, 5, 0, 5]


@pytest.mark.parametrize("action_space, actions, message", [
    ("box", np.array([[0.0], [0.5], [np.nan], [0.0]], np.float32), "slot 2"),
    ("box", np.array([0.0, 1.5, 0.0, 0.0]), "slot 1"),
    ("box", np.zeros((4, 2), np.float32), "shape"),
    ("box", np.zeros(4, np.int64), "float"),
    ("ladder", np.array([0, 1, 2, 11]), "slot 3"),
    ("ladder", np.array([0, -1, 2, 3]), "slot 1"),
    ("ladder", np.zeros(4), "integer"),
])
def test_bad_actions_raise_a_value_error_naming_the_slot(small_world_config, action_space, actions, message):
    batch = PersonalizedDiscountBatch(4, _config(small_world_config, action_space=action_space), seed=0)
    batch.reset()
    with pytest.raises(ValueError, match=message):
        batch.step(actions)


@pytest.mark.parametrize("seeds", [[0, 1, 2], [0, 1, 2, 3, 4], [0, -1, 2, 3], [0, 1.5, 2, 3], [True, 1, 2, 3],
                                   [0, 2**32, 2, 3]])
def test_a_wrong_number_of_seeds_or_a_bad_seed_is_a_config_error(small_world_config, seeds):
    batch = PersonalizedDiscountBatch(4, _config(small_world_config), seed=0)
    with pytest.raises(ConfigError):
        batch.reset(seeds)


def test_stepping_a_slot_that_ended_or_never_started_is_an_env_state_error(small_world_config):
    config = _config(small_world_config, horizon=3)
    batch = PersonalizedDiscountBatch(2, config, seed=0)
    actions = np.zeros((2, 1), np.float32)
    with pytest.raises(EnvStateError, match="slot 0 was never reset"):
        batch.step(actions)
    batch.reset(mask=np.array([True, False]))
    with pytest.raises(EnvStateError, match="slot 1 was never reset"):
        batch.step(actions)
    batch.reset()
    terminated = [batch.step(actions)[2] for _ in range(3)]
    assert terminated[-1].all() and not terminated[0].any()
    assert (batch.episode_state == ENDED).all()
    with pytest.raises(EnvStateError, match="slot 0 has ended"):
        batch.step(actions)
    batch.reset(mask=np.array([False, True]))
    assert batch.episode_state.tolist() == [ENDED, RUNNING]
    with pytest.raises(EnvStateError, match="slot 0 has ended"):
        batch.step(actions)


def test_a_bad_batch_size_is_a_config_error(small_world_config):
    for size in (0, -1, 2.0, True):
        with pytest.raises(ConfigError, match="num_envs"):
            PersonalizedDiscountBatch(size, _config(small_world_config))


def test_draws_too_big_for_memory_are_a_config_error(small_world_config):
    with pytest.raises(ConfigError, match="lower num_envs or horizon"):
        PersonalizedDiscountBatch(60_000, _config(small_world_config, horizon=1_000_000))
