"""Markdown-v0: registration, checkers, dynamics, seeding, common random numbers, errors, rendering."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from pricegym.agents.baselines import ListPricePolicy, RandomPolicy
from pricegym.envs import MARKDOWN_ID, MarkdownConfig, MarkdownEnv
from pricegym.errors import ConfigError, DataError
from pricegym.worlds.registry import WorldConfig


@pytest.fixture()
def env(small_world_config) -> MarkdownEnv:
    return MarkdownEnv(MarkdownConfig(world=small_world_config))


@pytest.mark.parametrize("options", [{}, {"action_space": "ladder"}, {"n_products": 3},
                                     {"n_products": 3, "action_space": "ladder", "reference_dynamics": True}])
def test_passes_both_checkers_with_warnings_as_errors(small_world_config, options):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gymnasium_check_env(gym.make(MARKDOWN_ID, world=small_world_config, **options).unwrapped)
        sb3_check_env(MarkdownEnv(MarkdownConfig(world=small_world_config, **options)), warn=True)


@pytest.mark.parametrize("options", [{}, {"n_products": 4, "reference_dynamics": True, "holding_cost": 0.1,
                                          "salvage_share": 0.3, "reward": "margin"}])
def test_random_play_keeps_inventory_non_negative_and_numbers_finite(small_world_config, options):
    env = MarkdownEnv(MarkdownConfig(world=small_world_config, **options))
    observation, _ = env.reset(seed=0)
    for _ in range(3_000):
        observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert np.all(np.isfinite(observation)) and np.isfinite(reward)
        assert env.observation_space.contains(observation)
        assert min(env.inventory_left) >= 0 and all(u >= 0 for u in info["units_lost_to_stockout"])
        assert all(low <= price <= high for price, low, high in
                   zip(info["prices"], env.price_actions.low, env.price_actions.high, strict=True))
        if terminated or truncated:
            assert env.period == env.config.horizon or not any(env.inventory_left)
            env.reset()


def test_units_sold_never_exceed_stock_and_lost_sales_are_reported(small_world_config):
    env = MarkdownEnv(MarkdownConfig(world=small_world_config, initial_inventory=2, arrival_rate=30.0))
    env.reset(seed=1)
    _, _, terminated, _, info = env.step(np.array([-1.0], dtype=np.float32))  # the lowest price: everyone wants it
    assert info["units_sold"] == [2] and info["units_lost_to_stockout"][0] > 0
    assert terminated and env.inventory_left == [0]


def run_episode(env, policy, seed):
    observation, info = env.reset(seed=seed)
    policy.begin_episode(env)
    arrivals, rewards, done = [], [], False
    while not done:
        action, _ = policy.predict(observation)
        observation, reward, terminated, truncated, step_info = env.step(action)
        arrivals.append(step_info["arrivals"])
        rewards.append(reward)
        done = terminated or truncated
    return info, arrivals, rewards


def test_same_seed_same_season_and_other_seed_other_season(env):
    first, second = run_episode(env, RandomPolicy(seed=3), 11), run_episode(env, RandomPolicy(seed=3), 11)
    assert first[0]["customers_hash"] == second[0]["customers_hash"] and first[2] == second[2]
    other = run_episode(env, RandomPolicy(seed=3), 12)
    assert other[0]["customers_hash"] != first[0]["customers_hash"]


def test_two_policies_with_one_seed_meet_identical_customers(small_world_config):
    env = MarkdownEnv(MarkdownConfig(world=small_world_config, initial_inventory=10_000))  # never sells out
    list_info, list_arrivals, _ = run_episode(env, ListPricePolicy(), 21)
    random_info, random_arrivals, _ = run_episode(env, RandomPolicy(seed=1), 21)
    assert list_info["customers_hash"] == random_info["customers_hash"]
    assert list_arrivals == random_arrivals
    assert list_info["products"].tolist() == random_info["products"].tolist()


def test_a_lower_price_never_sells_less_to_the_same_customers(small_world_config):
    env = MarkdownEnv(MarkdownConfig(world=small_world_config, initial_inventory=10_000))
    sales = []
    for action in (-1.0, 0.0, 1.0):
        env.reset(seed=4)
        sales.append(sum(env.step(np.array([action], dtype=np.float32))[4]["units_sold"][0] for _ in range(20)))
    assert sales[0] >= sales[1] >= sales[2] and sales[0] > sales[2]


@pytest.mark.parametrize("action, message", [
    (np.array([np.nan], dtype=np.float32), "finite"),
    (np.array([1.5]), r"\[-1, 1\]"),
    (np.array([0.1, 0.2]), "shape"),
])
def test_bad_box_actions_raise(env, action, message):
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(action)


def test_box_actions_accept_float32_and_float64_alike(env):
    env.reset(seed=0)
    single = env.step(np.array([0.25], dtype=np.float32))[4]["prices"]
    env.reset(seed=0)
    double = env.step(np.array([0.25], dtype=np.float64))[4]["prices"]
    assert single == pytest.approx(double)


@pytest.mark.parametrize("action", [21, -1, 2.5])
def test_bad_ladder_rungs_raise(small_world_config, action):
    env = MarkdownEnv(MarkdownConfig(world=small_world_config, action_space="ladder"))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="rung"):
        env.step(action)


def test_ladder_ends_are_the_price_range_and_reported_at_bound(small_world_config):
    env = MarkdownEnv(MarkdownConfig(world=small_world_config, action_space="ladder", ladder_size=5))
    env.reset(seed=0)
    info = env.step(0)[4]
    assert info["prices"][0] == pytest.approx(env.price_actions.low[0]) and info["price_at_bound"] == [True]
    assert env.step(2)[4]["price_at_bound"] == [False]


@pytest.mark.parametrize("options, message", [
    ({"initial_inventory": 0}, "initial_inventory"),
    ({"horizon": -3}, "horizon"),
    ({"price_range": (-0.5, 1.2)}, "price_range"),
    ({"arrival_rate": 0.0}, "arrival_rate"),
    ({"action_space": "knob"}, "'box', 'ladder'"),
    ({"demand_source": "fitted"}, "demand_run"),
    ({"world": "atlantis"}, "world: name must be one of"),
])
def test_inconsistent_configs_are_refused(options, message):
    if options.get("world") == "atlantis":
        with pytest.raises(ConfigError, match=message):
            MarkdownConfig(world=WorldConfig(name="atlantis"))
        return
    with pytest.raises(ConfigError, match=message):
        MarkdownConfig(**options)


def test_make_refuses_unknown_options():
    with pytest.raises(ConfigError, match="unknown option"):
        MarkdownEnv(horizon_length=3)


def test_renders_the_season_as_an_rgb_image(small_world_config, blue_rows):
    """The price curve (product 1's colour, in the top panel left of the legend) sits higher after five
    periods at the highest price than after five at the lowest, and the drawing changes with the state."""
    env = MarkdownEnv(MarkdownConfig(world=small_world_config, initial_inventory=10_000), render_mode="rgb_array")
    images = {}
    for action in (-1.0, 1.0):
        env.reset(seed=0)
        for _ in range(5):
            env.step(np.array([action], dtype=np.float32))
        images[action] = env.render()
    image = images[1.0]
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    low_curve, high_curve = (blue_rows(images[action], 0.05, 0.34, 0.6) for action in (-1.0, 1.0))
    assert low_curve.size and high_curve.size  # the price curve is drawn in the price panel
    assert high_curve.mean() < low_curve.mean()  # and a higher price is drawn higher
    env.reset(seed=0)
    assert np.any(env.render() != image)  # an empty season is drawn otherwise


def test_fitted_tables_drive_the_environment_inside_their_price_ranges(small_world_config, tables_run):
    env = MarkdownEnv(MarkdownConfig(world=small_world_config, demand_source="fitted", demand_run=tables_run,
                                     price_range=(0.1, 5.0)))
    observation, _ = env.reset(seed=0)
    observed_low, observed_high = env.market.price_ranges[env.products].T
    assert np.all(env.price_actions.low >= observed_low) and np.all(env.price_actions.high <= observed_high)
    assert observation[env.slices["product_embeddings"]].std() > 0  # the run's embeddings are observed
    _, reward, _, _, _ = env.step(np.array([1.0], dtype=np.float32))
    assert np.isfinite(reward)


def test_a_run_fitted_on_another_world_is_refused(tables_run):
    other_world = WorldConfig()  # the default synthetic world: other products and customers
    with pytest.raises(DataError, match="another world"):
        MarkdownEnv(MarkdownConfig(world=other_world, demand_source="fitted", demand_run=tables_run))


def test_a_run_fitted_on_another_world_is_refused_with_both_sizes(tables_run):
    with pytest.raises(DataError, match=r"fitted on another world: its tables hold 30 products .* this synthetic "
                                        r"world 160 and 800.*config\.world"):
        gym.make("pricegym/Markdown-v0", demand_source="fitted", demand_run=tables_run)
