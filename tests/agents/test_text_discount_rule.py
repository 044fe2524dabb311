"""The text-segment rule: learns from planning episodes only, reads only the observation, one discount per segment."""

from __future__ import annotations

import numpy as np
import pytest

from pricegym.agents.discount_baselines import fixed_discount_candidates
from pricegym.agents.rollout import episode_return
from pricegym.agents.text_discount_rule import TextSegmentDiscountPolicy, fit_purchase_model
from pricegym.envs import PersonalizedDiscountConfig, PersonalizedDiscountEnv
from pricegym.envs.discount_bounds import hindsight_bound
from pricegym.worlds.registry import WorldConfig
from pricegym.worlds.synthetic import SyntheticWorldConfig

SMALL = WorldConfig(synthetic=SyntheticWorldConfig(seed=5, n_products=30, n_customers=200, n_exposures=12_000))
QUICK = {"experiment_episodes": 6, "planning_episodes": 2, "sweeps": 1}


def _env(**options) -> PersonalizedDiscountEnv:
    return PersonalizedDiscountEnv(PersonalizedDiscountConfig(world=SMALL, horizon=80, **options))


class _NoPeeking(PersonalizedDiscountEnv):
    """An environment whose hidden state a rule must not read."""

    def current_visit(self):
        raise AssertionError("the text rule read the visit's true utility")


def test_the_logistic_fit_recovers_a_known_discount_response():
    rng = np.random.default_rng(0)
    observations = rng.normal(size=(20_000, 3))
    discounts = rng.uniform(0.0, 0.5, 20_000)
    index = -1.5 + 0.8 * observations[:, 0] + discounts * (3.0 + 2.0 * observations[:, 1])
    bought = (rng.random(20_000) < 1.0 / (1.0 + np.exp(-index))).astype(float)
    model = fit_purchase_model(observations, discounts, bought, l2_penalty=1e-3)
    probe = np.array([[0.0, 1.0, 0.0], [0.0, -1.0, 0.0]])
    truth = 1.0 / (1.0 + np.exp(-(-1.5 + 0.4 * (3.0 + 2.0 * probe[:, 1]))))
    np.testing.assert_allclose(model.purchase_probability(probe, np.array([0.4, 0.4])), truth, atol=0.02)


@pytest.mark.parametrize("action_space", ["box", "ladder"])
def test_it_plans_on_planning_seeds_and_reads_only_the_observation(action_space):
    env = _NoPeeking(PersonalizedDiscountConfig(world=SMALL, horizon=80, action_space=action_space))
    rule = TextSegmentDiscountPolicy(**QUICK)
    margin = episode_return(env, rule, seed=0)
    candidates = fixed_discount_candidates(env, rule.candidates)
    assert np.isin(np.round(rule.segment_shares, 9), np.round(candidates, 9)).all()
    assert rule.cut_points.shape == (rule.segments - 1,) and np.all(np.diff(rule.cut_points) >= 0)
    assert 0.0 <= margin <= hindsight_bound(env).value + 1e-9
    assert env.action_space.contains(rule.predict(env.reset(seed=1)[0])[0])


def test_its_segments_come_from_the_embeddings():
    """Two observations that differ only outside the embedding parts have the same text sensitivity."""
    env = _env()
    rule = TextSegmentDiscountPolicy(**QUICK)
    observation, _ = env.reset(seed=2)
    rule.begin_episode(env)
    moved = observation.copy()
    moved[env.slices["reference_gap"]] = -0.3
    moved[env.slices["budget_left"]] = 0.1
    assert rule.text_sensitivity(moved) == pytest.approx(rule.text_sensitivity(observation))
    other = observation.copy()
    other[env.slices["customer_embedding"]] = -observation[env.slices["customer_embedding"]]
    assert rule.text_sensitivity(other) != pytest.approx(rule.text_sensitivity(observation))


def test_without_embeddings_it_is_one_fixed_discount():
    env = _env(observe_embeddings=False)
    rule = TextSegmentDiscountPolicy(**QUICK)
    observation, _ = env.reset(seed=0)
    rule.begin_episode(env)
    actions = set()
    for _ in range(40):
        action, _ = rule.predict(observation)
        actions.add(float(np.asarray(action).ravel()[0]))
        observation, *_ = env.step(action)
    assert len(actions) == 1


def test_the_same_config_gives_the_same_plan_in_a_new_rule():
    plans = []
    for _ in range(2):
        rule = TextSegmentDiscountPolicy(**QUICK)
        env = _env()
        env.reset(seed=0)
        rule.begin_episode(env)
        plans.append((rule.segment_shares.tolist(), rule.cut_points.tolist()))
    assert plans[0] == plans[1]
