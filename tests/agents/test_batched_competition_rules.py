"""Competition-v0's batched rules and oracle earn what their single-episode twins earn, plan once per product,
and run under SB3's evaluate_policy."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecMonitor

from pricegym.agents import batched_competition_rules as rules_module
from pricegym.agents.batched_competition_rules import (
    COMPETITION_BATCHED_RULES,
    BatchedBestResponseRule,
    BatchedCompetitionFixedPriceRule,
    BatchedCompetitionListPriceRule,
    BatchedCompetitionMyopicRule,
)
from pricegym.agents.batched_rules import BatchedListPriceRule, BatchedRandomRule
from pricegym.agents.competition_baselines import (
    BestResponsePolicy,
    CompetitionFixedPricePolicy,
    CompetitionListPricePolicy,
    CompetitionMyopicPolicy,
)
from pricegym.agents.rollout import episode_return
from pricegym.envs import CompetitionConfig, CompetitionEnv, make_vec
from pricegym.envs.competition_oracle import (
    CompetitionModel,
    SeasonTerms,
    competition_season,
    price_grid,
    season_problem,
)
from pricegym.errors import ConfigError
from pricegym.worlds.registry import WorldConfig
from pricegym.worlds.synthetic import SyntheticWorldConfig

SMALL = WorldConfig(synthetic=SyntheticWorldConfig(seed=5, n_products=30, n_customers=200, n_exposures=12_000))
COMPETITION = "pricegym/Competition-v0"
HORIZON = 8
RANDOM_RIVALS = {"rivals": ("undercut", "random", "fixed", "random"), "random_levels": 3}
TWINS = [(BatchedCompetitionListPriceRule, CompetitionListPricePolicy),
         (BatchedCompetitionFixedPriceRule, CompetitionFixedPricePolicy),
         (BatchedCompetitionMyopicRule, CompetitionMyopicPolicy),
         (BatchedBestResponseRule, BestResponsePolicy)]


def _options(demand_source: str, tables_run, **options) -> dict:
    if demand_source == "fitted":
        options.update(demand_source="fitted", demand_run=tables_run)
    return {"world": SMALL, "horizon": HORIZON, **options}


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


def _assert_twins_earn_alike(options: dict, batched, single, slots: int = 4, seed: int = 20) -> None:
    vec_env = make_vec(COMPETITION, slots, **options)
    returns = _batched_returns(vec_env, batched(vec_env), seed)
    env = CompetitionEnv(CompetitionConfig(**options))
    expected = [episode_return(env, single(), seed + slot) for slot in range(slots)]
    np.testing.assert_allclose(returns, expected, rtol=1e-5, atol=1e-3)  # the VecEnv's rewards are float32


@pytest.mark.parametrize("demand_source", ["ground_truth", "fitted"])
@pytest.mark.parametrize("action_space", ["box", "ladder"])
@pytest.mark.parametrize("batched, single", TWINS)
def test_a_batched_rule_earns_what_its_single_twin_earns(batched, single, action_space, demand_source, tables_run):
    options = _options(demand_source, tables_run, action_space=action_space, reward="margin")
    _assert_twins_earn_alike(options, batched, single)


@pytest.mark.parametrize("action_space", ["box", "ladder"])
@pytest.mark.parametrize("batched, single", TWINS[1:])
def test_twins_agree_against_random_and_fixed_rivals(batched, single, action_space):
    options = _options("ground_truth", None, action_space=action_space, ladder_size=9, reward="margin", **RANDOM_RIVALS)
    _assert_twins_earn_alike(options, batched, single, slots=3, seed=5)  # the best response varies with the levels


def test_the_generic_list_price_rule_is_the_twin_on_a_ladder_only():
    ladder = _options("ground_truth", None, action_space="ladder", ladder_size=12)
    _assert_twins_earn_alike(ladder, BatchedListPriceRule, CompetitionListPricePolicy)
    vec_env = make_vec(COMPETITION, 4, seed=0, world=SMALL, horizon=HORIZON)  # box: the list price vs the grid's
    vec_env.reset()
    context = vec_env.policy_context()
    exact, _ = BatchedListPriceRule(vec_env).predict(None)
    grid, _ = BatchedCompetitionListPriceRule(vec_env).predict(None)
    to_price = context["low"] + (exact[:, 0].astype(float) + 1.0) * 0.5 * (context["high"] - context["low"])
    np.testing.assert_allclose(to_price, context["list_price"], rtol=1e-6)
    assert not np.array_equal(exact, grid)


def test_rules_run_under_evaluate_policy_and_the_oracle_leads():
    vec_env = VecMonitor(make_vec(COMPETITION, 6, seed=0, world=SMALL, horizon=HORIZON))
    means = {}
    for rule in (*(kind(vec_env) for kind in COMPETITION_BATCHED_RULES), BatchedRandomRule(vec_env, seed=3)):
        vec_env.seed(100)  # the same seasons for every rule
        means[rule.name], _ = evaluate_policy(rule, vec_env, n_eval_episodes=12, warn=False)
        assert rule.knows
    assert all(np.isfinite(mean) for mean in means.values())
    assert means["best response (dynamic program)"] >= max(means["list price"], means["random"])


def test_each_product_is_planned_once_across_episodes_and_autoresets(monkeypatch):
    calls = []
    plan = rules_module.season_problem
    monkeypatch.setattr(rules_module, "season_problem", lambda model, terms, grid: calls.append(terms.product)
                        or plan(model, terms, grid))
    vec_env = make_vec(COMPETITION, 24, seed=1, world=SMALL, horizon=4)
    rule = BatchedBestResponseRule(vec_env)
    observations, played = vec_env.reset(), set()
    for _ in range(3 * 4):  # three seasons per slot, the later ones autoreset
        played.update(vec_env.policy_context()["product"].tolist())
        observations, _, _, _ = vec_env.step(rule.predict(observations)[0])
    assert sorted(calls) == sorted(played) and rule.plans.size == len(played) > 1


def test_rules_act_on_a_gymnasium_vector_env():
    envs = gymnasium.make_vec(COMPETITION, num_envs=3, vectorization_mode="vector_entry_point", world=SMALL,
                              horizon=HORIZON, action_space="ladder")
    observations, _ = envs.reset(seed=4)
    for kind in COMPETITION_BATCHED_RULES:
        actions, state = kind(envs).predict(observations)
        assert state is None and actions.shape == (3,) and all(envs.single_action_space.contains(a) for a in actions)
    envs.step(actions)


def test_the_environment_free_planner_is_the_oracle():
    env = CompetitionEnv(CompetitionConfig(world=SMALL, horizon=HORIZON, **RANDOM_RIVALS))
    env.reset(seed=3)
    expected = competition_season(env, 11)
    season = season_problem(CompetitionModel.of(env), SeasonTerms.of(env), price_grid(env, 11))
    for part in ("price_grid", "rival_prices", "reward"):
        np.testing.assert_array_equal(getattr(season, part), getattr(expected, part))


def test_seasons_too_costly_to_plan_are_refused_at_construction(monkeypatch):
    crowded = make_vec(COMPETITION, 2, world=SMALL, horizon=HORIZON, rivals=("random",) * 3, random_levels=7)
    for kind in (BatchedBestResponseRule, BatchedCompetitionFixedPriceRule):
        with pytest.raises(ConfigError, match="joint levels"):
            kind(crowded)
    monkeypatch.setattr(rules_module, "MAX_MYOPIC_OPERATIONS", 1_000)
    with pytest.raises(ConfigError, match="myopic rule would compute"):
        BatchedCompetitionMyopicRule(make_vec(COMPETITION, 2, world=SMALL, horizon=HORIZON))
    with pytest.raises(ConfigError, match="grid_size"):
        BatchedCompetitionListPriceRule(make_vec(COMPETITION, 2, world=SMALL, horizon=HORIZON), grid_size=1)


def test_a_competition_rule_refuses_another_environment():
    with pytest.raises(ConfigError, match="Competition-v0 only"):
        BatchedBestResponseRule(make_vec("pricegym/Markdown-v0", 2, world=SMALL, horizon=HORIZON))
