"""Markdown-v0's batched planning rules and oracle earn what their single-episode twins earn, season after season,
plan once per product, and run under SB3's evaluate_policy."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

from pricegym.agents.baselines import BestFixedPricePolicy, DynamicProgramPolicy, ListPricePolicy, MyopicPolicy
from pricegym.agents.batched_markdown_rules import (
    BatchedBestFixedPriceRule,
    BatchedDynamicProgramRule,
    BatchedMyopicRule,
)
from pricegym.agents.batched_rules import BatchedListPriceRule, BatchedRandomRule
from pricegym.agents.rollout import episode_return
from pricegym.envs import MarkdownConfig, MarkdownEnv, make_vec
from pricegym.envs.markdown_batch import MarkdownBatch
from pricegym.errors import ConfigError
from pricegym.worlds.registry import WorldConfig
from pricegym.worlds.synthetic import SyntheticWorldConfig

SMALL = WorldConfig(synthetic=SyntheticWorldConfig(seed=5, n_products=30, n_customers=200, n_exposures=12_000))
MARKDOWN = "pricegym/Markdown-v0"
SEASON = {"world": SMALL, "horizon": 12, "stock_cover": 0.5}
TWINS = [(BatchedBestFixedPriceRule, BestFixedPricePolicy), (BatchedMyopicRule, MyopicPolicy),
         (BatchedDynamicProgramRule, DynamicProgramPolicy), (BatchedListPriceRule, ListPricePolicy)]
SLOTS = 4


def _options(demand: str, action_space: str, n_products: int, tables_run) -> dict:
    fitted = {"demand_source": "fitted", "demand_run": tables_run} if demand == "fitted" else {}
    return {**SEASON, **fitted, "action_space": action_space, "n_products": n_products}


def _play(core, rule, seeds: list[list[int]]) -> np.ndarray:
    """``[episodes, B]`` the returns of ``rule`` on the core, slot i playing seasons seeded ``seeds[e][i]`` in turn
    (a slot is reset with its next seed as soon as its season ends)."""
    batch = core.num_envs
    returns, episode = np.zeros((len(seeds), batch)), np.zeros(batch, dtype=np.int64)
    observations, _ = core.reset(seeds=seeds[0])
    while episode.min() < len(seeds):
        actions, _ = rule.predict(observations)
        observations, rewards, terminated, truncated, _ = core.step(actions)
        live = episode < len(seeds)
        returns[episode[live], np.flatnonzero(live)] += rewards[live]
        ended = terminated | truncated
        episode += ended
        if ended.any():
            next_seeds = [int(seeds[min(e, len(seeds) - 1)][slot]) for slot, e in enumerate(episode)]
            observations, _ = core.reset(seeds=next_seeds, mask=ended)
    return returns


@pytest.mark.parametrize("demand, action_space, n_products", [("ground_truth", "box", 1),
                                                                ("ground_truth", "ladder", 2),
                                                                ("fitted", "box", 2), ("fitted", "ladder", 1)])
@pytest.mark.parametrize("batched, single", TWINS)
def test_a_batched_rule_earns_what_its_single_twin_earns_season_after_season(batched, single, demand, action_space,
                                                                             n_products, tables_run):
    options = _options(demand, action_space, n_products, tables_run)
    core = MarkdownBatch(SLOTS, options)
    seeds = [[10 + slot for slot in range(SLOTS)], [40 + slot for slot in range(SLOTS)]]
    returns = _play(core, batched(core), seeds)
    env, policy = MarkdownEnv(MarkdownConfig(**options)), single()
    expected = [[episode_return(env, policy, seed) for seed in row] for row in seeds]
    np.testing.assert_allclose(returns, expected, rtol=1e-9, atol=1e-9)


def test_rules_say_what_they_know(tables_run):
    truth, fitted = (make_vec(MARKDOWN, 2, **_options(demand, "box", 1, tables_run))
                     for demand in ("ground_truth", "fitted"))
    for rule in (BatchedBestFixedPriceRule, BatchedMyopicRule, BatchedDynamicProgramRule):
        assert rule(truth).knows == "the true demand" and rule(fitted).knows == "the fitted model"
        assert rule(truth).name == next(single.name for batched, single in TWINS if batched is rule)


def test_plans_are_made_once_per_product_and_follow_every_new_season():
    vec_env = VecMonitor(make_vec(MARKDOWN, 64, seed=0, **SEASON))
    rule = BatchedDynamicProgramRule(vec_env)
    pool = rule.market.train_products.size
    observations = vec_env.reset()
    for step in range(3 * SEASON["horizon"]):  # three seasons per slot, the later ones unseeded
        actions, state = rule.predict(observations)
        if step % 7 == 0:  # a rule built now plans every slot's season from scratch: the same actions
            np.testing.assert_array_equal(actions, BatchedDynamicProgramRule(vec_env).predict(observations)[0])
        observations, _, _, _ = vec_env.step(actions)
    assert state is None and 0 < len(rule.problems) <= pool  # one plan per product (its stock is the product's)


def test_rules_run_under_evaluate_policy_and_the_oracle_leads():
    vec_env = VecNormalize(VecMonitor(make_vec(MARKDOWN, 16, seed=1, **SEASON)), norm_reward=False)
    means = {}
    for rule in (BatchedDynamicProgramRule(vec_env), BatchedMyopicRule(vec_env), BatchedBestFixedPriceRule(vec_env),
                 BatchedListPriceRule(vec_env), BatchedRandomRule(vec_env, seed=3)):
        vec_env.seed(100)  # one season per slot, all seeded: the same seasons for every rule
        means[rule.name], _ = evaluate_policy(rule, vec_env, n_eval_episodes=16, warn=False)
    assert all(np.isfinite(mean) for mean in means.values())
    assert means["oracle (dynamic program)"] == max(means.values()), means


def test_seasons_too_large_to_plan_and_other_environments_are_refused():
    vec_env = make_vec(MARKDOWN, 2, **{**SEASON, "initial_inventory": 2_001})
    rule = BatchedDynamicProgramRule(vec_env)
    with pytest.raises(ConfigError, match="at most 2,000 units"):
        rule.predict(vec_env.reset())
    with pytest.raises(ConfigError, match="grid_size"):
        BatchedMyopicRule(vec_env, grid_size=1)
    with pytest.raises(ConfigError, match="make_vec"):
        BatchedBestFixedPriceRule(make_vec("pricegym/Competition-v0", 2, world=SMALL, horizon=8))


def test_the_oracle_acts_alike_on_the_gymnasium_vector_env():
    options = {**SEASON, "action_space": "ladder", "n_products": 2}
    gym_envs = gymnasium.make_vec(MARKDOWN, num_envs=3, vectorization_mode="vector_entry_point", **options)
    observations, _ = gym_envs.reset(seed=10)
    sb3_envs = make_vec(MARKDOWN, 3, **options)
    sb3_envs.seed(10)
    sb3_observations = sb3_envs.reset()
    np.testing.assert_array_equal(BatchedDynamicProgramRule(gym_envs).predict(observations)[0],
                                  BatchedDynamicProgramRule(sb3_envs).predict(sb3_observations)[0])
