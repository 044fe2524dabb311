"""Competition-v0: checkers, rivals' one-period lag, the choice model, the best response, errors."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from scipy.special import expit
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from pricegym.agents.baselines import RandomPolicy
from pricegym.agents.competition_baselines import (
    COMPETITION_BASELINES,
    BestResponsePolicy,
    CompetitionFixedPricePolicy,
    CompetitionListPricePolicy,
    CompetitionMyopicPolicy,
)
from pricegym.agents.rollout import episode_return
from pricegym.envs import COMPETITION_ID, CompetitionConfig, CompetitionEnv
from pricegym.envs.competition_oracle import (
    best_response,
    competition_season,
    competition_values,
    evaluate,
    period_utilities,
    seller_choice_probabilities,
)
from pricegym.envs.rivals import choice_probabilities, price_utility
from pricegym.errors import ConfigError


@pytest.fixture()
def env(small_world_config) -> CompetitionEnv:
    return CompetitionEnv(CompetitionConfig(world=small_world_config))


@pytest.mark.parametrize("options", [{}, {"action_space": "ladder"}, {"rivals": ("fixed", "random", "match")},
                                     {"rivals": ("random", "random"), "reward": "margin"}])
def test_passes_both_checkers_with_warnings_as_errors(small_world_config, options):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gymnasium_check_env(gym.make(COMPETITION_ID, world=small_world_config, **options).unwrapped)
        sb3_check_env(CompetitionEnv(CompetitionConfig(world=small_world_config, **options)), warn=True)


def test_fitted_tables_drive_it_and_their_embeddings_are_observed(small_world_config, tables_run):
    config = CompetitionConfig(world=small_world_config, demand_source="fitted", demand_run=tables_run)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_check_env(CompetitionEnv(config), warn=True)
    env = CompetitionEnv(config)
    observation, _ = env.reset(seed=0)
    assert observation[env.slices["product_embedding"]].std() > 0
    low, high = env.market.price_ranges[env.product]
    assert low <= env.price_actions.low[0] < env.price_actions.high[0] <= high


def test_rivals_react_to_the_agents_previous_price_with_a_one_period_lag(small_world_config):
    config = CompetitionConfig(world=small_world_config, rivals=("undercut", "match", "fixed"), undercut_share=0.2,
                               rival_fixed_price=0.9)
    env = CompetitionEnv(config)
    _, info = env.reset(seed=0)
    low, high = env.price_actions.low[0], env.price_actions.high[0]

    def reaction(previous: float) -> list[float]:
        return [float(np.clip(target, low, high)) for target in (0.8 * previous, previous, 0.9 * env.list_price)]

    assert info["rival_prices"] == pytest.approx(reaction(env.start_price))  # first period: the list price
    previous = env.start_price
    for action in np.linspace(-1, 1, 9):
        _, _, _, _, info = env.step(np.array([action], dtype=np.float32))
        assert info["rival_prices"] == pytest.approx(reaction(previous))
        previous = info["price"]


def test_todays_price_does_not_move_todays_rivals(small_world_config):
    env = CompetitionEnv(CompetitionConfig(world=small_world_config, rivals=("undercut", "match", "random")))
    rival_prices = []
    for today in (-1.0, 1.0):
        env.reset(seed=3)
        env.step(np.array([0.0], dtype=np.float32))
        _, _, _, _, info = env.step(np.array([today], dtype=np.float32))
        rival_prices.append((info["rival_prices"], env.rival_prices))
    assert rival_prices[0][0] == rival_prices[1][0]  # today's rivals: set by yesterday's price
    assert rival_prices[0][1][:2] != rival_prices[1][1][:2]  # tomorrow's reactive rivals: set by today's


def test_choice_probabilities_with_the_outside_option_sum_to_one():
    rng = np.random.default_rng(0)
    utilities = rng.normal(scale=5.0, size=(50, 4))
    probabilities = choice_probabilities(utilities)
    assert probabilities.shape == (50, 5) and np.all(probabilities >= 0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    np.testing.assert_allclose(choice_probabilities(utilities[:, :1])[:, 0], expit(utilities[:, 0]))  # one seller
    np.testing.assert_allclose(choice_probabilities(np.array([[800.0, 0.0]])).sum(), 1.0)  # no overflow


def test_population_choice_probabilities_sum_to_one_and_fall_with_the_agents_price(env):
    env.reset(seed=0)
    grid = np.linspace(env.price_actions.low[0], env.price_actions.high[0], 7)
    shares = seller_choice_probabilities(env, 0, grid, np.asarray(env.rival_prices))
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    assert np.all(np.diff(shares[:, 0]) < 0) and np.all(np.diff(shares[:, 1:], axis=0) >= 0)


def test_without_rivals_appeal_the_one_seller_logit_is_the_demand_sources_probability(env):
    env.reset(seed=0)
    intercept, slope, _ = period_utilities(env)
    price = 0.8 * env.list_price
    utility = price_utility(intercept[0], slope, np.asarray(price), env.list_price, env.market.reference_effect)
    customers = np.arange(slope.size)
    day_zero = env.market.context(np.asarray(env.config.season_start_day), env.product)
    truth = env.market.demand.demand(customers, env.product, price, day_zero, env.list_price)
    np.testing.assert_allclose(expit(utility), truth)


def test_simulated_sales_match_the_choice_model(small_world_config):
    """Gumbel draws at reset reproduce the multinomial logit: units sold per seller match expectations."""
    env = CompetitionEnv(CompetitionConfig(world=small_world_config, rivals=("fixed",), rival_fixed_price=1.0,
                                           arrival_rate=20.0))
    sold, expected = np.zeros(2), np.zeros(2)
    for seed in range(30):
        env.reset(seed=seed)
        utilities = period_utilities(env)
        for period in range(env.config.horizon):
            probabilities = seller_choice_probabilities(env, period, np.array([env.list_price]),
                                                        np.asarray(env.rival_prices), utilities)[0]
            expected += env.config.arrival_rate * probabilities[:2]
            _, _, _, _, info = env.step(env.price_actions.to_action(np.array([env.list_price])))
            sold += [info["units_sold"], info["rival_units_sold"][0]]
    assert np.all(np.abs(sold - expected) < 4 * np.sqrt(expected))


def test_two_policies_with_one_seed_meet_identical_customers(env):
    seen = []
    for policy in (CompetitionListPricePolicy(), RandomPolicy(seed=2)):
        _, info = env.reset(seed=7)
        policy.begin_episode(env)
        arrivals, done = [], False
        while not done:
            _, _, done, _, step_info = env.step(policy.predict(None)[0])
            arrivals.append(step_info["arrivals"])
        seen.append((info["customers_hash"], arrivals))
    assert seen[0] == seen[1]
    assert env.reset(seed=8)[1]["customers_hash"] != seen[0][0]


@pytest.mark.parametrize("options", [{}, {"action_space": "ladder", "rivals": ("match", "random"), "reward": "margin"}])
def test_the_best_response_bounds_every_baseline_exactly(small_world_config, options):
    env = CompetitionEnv(CompetitionConfig(world=small_world_config, **options))
    for seed in range(3):
        env.reset(seed=seed)
        values = competition_values(env, grid_size=21)
        assert all(value <= values["upper_bound"] + 1e-9 for value in values.values())


def test_simulated_returns_match_the_exact_values_and_stay_under_the_bound(small_world_config):
    env = CompetitionEnv(CompetitionConfig(world=small_world_config, action_space="ladder",
                                           rivals=("undercut", "random"), random_levels=3))
    policies = [policy(grid_size=21) for policy in COMPETITION_BASELINES if policy is not CompetitionFixedPricePolicy]
    policies.append(BestResponsePolicy(grid_size=21))  # the best fixed price is bounded exactly above
    gaps = {policy.name: [] for policy in policies}
    for seed in range(40):
        env.reset(seed=seed)
        bound = best_response(competition_season(env, 21)).value
        for policy in policies:
            gaps[policy.name].append(episode_return(env, policy, seed) - bound)
    dp_gap = np.array(gaps[BestResponsePolicy.name])
    assert abs(dp_gap.mean()) < 4 * dp_gap.std() / np.sqrt(dp_gap.size)  # the DP policy earns the DP value
    for name, gap in gaps.items():
        gap = np.array(gap)
        assert gap.mean() < 4 * gap.std() / np.sqrt(gap.size), name  # nobody beats the bound on average


def test_headroom_on_defaults_the_bound_beats_best_fixed_and_myopic_by_five_percent():
    env = CompetitionEnv()  # the default configuration on the default synthetic world, ground-truth demand
    totals = dict.fromkeys(("upper_bound", "best fixed price", "myopic"), 0.0)
    for seed in range(6):
        env.reset(seed=seed)
        values = competition_values(env)
        for name in totals:
            totals[name] += values[name]
    assert totals["upper_bound"] >= 1.05 * totals["best fixed price"]
    assert totals["upper_bound"] >= 1.05 * totals["myopic"]


def test_myopic_and_fixed_prices_are_evaluated_by_the_same_recursion(env):
    env.reset(seed=0)
    season = competition_season(env, 11)
    constant = evaluate(season, lambda _t, q: np.full(q.shape[:2], 5))[0]
    per_period = season.reward[:, :, :, 5].mean(axis=2)  # every period from the state "previous price = rung 5"
    assert constant == pytest.approx(per_period[0, season.start_state] + per_period[1:, 5].sum())


@pytest.mark.parametrize("options, message", [
    ({"rivals": ("undercut", "predatory")}, "one of undercut, match, fixed, random"),
    ({"rivals": ()}, "1 to 8 rival strategies"),
    ({"rivals": "match"}, "rivals must be a tuple"),
    ({"undercut_share": 1.5}, "undercut_share"),
    ({"random_levels": 0}, "random_levels must be an integer in \\[1, "),
    ({"rival_fixed_price": -1.0}, "rival_fixed_price"),
    ({"reward": "profit"}, "one of 'revenue', 'margin'"),
])
def test_inconsistent_configs_are_refused_with_one_clear_error(options, message):
    with pytest.raises(ConfigError, match=message):
        CompetitionConfig(**options)


def test_make_refuses_unknown_options():
    with pytest.raises(ConfigError, match="unknown option"):
        CompetitionEnv(rival="match")


def test_renders_prices_against_rivals(small_world_config, blue_rows):
    """The agent's price curve (its colour, in the top panel left of the legend; a fixed-price rival, so
    that no rival's curve hides it) sits higher at the highest price than at the lowest."""
    env = CompetitionEnv(CompetitionConfig(world=small_world_config, rivals=("fixed",)), render_mode="rgb_array")
    images = {}
    for action in (-1.0, 1.0):
        env.reset(seed=0)
        for _ in range(8):
            env.step(np.array([action], dtype=np.float32))
        images[action] = env.render()
    image = images[1.0]
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    low_curve, high_curve = (blue_rows(images[action], 0.05, 0.5, 0.6) for action in (-1.0, 1.0))
    assert low_curve.size and high_curve.size and high_curve.mean() < low_curve.mean()
    env.reset(seed=0)
    assert np.any(env.render() != image)


@pytest.mark.parametrize("options", [
    {"rivals": ("undercut", "random", "fixed", "match"), "random_levels": 3, "action_space": "ladder",
     "ladder_size": 9, "rival_fixed_price": 0.7, "undercut_share": 0.3},
    {"rivals": ("random", "random"), "random_levels": 4, "action_space": "ladder", "ladder_size": 5},
    {"rivals": ("match", "undercut"), "reward": "margin"},
])
def test_the_dynamic_program_sees_exactly_the_rival_prices_the_environment_posts(small_world_config, options):
    env = CompetitionEnv(CompetitionConfig(world=small_world_config, **options))
    for seed in range(4):
        env.reset(seed=seed)
        season = competition_season(env, 11)
        rng = np.random.default_rng(seed)
        n_random = env.level_draws.shape[1]
        level_weights = env.config.random_levels ** np.arange(n_random - 1, -1, -1)
        state = season.start_state
        for period in range(env.config.horizon):
            level = int(env.level_draws[period] @ level_weights) if n_random else 0
            np.testing.assert_allclose(env.rival_prices, season.rival_prices[state, level])
            rung = int(rng.integers(season.price_grid.size))
            env.step(env.price_actions.to_action(np.array([season.price_grid[rung]])))
            state = rung


def test_actions_never_touch_the_random_stream(env):
    states = []
    for policy in (CompetitionListPricePolicy(), RandomPolicy(seed=3), CompetitionMyopicPolicy()):
        episode_return(env, policy, 5)
        states.append((env.np_random.bit_generator.state, env.reset()[1]["customers_hash"]))
    assert states[0] == states[1] == states[2]


def test_too_many_joint_random_levels_for_the_dynamic_program_is_one_clear_error(small_world_config):
    env = CompetitionEnv(CompetitionConfig(world=small_world_config, rivals=("random",) * 4, random_levels=5,
                                           horizon=2))
    env.reset(seed=0)
    with pytest.raises(ConfigError, match="lower random_levels or the number of random rivals"):
        competition_season(env)


def test_a_price_range_outside_every_fitted_range_is_refused_at_construction(small_world_config, tables_run):
    with pytest.raises(ConfigError, match="widen price_range"):
        CompetitionEnv(CompetitionConfig(world=small_world_config, demand_source="fitted", demand_run=tables_run,
                                         price_range=(0.01, 0.02)))


@pytest.mark.parametrize("options, message", [
    ({"rival_appeal": float("nan")}, "rival_appeal must be a finite number"),
    ({"shopper_mix_shift": float("nan")}, "shopper_mix_shift must be a finite number"),
    ({"season_start_day": 1.5}, "season_start_day must be an integer"),
    ({"arrival_rate": float("inf")}, "arrival_rate must be a finite number"),
])
def test_non_finite_or_fractional_numbers_are_refused(options, message):
    with pytest.raises(ConfigError, match=message):
        CompetitionConfig(**options)
