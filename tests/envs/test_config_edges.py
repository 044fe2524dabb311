"""At the edge of every documented numeric range, 10,000 random steps stay finite.

The cases are generated from the configs' own ranges (:func:`pricegym.config_checks.numeric_ranges`),
so a field added later is covered without editing this file. Several edges at once (long seasons of
many products, the strongest reference-price memory, fitted demand with narrow price ranges, the
largest ladders and embeddings) stay finite too, and the oracles, bounds and baselines at the edges
give a finite value or refuse with a ConfigError instead of running for hours or exhausting memory.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import tracemalloc

import gymnasium as gym
import numpy as np
import pytest

import pricegym.envs  # noqa: F401  (registers the environments)
from pricegym.agents.baselines import BestFixedPricePolicy
from pricegym.agents.competition_baselines import CompetitionMyopicPolicy
from pricegym.agents.discount_baselines import BestFixedDiscountPolicy
from pricegym.config_checks import NumericRange, numeric_ranges
from pricegym.envs import CompetitionConfig, MarkdownConfig, PersonalizedDiscountConfig, oracle
from pricegym.envs.competition_oracle import competition_values
from pricegym.envs.discount_bounds import expected_bound, hindsight_bound
from pricegym.envs.oracle import baseline_values, markdown_oracle, season_problems
from pricegym.envs.render import render_season
from pricegym.errors import ConfigError
from pricegym.worlds.demand import ReferencePriceEffect
from pricegym.worlds.registry import WorldConfig

STEPS = 10_000
ENV_CONFIGS = {"pricegym/Markdown-v0": MarkdownConfig, "pricegym/PersonalizedDiscount-v0": PersonalizedDiscountConfig,
               "pricegym/Competition-v0": CompetitionConfig}
SHORT = {"pricegym/Markdown-v0": {"horizon": 20}, "pricegym/PersonalizedDiscount-v0": {"horizon": 100},
         "pricegym/Competition-v0": {"horizon": 20}}
"""Every case but the horizon's own keeps episodes short, so that the steps cross many resets."""

WORLD_TOO_SMALL = {
    ("pricegym/Markdown-v0", "n_products", "high"),
    ("pricegym/PersonalizedDiscount-v0", "n_products", "high"),
    ("pricegym/PersonalizedDiscount-v0", "n_customers", "high"),
}
"""Edges the small test world cannot serve (more products or customers than it has): these must be
refused at construction with a ConfigError, the others must run."""


def edge_value(valid: NumericRange, side: str) -> float:
    """The bound itself, or the nearest representable value inside an open bound."""
    if side == "low":
        return math.nextafter(valid.low, math.inf) if valid.low_open else valid.low
    return math.nextafter(valid.high, -math.inf) if valid.high_open else valid.high


def edge_cases() -> list:
    cases = []
    for env_id, config_class in ENV_CONFIGS.items():
        for name, valid in numeric_ranges(config_class).items():
            for side in ("low", "high"):
                cases.append(pytest.param(env_id, name, side, edge_value(valid, side),
                                          id=f"{env_id.split('/')[1]}-{name}-{side}"))
    return cases


def _finite_numbers(info: dict) -> bool:
    for value in info.values():
        if isinstance(value, int | float | np.ndarray | list) and not isinstance(value, bool):
            array = np.asarray(value)
            if array.dtype.kind in "fi" and not np.isfinite(array).all():
                return False
    return True


@pytest.mark.parametrize("env_id, name, side, value", edge_cases())
def test_random_steps_at_the_edge_of_every_range_stay_finite(env_id, name, side, value, small_world_config):
    config_type = int if isinstance(getattr(ENV_CONFIGS[env_id](), name), int) or name == "initial_inventory" else float
    options = {**SHORT[env_id], name: config_type(value)}
    if name == "horizon":
        options[name] = config_type(value)
    try:
        env = gym.make(env_id, world=small_world_config, **options)
    except ConfigError:
        assert (env_id, name, side) in WORLD_TOO_SMALL, f"{name}={value} refused although documented as valid"
        return
    assert (env_id, name, side) not in WORLD_TOO_SMALL
    env.action_space.seed(0)
    observation, info = env.reset(seed=0)
    assert np.isfinite(observation).all()
    for _ in range(STEPS):
        observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert np.isfinite(observation).all() and math.isfinite(reward) and _finite_numbers(info), (name, value, info)
        assert env.observation_space.contains(observation), (name, value)
        if terminated or truncated:
            observation, info = env.reset()


# -- combinations of edges -----------------------------------------------------------------------

COMBINED_STEPS = 2_000
EXTREME_MEMORY = ReferencePriceEffect(theta=math.nextafter(1.0, 0.0), gain=20.0, loss=20.0)
"""The longest reference-price memory with the strongest gain and loss effects."""


def _combined_edges(world, extreme_world, tables_run, narrow_tables_run) -> list[tuple[str, dict]]:
    """(env id, options of gym.make) at several edges at once; every one must run and stay finite."""
    fitted, narrow = {"demand_run": tables_run}, {"demand_source": "fitted", "demand_run": narrow_tables_run}
    return [
        ("pricegym/Markdown-v0", {"world": world, "horizon": 10_000, "n_products": 24, "arrival_rate": 0.01}),
        ("pricegym/Markdown-v0", {"world": extreme_world, "reference_dynamics": True, "price_range": (0.01, 100.0),
                                  "shopper_mix_shift": 20.0, "appeal_decay": 50.0, "reward": "margin",
                                  "holding_cost": 1e6, "salvage_share": 1.0}),
        ("pricegym/Markdown-v0", {"world": world, **narrow, "price_range": (0.01, 100.0)}),
        ("pricegym/Markdown-v0", {"world": world, **narrow, "price_range": (1.0999, 100.0),
                                  "reference_dynamics": True}),
        ("pricegym/Markdown-v0", {"world": world, "horizon": 1, "n_products": 24, "arrival_rate": 100.0,
                                  "action_space": "ladder", "ladder_size": 1_001}),
        ("pricegym/Markdown-v0", {"world": world, **fitted, "embedding_dim": 4_096, "n_products": 3}),
        ("pricegym/Markdown-v0", {"world": world, **fitted, "observe_embeddings": False, "stock_cover": 100.0}),
        ("pricegym/PersonalizedDiscount-v0", {"world": world, "horizon": 1_000_000, "budget_window": 1,
                                              "visits_per_day": 1, "season_start_day": 100_000}),
        ("pricegym/PersonalizedDiscount-v0", {"world": extreme_world, **fitted, "embedding_dim": 4_096,
                                              "discount_budget": 1_000.0, "max_discount": 0.99}),
        ("pricegym/PersonalizedDiscount-v0", {"world": world, **narrow, "max_discount": 0.99, "n_products": 24,
                                              "action_space": "ladder", "ladder_size": 1_001}),
        ("pricegym/Competition-v0", {"world": world, "rivals": ("random",) * 8, "random_levels": 1_001,
                                     "horizon": 10_000, "arrival_rate": 2.7}),
        ("pricegym/Competition-v0", {"world": extreme_world, "rivals": ("undercut", "match", "fixed"),
                                     "undercut_share": 0.99, "rival_fixed_price": 100.0, "rival_appeal": -20.0,
                                     "price_range": (0.01, 100.0), "shopper_mix_shift": -20.0}),
        ("pricegym/Competition-v0", {"world": world, **narrow, "rivals": ("fixed",) * 8, "rival_fixed_price": 0.01,
                                     "rival_appeal": 20.0, "embedding_dim": 4_096}),
    ]


def _combined_ids() -> list[str]:
    return [f"{env_id.split('/')[1]}-{'-'.join(sorted(set(options) - {'world'}))}"
            for env_id, options in _combined_edges(None, None, None, None)]


@pytest.mark.parametrize("index", range(len(_combined_ids())), ids=_combined_ids())
def test_random_steps_at_several_edges_at_once_stay_finite(small_world_config, tables_run, narrow_tables_run, index):
    extreme = WorldConfig(synthetic=dataclasses.replace(small_world_config.synthetic, reference_effect=EXTREME_MEMORY))
    env_id, options = _combined_edges(small_world_config, extreme, tables_run, narrow_tables_run)[index]
    env = gym.make(env_id, **options)
    env.action_space.seed(0)
    observation, _ = env.reset(seed=0)
    for _ in range(COMBINED_STEPS):
        assert np.isfinite(observation).all() and env.observation_space.contains(observation)
        observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert math.isfinite(reward) and _finite_numbers(info), info
        if terminated or truncated:
            observation, _ = env.reset()


def test_embeddings_near_the_float_maximum_give_finite_observations(small_world_config, tables_run, tmp_path):
    """Embeddings are projected and standardised, so their scale is free and must not overflow into NaN."""
    run = shutil.copytree(tables_run, tmp_path / "run")
    with np.load(run / "embeddings.npz") as stored:
        products, customers = stored["product_vectors"].shape, stored["customer_vectors"].shape
    np.savez(run / "embeddings.npz", product_vectors=np.where(np.arange(math.prod(products)).reshape(products) % 2,
                                                               1e308, -1e308),
             customer_vectors=np.full(customers, 1e308))
    for env_id in ENV_CONFIGS:
        observation, _ = gym.make(env_id, world=small_world_config, demand_run=run).reset(seed=0)
        assert np.isfinite(observation).all(), env_id


# -- oracles, bounds and baselines at the edges ---------------------------------------------------

def _play_baseline(policy_class):
    def play(env):
        policy = policy_class()
        env.reset(seed=0)
        policy.begin_episode(env)
        return policy.predict(env._observe() if hasattr(env, "_observe") else None)[0]
    return play


ORACLE_EDGES = [  # (case, env id, options, what is computed, None for a finite result or the error's key words)
    ("exact oracle, largest ladder and stock", "pricegym/Markdown-v0",
     {"action_space": "ladder", "ladder_size": 1_001, "initial_inventory": 2_000}, markdown_oracle,
     ["exact oracle would take", "operations", "lower horizon"]),
    ("exact oracle, longest season of the most products", "pricegym/Markdown-v0",
     {"horizon": 10_000, "n_products": 24, "arrival_rate": 1.0}, markdown_oracle,
     ["purchase probabilities", "lower horizon, n_products"]),
    ("every baseline, largest stock", "pricegym/Markdown-v0", {"initial_inventory": 2_000}, baseline_values,
     ["exact oracle would take", "106 policies"]),
    ("best fixed price, many products with large stock", "pricegym/Markdown-v0",
     {"n_products": 24, "initial_inventory": 1_000}, _play_baseline(BestFixedPricePolicy), ["exact oracle would take"]),
    ("fluid bound, longest season", "pricegym/Markdown-v0",
     {"horizon": 10_000, "arrival_rate": 1.0, "reference_dynamics": True, "initial_inventory": 10**9},
     markdown_oracle, None),
    ("best response, 1001 ** 8 joint levels", "pricegym/Competition-v0",
     {"rivals": ("random",) * 8, "random_levels": 1_001}, competition_values, ["1001 ** 8", "joint levels"]),
    ("best response, largest ladder", "pricegym/Competition-v0", {"action_space": "ladder", "ladder_size": 1_001},
     competition_values, ["best response would need", "lower horizon, ladder_size"]),
    ("myopic rule, longest season on the largest ladder", "pricegym/Competition-v0",
     {"action_space": "ladder", "ladder_size": 1_001, "horizon": 10_000}, _play_baseline(CompetitionMyopicPolicy),
     ["myopic rule would compute"]),
    ("hindsight bound, a window per visit", "pricegym/PersonalizedDiscount-v0",
     {"horizon": 200_000, "budget_window": 1}, hindsight_bound, None),
    ("expected bound, a window per visit", "pricegym/PersonalizedDiscount-v0",
     {"horizon": 200_000, "budget_window": 1}, expected_bound, None),
    ("best fixed discount, largest ladder on a long horizon", "pricegym/PersonalizedDiscount-v0",
     {"action_space": "ladder", "ladder_size": 1_001, "horizon": 100_000}, _play_baseline(BestFixedDiscountPolicy),
     ["planned over 1001 candidate discounts", "lower ladder_size"]),
]


@pytest.mark.parametrize("case, env_id, options, compute, refusal", ORACLE_EDGES, ids=[c[0] for c in ORACLE_EDGES])
def test_oracles_bounds_and_baselines_at_the_edges_give_a_finite_value_or_refuse(small_world_config, case, env_id,
                                                                                  options, compute, refusal):
    """Documented-valid values that would make them run for hours or exhaust memory are refused up front."""
    env = gym.make(env_id, world=small_world_config, **options).unwrapped
    env.reset(seed=0)
    if refusal is None:
        result = compute(env)
        assert math.isfinite(result.value)
        return
    with pytest.raises(ConfigError) as caught:
        compute(env)
    assert all(word in str(caught.value) for word in refusal), str(caught.value)


def test_a_season_of_the_most_products_and_periods_renders_in_bounded_time():
    """A bar per period and product (a million at the edges) would take minutes and gigabytes to draw."""
    periods, products = 10_000, 20  # 200,000 bars before they became step lines
    rng = np.random.default_rng(0)
    history = [{"prices": rng.uniform(1.0, 2.0, products), "inventory_left": np.full(products, 5),
                "units_sold": rng.integers(0, 3, products)} for _ in range(periods)]
    image = render_season(history, periods, 10, np.ones(products), np.full(products, 2.0))
    assert image.shape == (384, 512, 3) and image.std() > 0


def test_the_mean_buyers_of_a_long_season_on_a_fine_grid_take_bounded_memory(small_world_config, monkeypatch):
    """Periods x customers x grid prices at once took gigabytes at the edges; they are computed a few periods at
    a time, with the same result."""
    env = gym.make("pricegym/Markdown-v0", world=small_world_config, horizon=300, action_space="ladder",
                   ladder_size=1_001).unwrapped
    env.reset(seed=0)
    tracemalloc.start()
    buyers = season_problems(env)[0].buyers
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 300 * 2**20, f"{peak / 2**20:.0f} MiB"
    monkeypatch.setattr(oracle, "_CHUNK_VALUES", 1)  # one period at a time
    np.testing.assert_allclose(season_problems(env)[0].buyers, buyers, rtol=1e-12)
