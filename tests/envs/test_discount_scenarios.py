"""PersonalizedDiscount-v0's scenarios: each sets unit costs, budget and reward; a value set in the config wins."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from pricegym.envs import PersonalizedDiscountConfig, PersonalizedDiscountEnv
from pricegym.envs.discount_scenarios import DEFAULT_SCENARIO, SCENARIOS
from pricegym.errors import ConfigError

NO_DISCOUNT = np.array([-1.0], dtype=np.float32)


def _env(small_world_config, **options) -> PersonalizedDiscountEnv:
    return PersonalizedDiscountEnv(PersonalizedDiscountConfig(world=small_world_config, horizon=60, **options))


def test_the_default_is_the_high_margin_scenario_with_its_documented_values():
    economics = PersonalizedDiscountConfig().economics
    assert DEFAULT_SCENARIO == "high-margin" and economics == SCENARIOS["high-margin"]
    assert (economics.unit_cost_scale, economics.discount_budget, economics.reward) == (0.5, 0.03, "margin")


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_a_value_set_in_the_config_overrides_only_that_value_of_the_scenario(scenario):
    economics = PersonalizedDiscountConfig(scenario=scenario, discount_budget=0.2).economics
    assert economics.discount_budget == 0.2 and economics.name == scenario
    assert economics.unit_cost_scale == SCENARIOS[scenario].unit_cost_scale
    assert economics.reward == SCENARIOS[scenario].reward


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_each_scenario_scales_unit_costs_sets_the_budget_and_shows_the_counted_cost(small_world_config, scenario):
    env = _env(small_world_config, scenario=scenario)
    observation, _ = env.reset(seed=3)
    economics = SCENARIOS[scenario]
    world_costs = env.market.unit_costs[env.products]
    expected = np.zeros_like(world_costs) if economics.reward == "revenue" else economics.unit_cost_scale * world_costs
    np.testing.assert_allclose(env.unit_costs, expected)
    assert env.budget == pytest.approx(economics.discount_budget * env.config.budget_window * env.list_prices.mean())
    slot = env.current_visit()["slot"]
    assert observation[env.slices["unit_cost_share"]][0] == pytest.approx(
        expected[slot] / env.list_prices[slot], abs=1e-6)


@pytest.mark.parametrize("reward", ["margin", "revenue"])
def test_a_sale_earns_its_price_less_the_counted_unit_cost(small_world_config, reward):
    env = _env(small_world_config, unit_cost_scale=0.4, reward=reward)
    env.reset(seed=0)
    sales = 0
    for _ in range(60):
        slot = env.current_visit()["slot"]
        _, earned, _, _, info = env.step(NO_DISCOUNT)
        cost = 0.4 * env.market.unit_costs[env.products[slot]] if reward == "margin" else 0.0
        assert earned == pytest.approx(info["price"] - cost if info["bought"] else 0.0)
        sales += info["bought"]
    assert sales > 0


def test_the_same_draws_in_every_scenario(small_world_config):
    """Scenarios change the retailer's economics, never the customers: one seed, the same visits and uniforms."""
    draws = []
    for scenario in SCENARIOS:
        env = _env(small_world_config, scenario=scenario)
        env.reset(seed=11)
        draws.append((env.products.tolist(), env.visitors.tolist(), env.threshold.round(12).tolist()))
    assert all(draw == draws[0] for draw in draws)


def test_the_mid_margin_scenario_is_the_first_setting():
    """The environment's first defaults: the world's unit costs, a 5% budget, margin."""
    economics = PersonalizedDiscountConfig(scenario="mid-margin").economics
    assert (economics.unit_cost_scale, economics.discount_budget, economics.reward) == (1.0, 0.05, "margin")


@pytest.mark.parametrize("options, message", [
    ({"scenario": "luxury"}, "scenario must be one of 'high-margin', 'promotion-budget', 'mid-margin'"),
    ({"unit_cost_scale": -0.5}, "unit_cost_scale must be None or a finite number in \\[0, 10\\]"),
    ({"unit_cost_scale": float("nan")}, "unit_cost_scale must be None or a finite number"),
    ({"reward": "profit"}, "reward must be None \\(the scenario's\\) or one of 'revenue', 'margin'"),
])
def test_bad_scenario_values_are_one_config_error(options, message):
    with pytest.raises(ConfigError, match=message):
        PersonalizedDiscountConfig(**options)


def test_gym_make_takes_a_scenario(small_world_config):
    env = gym.make("pricegym/PersonalizedDiscount-v0", world=small_world_config, scenario="promotion-budget",
                   horizon=20)
    env.reset(seed=0)
    assert env.unwrapped.economics.reward == "revenue" and not env.unwrapped.unit_costs.any()


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("action_space", ["box", "ladder"])
def test_both_checkers_pass_with_warnings_as_errors_in_every_scenario(small_world_config, scenario, action_space):
    import warnings

    from gymnasium.utils.env_checker import check_env as gym_check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    options = {"scenario": scenario, "action_space": action_space}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(_env(small_world_config, **options), skip_render_check=True)
        sb3_check_env(_env(small_world_config, **options), warn=True)
