"""Batched rules act on whole batches through policy_context, match their single-episode twins, and run under
SB3's evaluate_policy."""

from __future__ import annotations

import numpy as np
import pytest
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

from pricegym.agents.batched_rules import (
    BatchedFixedShareRule,
    BatchedMyopicDiscountRule,
    BatchedRandomRule,
    BatchedSteadyStateDiscountRule,
    list_price_rule,
)
from pricegym.agents.discount_baselines import MyopicDiscountPolicy, NoDiscountPolicy, SteadyStatePricePolicy
from pricegym.agents.rollout import episode_return
from pricegym.envs import PersonalizedDiscountConfig, PersonalizedDiscountEnv, make_vec
from pricegym.worlds.registry import WorldConfig
from pricegym.worlds.synthetic import SyntheticWorldConfig

SMALL = WorldConfig(synthetic=SyntheticWorldConfig(seed=5, n_products=30, n_customers=200, n_exposures=12_000))
DISCOUNT = "pricegym/PersonalizedDiscount-v0"
HORIZON = 60


def _batched_returns(vec_env, rule, seed: int) -> np.ndarray:
    """Each episode's return, the first episode per slot (slot i seeded with ``seed + i``)."""
    vec_env.seed(seed)
    observations = vec_env.reset()
    totals, alive = np.zeros(vec_env.num_envs), np.ones(vec_env.num_envs, dtype=bool)
    while alive.any():
        actions, _ = rule.predict(observations)
        observations, rewards, dones, _ = vec_env.step(actions)
        totals += np.where(alive, rewards, 0.0)
        alive &= ~dones
    return totals


@pytest.mark.parametrize("action_space", ["box", "ladder"])
@pytest.mark.parametrize("batched, single", [(BatchedMyopicDiscountRule, MyopicDiscountPolicy),
                                             (BatchedSteadyStateDiscountRule, SteadyStatePricePolicy),
                                             (list_price_rule, NoDiscountPolicy)])
def test_a_batched_discount_rule_earns_what_its_single_twin_earns(action_space, batched, single):
    options = {"world": SMALL, "horizon": HORIZON, "action_space": action_space}
    vec_env = make_vec(DISCOUNT, 4, **options)
    returns = _batched_returns(vec_env, batched(vec_env), seed=20)
    env = PersonalizedDiscountEnv(PersonalizedDiscountConfig(**options))
    expected = [episode_return(env, single(), 20 + slot) for slot in range(4)]
    np.testing.assert_allclose(returns, expected, rtol=1e-5, atol=1e-3)


def test_rules_run_under_evaluate_policy_through_wrappers():
    vec_env = VecNormalize(VecMonitor(make_vec(DISCOUNT, 6, seed=0, world=SMALL, horizon=HORIZON)), norm_reward=False)
    myopic, _ = evaluate_policy(BatchedMyopicDiscountRule(vec_env), vec_env, n_eval_episodes=12, warn=False)
    random, _ = evaluate_policy(BatchedRandomRule(vec_env, seed=3), vec_env, n_eval_episodes=12, warn=False)
    assert np.isfinite(myopic) and np.isfinite(random) and myopic > random


@pytest.mark.parametrize("env_id", ["pricegym/Markdown-v0", DISCOUNT, "pricegym/Competition-v0"])
@pytest.mark.parametrize("action_space", ["box", "ladder"])
def test_fixed_share_and_random_rules_give_valid_actions_everywhere(env_id, action_space):
    vec_env = make_vec(env_id, 5, seed=1, world=SMALL, horizon=8, action_space=action_space)
    observations = vec_env.reset()
    for rule in (BatchedFixedShareRule(vec_env, 0.25), BatchedRandomRule(vec_env, seed=2)):
        actions, state = rule.predict(observations)
        assert state is None and all(vec_env.action_space.contains(action) for action in actions)
        observations, rewards, _, _ = vec_env.step(actions)
        assert np.all(np.isfinite(rewards))
