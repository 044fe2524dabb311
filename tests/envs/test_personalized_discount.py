"""PersonalizedDiscount-v0: checkers, reference prices, budgets, common random numbers, bounds, errors."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from scipy.special import expit
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from pricegym.agents.baselines import RandomPolicy
from pricegym.agents.discount_baselines import (
    DISCOUNT_BASELINES,
    BestFixedDiscountPolicy,
    MyopicDiscountPolicy,
    NoDiscountPolicy,
)
from pricegym.agents.rollout import episode_return
from pricegym.envs import PERSONALIZED_DISCOUNT_ID, PersonalizedDiscountConfig, PersonalizedDiscountEnv
from pricegym.envs.discount_bounds import expected_bound, hindsight_bound, reservation_shares
from pricegym.errors import ConfigError

FULL_DISCOUNT = np.array([1.0], dtype=np.float32)
NO_DISCOUNT = np.array([-1.0], dtype=np.float32)


@pytest.fixture()
def env(small_world_config) -> PersonalizedDiscountEnv:
    return PersonalizedDiscountEnv(PersonalizedDiscountConfig(world=small_world_config))


@pytest.mark.parametrize("options", [{}, {"action_space": "ladder"}, {"n_customers": 3, "n_products": 1}])
def test_passes_both_checkers_with_warnings_as_errors(small_world_config, options):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gymnasium_check_env(gym.make(PERSONALIZED_DISCOUNT_ID, world=small_world_config, **options).unwrapped)
        sb3_check_env(PersonalizedDiscountEnv(PersonalizedDiscountConfig(world=small_world_config, **options)),
                      warn=True)


def test_passes_the_checkers_with_fitted_tables_and_observes_both_embeddings(small_world_config, tables_run):
    config = PersonalizedDiscountConfig(world=small_world_config, demand_source="fitted", demand_run=tables_run)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_check_env(PersonalizedDiscountEnv(config), warn=True)
    env = PersonalizedDiscountEnv(config)
    observation, _ = env.reset(seed=0)
    customer = env.observation_layout["customer_embedding"]
    assert customer.size == min(config.embedding_dim, 12)  # the run's embeddings have 12 dimensions
    customer_part = [env.reset(seed=seed)[0][env.slices["customer_embedding"]] for seed in range(3)]
    assert not np.allclose(customer_part[0], customer_part[1])  # different visitors, different embeddings


def test_reference_prices_start_at_list_and_move_toward_the_price_seen(env):
    env.reset(seed=3)
    theta = env.market.reference_effect.theta
    assert all(reference == pytest.approx(list(env.list_prices)) for reference in env.reference_prices)
    for _ in range(60):
        visit = env.current_visit()
        before = [list(row) for row in env.reference_prices]
        _, _, _, _, info = env.step(FULL_DISCOUNT if env.visit % 2 else NO_DISCOUNT)
        customer, slot = visit["customer"], visit["slot"]
        expected = theta * before[customer][slot] + (1 - theta) * info["price"]
        assert info["reference_price"] == pytest.approx(expected)
        assert env.reference_prices[customer][slot] == pytest.approx(expected)
        before[customer][slot] = expected
        np.testing.assert_allclose(env.reference_prices, before)  # nobody else's memory moved


def test_observed_reference_gap_is_the_next_visitors_memory(env):
    observation, _ = env.reset(seed=2)
    for _ in range(30):
        visit = env.current_visit()
        gap = observation[env.slices["reference_gap"]][0]
        assert gap == pytest.approx(visit["reference_price"] / visit["list_price"] - 1.0, abs=1e-6)
        observation, *_ = env.step(FULL_DISCOUNT)


def test_discounts_today_lower_what_the_same_customer_pays_tomorrow(small_world_config):
    """Same customers and draws: after a run of deep discounts, fewer buy at the list price."""
    config = PersonalizedDiscountConfig(world=small_world_config, n_customers=3, n_products=1, horizon=400,
                                        discount_budget=100.0)
    env = PersonalizedDiscountEnv(config)
    buyers_at_list = []
    for warm_up in (NO_DISCOUNT, FULL_DISCOUNT):
        env.reset(seed=5)
        for _ in range(200):
            env.step(warm_up)
        buyers_at_list.append(sum(env.step(NO_DISCOUNT)[4]["bought"] for _ in range(200)))
    assert buyers_at_list[1] < buyers_at_list[0]


def test_budget_binds_caps_discounts_and_refills_every_window(small_world_config):
    config = PersonalizedDiscountConfig(world=small_world_config, budget_window=25, discount_budget=0.02)
    env = PersonalizedDiscountEnv(config)
    env.reset(seed=1)
    spent, capped = 0.0, 0
    for visit in range(config.horizon):
        list_price = env.current_visit()["list_price"]
        observed_budget = env._observe()[env.slices["budget_left"]][0]
        assert observed_budget == pytest.approx(env.budget_left / env.budget, abs=1e-6)
        _, _, _, _, info = env.step(FULL_DISCOUNT)
        capped += info["discount_capped"]
        assert info["discount"] <= config.max_discount + 1e-12
        if info["bought"]:
            spent += info["discount"] * list_price
        assert spent <= env.budget + 1e-9  # never beyond the window's budget
        if (visit + 1) % config.budget_window == 0:
            assert env.budget_left == env.budget  # refilled
            spent = 0.0
    assert capped > 0  # the budget did bind


def test_an_uncapped_discount_is_given_in_full(env):
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.array([0.0], dtype=np.float32))  # a quarter off, well within the budget
    assert not info["discount_capped"] and info["discount"] == pytest.approx(env.config.max_discount / 2)
    assert info["price"] == pytest.approx(env.list_prices[env.viewed[0]] * (1 - env.config.max_discount / 2))


def test_purchases_follow_the_demand_sources_probability(small_world_config):
    """At the list price, memory stays at the list price; purchases match sigmoid(utility)."""
    env = PersonalizedDiscountEnv(PersonalizedDiscountConfig(world=small_world_config))
    bought, probability = 0, 0.0
    for seed in range(8):
        env.reset(seed=seed)
        rows, products = env.customer_rows[env.visitors], env.products[env.viewed]
        days = env._days(np.arange(env.config.horizon))
        probability += env.market.demand.demand(rows, products, env.market.list_prices[products],
                                                env.market.context(days, products),
                                                env.market.list_prices[products]).sum()
        assert expit(env.intercept).sum() == pytest.approx(
            env.market.demand.demand(rows, products, env.market.list_prices[products],
                                     env.market.context(days, products)).sum())
        bought += sum(env.step(NO_DISCOUNT)[4]["bought"] for _ in range(env.config.horizon))
    visits = 8 * env.config.horizon
    standard_error = np.sqrt(probability * (1 - probability / visits))
    assert abs(bought - probability) < 4 * standard_error


def test_two_policies_with_one_seed_meet_identical_customers(env):
    seen = []
    for policy in (NoDiscountPolicy(), RandomPolicy(seed=4)):
        _, info = env.reset(seed=9)
        policy.begin_episode(env)
        visitors = [env.current_visit()["customer"]]
        for _ in range(50):
            env.step(policy.predict(None)[0])
            visitors.append(env.current_visit()["customer"])
        seen.append((info["customers_hash"], visitors, env.threshold.copy()))
    assert seen[0][0] == seen[1][0] and seen[0][1] == seen[1][1]
    np.testing.assert_array_equal(seen[0][2], seen[1][2])
    assert env.reset(seed=10)[1]["customers_hash"] != seen[0][0]


@pytest.mark.parametrize("action_space", ["box", "ladder"])
def test_the_hindsight_bound_holds_against_every_baseline_on_every_episode(small_world_config, action_space):
    env = PersonalizedDiscountEnv(PersonalizedDiscountConfig(world=small_world_config, action_space=action_space))
    policies = [policy() for policy in DISCOUNT_BASELINES]
    for seed in range(6):
        returns = [episode_return(env, policy, seed) for policy in policies]
        bound = hindsight_bound(env)
        assert bound.kind == "upper_bound" and max(returns) <= bound.value + 1e-9


def _exact_expected_margin_at_fixed_discount(env, discount: float) -> float:
    """A fixed discount, with every memory at the list price (each customer's first visit), in expectation."""
    list_price = env.list_prices[env.viewed]
    price = (1.0 - discount) * list_price
    index = env.intercept - env.slope * (price / list_price - 1.0) + env.market.reference_effect.gain * discount
    return float(np.sum((price - env.unit_costs[env.viewed]) * expit(index)))


def test_the_expected_bound_is_at_least_the_exact_expected_margin_of_the_list_price(env):
    """At the list price memories never move, so its expected margin is exact: the bound must cover it."""
    for seed in range(5):
        env.reset(seed=seed)
        assert expected_bound(env).value >= _exact_expected_margin_at_fixed_discount(env, 0.0) - 1e-9


@pytest.mark.parametrize("source", ["ground_truth", "fitted"])
def test_without_a_binding_budget_the_expected_bound_is_the_best_price_per_visit(small_world_config,
                                                                                 narrow_tables_run, source):
    """With budget to spare the multiplier is 0: the bound is each visit's best expected margin under a
    list-price memory between its lowest price (the data's floor, with fitted demand) and its list price,
    which a grid search finds too and which bounds every fixed discount."""
    env = PersonalizedDiscountEnv(PersonalizedDiscountConfig(
        world=small_world_config, discount_budget=100.0, max_discount=0.9, demand_source=source,
        demand_run=narrow_tables_run if source == "fitted" else None))
    env.reset(seed=0)
    bound = expected_bound(env).value
    list_price, unit_cost = env.list_prices[env.viewed][:, None], env.unit_costs[env.viewed][:, None]
    lowest = env.lowest_prices[env.viewed][:, None]
    price = lowest + np.linspace(0.0, 1.0, 4001)[None, :] * (list_price - lowest)
    index = (env.intercept[:, None] - env.slope[:, None] * (price / list_price - 1.0)
             + env.market.reference_effect.gain * (1.0 - price / list_price))
    per_visit_best = ((price - unit_cost) * expit(index)).max(axis=1).clip(min=0.0).sum()
    assert bound == pytest.approx(per_visit_best, rel=1e-5)
    assert bound >= _exact_expected_margin_at_fixed_discount(env, 0.0)


@pytest.mark.parametrize("source", ["ground_truth", "fitted"])
def test_the_hindsight_bound_is_reached_by_a_clairvoyant_seller_without_a_budget(small_world_config,
                                                                                  narrow_tables_run, source):
    """With budget to spare the knapsack takes every item: selling to each visitor just below their
    reservation price (when it is above both the unit cost and the lowest price allowed) meets the bound
    when nobody returns (memories stay at the list price)."""
    config = PersonalizedDiscountConfig(world=small_world_config, n_customers=200, horizon=10, n_products=1,
                                        discount_budget=100.0, max_discount=0.9, demand_source=source,
                                        demand_run=narrow_tables_run if source == "fitted" else None)
    env = PersonalizedDiscountEnv(config)
    seed = next(seed for seed in range(100) if len(set(env.reset(seed=seed) and env.visitors.tolist())) == 10)
    env.reset(seed=seed)
    bound = hindsight_bound(env).value
    lowest_share = env.lowest_prices[0] / env.list_prices[0]
    total = 0.0
    for share in reservation_shares(env):
        worth_it = share * env.list_prices[0] > env.unit_costs[0] and share > lowest_share
        discount = np.clip(1.0 - share + 1e-7, 0.0, config.max_discount) if worth_it else 0.0
        total += env.step(np.array([2 * discount / config.max_discount - 1], dtype=np.float64))[1]
    assert total <= bound + 1e-6 and total == pytest.approx(bound, rel=1e-4)


def test_headroom_on_defaults_the_bound_beats_best_fixed_and_myopic_by_five_percent():
    env = PersonalizedDiscountEnv()  # the default configuration on the default synthetic world, ground-truth demand
    totals = {"bound": 0.0, "fixed": 0.0, "myopic": 0.0}
    fixed, myopic = BestFixedDiscountPolicy(), MyopicDiscountPolicy()
    for seed in range(6):
        totals["fixed"] += episode_return(env, fixed, seed)
        totals["myopic"] += episode_return(env, myopic, seed)
        totals["bound"] += hindsight_bound(env).value
    assert totals["bound"] >= 1.05 * totals["fixed"] and totals["bound"] >= 1.05 * totals["myopic"]


def test_myopic_offers_deeper_discounts_to_customers_whose_memory_sank(env):
    env.reset(seed=0)
    policy = MyopicDiscountPolicy()
    policy.begin_episode(env)
    visit = env.current_visit()
    discount_fresh = env.discount_actions.to_price_list(policy.predict(None)[0])[0]
    env.reference_prices[visit["customer"]][visit["slot"]] = 0.6 * visit["list_price"]
    discount_after_sales = env.discount_actions.to_price_list(policy.predict(None)[0])[0]
    assert discount_after_sales > discount_fresh


@pytest.mark.parametrize("options, message", [
    ({"n_customers": 0}, "n_customers must be an integer in \\[1, "),
    ({"budget_window": -5}, "budget_window must be an integer in \\[1, "),
    ({"discount_budget": -0.1}, "discount_budget must be None or a finite number in \\[0, "),
    ({"max_discount": 1.2}, "max_discount"),
    ({"action_space": "dial"}, "one of 'box', 'ladder'"),
    ({"demand_source": "oracle"}, "one of 'ground_truth', 'fitted'"),
])
def test_inconsistent_configs_are_refused_with_one_clear_error(options, message):
    with pytest.raises(ConfigError, match=message):
        PersonalizedDiscountConfig(**options)


def test_more_customers_than_the_world_holds_is_refused(small_world_config):
    with pytest.raises(ConfigError, match="n_customers=5000"):
        PersonalizedDiscountEnv(PersonalizedDiscountConfig(world=small_world_config, n_customers=5000))


def test_make_refuses_unknown_options():
    with pytest.raises(ConfigError, match="unknown option"):
        PersonalizedDiscountEnv(budget=3)


def test_renders_discounts_budget_and_memory(small_world_config, blue_rows):
    """Purchases (their colour, in the top panel left of the legend) are drawn in the upper half of the
    discount panel after full discounts, and nowhere there after none; the drawing changes with the state."""
    config = PersonalizedDiscountConfig(world=small_world_config, discount_budget=10.0)  # no cap: discounts given
    env = PersonalizedDiscountEnv(config, render_mode="rgb_array")
    images = {}
    for action in (NO_DISCOUNT, FULL_DISCOUNT):
        env.reset(seed=0)
        for _ in range(30):
            env.step(action)
        images[float(action[0])] = env.render()
    image = images[1.0]
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    upper_half_of_discount_panel = (0.1, 0.2, 0.6)
    assert blue_rows(images[1.0], *upper_half_of_discount_panel).size > 0
    assert blue_rows(images[-1.0], *upper_half_of_discount_panel).size == 0
    env.reset(seed=0)
    assert np.any(env.render() != image)


def _rng_state_after(env, policy, seed: int) -> tuple[object, str]:
    episode_return(env, policy, seed)
    return env.np_random.bit_generator.state, env.reset()[1]["customers_hash"]


def test_actions_never_touch_the_random_stream(env):
    """Common random numbers hold beyond the first episode: whatever the policy, the stream and the
    next (unseeded) episode's customers are the same."""
    after_list = _rng_state_after(env, NoDiscountPolicy(), 4)
    after_random = _rng_state_after(env, RandomPolicy(seed=9), 4)
    after_myopic = _rng_state_after(env, MyopicDiscountPolicy(), 4)
    assert after_list == after_random == after_myopic


@pytest.mark.parametrize("options", [
    {"n_customers": 1, "n_products": 1, "horizon": 6, "budget_window": 3, "discount_budget": 0.1},
    {"n_customers": 2, "n_products": 2, "horizon": 6, "budget_window": 2, "discount_budget": 0.0},
    {"n_customers": 1, "n_products": 1, "horizon": 7, "budget_window": 10, "discount_budget": 0.05,
     "max_discount": 0.9},
])
def test_no_sequence_of_ladder_actions_beats_the_hindsight_bound(small_world_config, options):
    """Brute force on tiny episodes: every action sequence, including the clairvoyant best one."""
    from itertools import product

    env = PersonalizedDiscountEnv(PersonalizedDiscountConfig(world=small_world_config, action_space="ladder",
                                                             ladder_size=3, **options))
    for seed in range(4):
        env.reset(seed=seed)
        bound = hindsight_bound(env).value
        best = -np.inf
        for actions in product(range(3), repeat=options["horizon"]):
            env.reset(seed=seed)
            best = max(best, sum(env.step(action)[1] for action in actions))
        assert best <= bound + 1e-9


@pytest.mark.parametrize("options", [
    {"discount_budget": 0.0}, {"horizon": 1}, {"budget_window": 1_000}, {"n_customers": 1},
    {"horizon": 7, "budget_window": 3, "action_space": "ladder"},
])
def test_edge_configs_keep_observations_in_space_and_under_the_bound(small_world_config, options):
    env = PersonalizedDiscountEnv(PersonalizedDiscountConfig(world=small_world_config, **options))
    policy = RandomPolicy(seed=1)
    for seed in range(3):
        observation, _ = env.reset(seed=seed)
        policy.begin_episode(env)
        total, done = 0.0, False
        while not done:
            assert env.observation_space.contains(observation)
            budget_before, list_price = env.budget_left, env.current_visit()["list_price"]
            observation, reward, done, _, info = env.step(policy.predict(observation)[0])
            total += reward
            assert info["discount"] * list_price <= budget_before + 1e-9  # capped to the budget left
        assert env.observation_space.contains(observation) and total <= hindsight_bound(env).value + 1e-9


@pytest.mark.parametrize("options, message", [
    ({"discount_budget": float("inf")}, "discount_budget must be None or a finite number"),
    ({"discount_budget": float("nan")}, "discount_budget must be None or a finite number"),
    ({"season_start_day": 1.5}, "season_start_day must be an integer"),
    ({"embedding_dim": 2.5}, "embedding_dim must be None \\(the full vector\\) or an integer"),
    ({"max_discount": float("nan")}, "max_discount"),
])
def test_non_finite_or_fractional_numbers_are_refused(options, message):
    with pytest.raises(ConfigError, match=message):
        PersonalizedDiscountConfig(**options)


def test_fitted_demand_never_prices_below_what_the_data_showed(small_world_config, tables_run):
    """The tables' observed ranges are narrower than max_discount allows: the price floor binds and is reported."""
    config = PersonalizedDiscountConfig(world=small_world_config, demand_source="fitted", demand_run=tables_run,
                                        max_discount=0.9, discount_budget=100.0)
    env = PersonalizedDiscountEnv(config)
    policies = [policy() for policy in DISCOUNT_BASELINES]
    at_floor = 0
    for seed in range(3):
        env.reset(seed=seed)
        observed_low = env.market.price_ranges[env.products, 0]
        for _ in range(100):
            slot = env.current_visit()["slot"]
            _, _, _, _, info = env.step(FULL_DISCOUNT)
            assert info["price"] >= min(observed_low[slot], env.list_prices[slot]) - 1e-9
            at_floor += info["price_at_floor"]
        returns = [episode_return(env, policy, seed) for policy in policies]
        assert max(returns) <= hindsight_bound(env).value + 1e-9
    assert at_floor > 0
