"""The oracle: the DP's value is what its policy earns, no baseline beats it, and it leaves headroom."""

from __future__ import annotations

import numpy as np
import pytest

from pricegym.agents.baselines import (
    BestFixedPricePolicy,
    DynamicProgramPolicy,
    ListPricePolicy,
    MyopicPolicy,
    RandomPolicy,
)
from pricegym.envs import MarkdownConfig, MarkdownEnv
from pricegym.envs.oracle import baseline_values, fluid_upper_bound, markdown_oracle, season_problems


def simulate(env, policy, episodes: int, products, seed: int = 0) -> np.ndarray:
    """Season returns of ``policy`` on ``products``, one per seed."""
    returns = []
    for episode in range(episodes):
        observation, _ = env.reset(seed=seed + episode, options={"products": products})
        policy.begin_episode(env)
        total, done = 0.0, False
        while not done:
            action, _ = policy.predict(observation)
            observation, reward, terminated, truncated, _ = env.step(action)
            total, done = total + reward, terminated or truncated
        returns.append(total)
    return np.array(returns)


@pytest.fixture(scope="module")
def env(small_world_config) -> MarkdownEnv:
    return MarkdownEnv(MarkdownConfig(world=small_world_config, horizon=12, stock_cover=0.5))


@pytest.mark.parametrize("action_space", ["box", "ladder"])
def test_the_dp_policy_earns_the_dp_value_in_simulation(small_world_config, action_space):
    env = MarkdownEnv(MarkdownConfig(world=small_world_config, horizon=12, stock_cover=0.5,
                                     action_space=action_space))
    env.reset(seed=0)
    products = env.products.tolist()
    oracle = markdown_oracle(env)
    assert oracle.kind == "optimal"
    returns = simulate(env, DynamicProgramPolicy(), 400, products)
    standard_error = returns.std(ddof=1) / np.sqrt(returns.size)
    assert abs(returns.mean() - oracle.value) < 4 * standard_error, (returns.mean(), oracle.value, standard_error)


def test_no_baseline_beats_the_oracle_exactly_or_in_simulation(env):
    env.reset(seed=5)
    products = env.products.tolist()
    values = baseline_values(env)
    assert all(value <= values["oracle"] + 1e-9 for value in values.values())
    oracle_returns = simulate(env, DynamicProgramPolicy(), 200, products)
    for policy in (ListPricePolicy(), BestFixedPricePolicy(), MyopicPolicy(), RandomPolicy(seed=2)):
        difference = simulate(env, policy, 200, products) - oracle_returns  # paired: same customers
        assert difference.mean() < 3 * difference.std(ddof=1) / np.sqrt(difference.size) + 1e-9, policy.name


def test_the_fluid_bound_lies_above_the_dp_value(env):
    for seed in range(4):
        env.reset(seed=seed)
        problems = season_problems(env)
        assert fluid_upper_bound(problems).value >= markdown_oracle(env).value - 1e-6


def test_with_moving_reference_prices_the_oracle_is_a_bound_that_baselines_do_not_beat(small_world_config):
    env = MarkdownEnv(MarkdownConfig(world=small_world_config, horizon=12, stock_cover=0.5,
                                     reference_dynamics=True))
    env.reset(seed=3)
    products = env.products.tolist()
    bound = markdown_oracle(env)
    assert bound.kind == "upper_bound" and "fluid" in bound.method
    for policy in (ListPricePolicy(), RandomPolicy(seed=4)):
        returns = simulate(env, policy, 150, products)
        assert returns.mean() <= bound.value + 3 * returns.std(ddof=1) / np.sqrt(returns.size), policy.name


def test_default_config_leaves_headroom_over_fixed_and_myopic_pricing():
    """With ground-truth demand, the oracle beats the best fixed price and the myopic rule by >= 5%."""
    env = MarkdownEnv()
    totals = {"oracle": 0.0, "best fixed price": 0.0, "myopic": 0.0}
    for seed in range(12):
        env.reset(seed=seed)
        values = baseline_values(env, grid_size=61)
        for name in totals:
            totals[name] += values[name]
    assert totals["best fixed price"] <= 0.95 * totals["oracle"], totals
    assert totals["myopic"] <= 0.95 * totals["oracle"], totals
