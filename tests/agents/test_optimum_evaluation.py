"""The % of the optimum on held-out seasons: the oracles' exact yardsticks and exact rule values (pooled over the
seasons), the oracles' 100%, the SB3 callback inside PPO.learn, and VecNormalize statistics."""

from __future__ import annotations

import csv
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.logger import Logger, configure
from stable_baselines3.common.vec_env import VecNormalize

from pricegym.agents import optimum_evaluation
from pricegym.agents.baselines import BestFixedPricePolicy
from pricegym.agents.batched_competition_rules import BatchedBestResponseRule, BatchedCompetitionFixedPriceRule
from pricegym.agents.batched_markdown_rules import BatchedBestFixedPriceRule, BatchedDynamicProgramRule
from pricegym.agents.batched_rules import (
    BatchedFixedShareRule,
    BatchedMyopicDiscountRule,
    BatchedRandomRule,
    list_price_rule,
)
from pricegym.agents.competition_baselines import CompetitionFixedPricePolicy
from pricegym.agents.discount_baselines import MyopicDiscountPolicy, NoDiscountPolicy
from pricegym.agents.optimum_evaluation import (
    COMPETITION_GRID,
    COMPETITION_ID,
    DISCOUNT_ID,
    HELD_OUT_SEED,
    MARKDOWN_GRID,
    MARKDOWN_ID,
    OptimumEvalCallback,
    episode_returns,
    evaluate_percent_of_optimum,
    optimum_kind,
    optimum_returns,
)
from pricegym.agents.rollout import episode_return
from pricegym.envs import (
    CompetitionConfig,
    CompetitionEnv,
    MarkdownConfig,
    MarkdownEnv,
    PersonalizedDiscountConfig,
    PersonalizedDiscountEnv,
    make_vec,
)
from pricegym.envs.competition_oracle import competition_season, competition_values
from pricegym.envs.competition_oracle import fixed_price_values as competition_fixed_price_values
from pricegym.envs.discount_bounds import expected_bound
from pricegym.envs.oracle import baseline_values, fixed_price_values, season_problems
from pricegym.errors import ConfigError
from pricegym.worlds.registry import WorldConfig
from pricegym.worlds.synthetic import SyntheticWorldConfig

SMALL = WorldConfig(synthetic=SyntheticWorldConfig(seed=5, n_products=30, n_customers=200, n_exposures=12_000))
MARKDOWN = {"world": SMALL, "horizon": 12, "stock_cover": 0.5, "arrival_rate": 60.0}
COMPETITION = {"world": SMALL, "horizon": 12, "arrival_rate": 500.0}
DISCOUNT = {"world": SMALL, "horizon": 60}
SEASONS = 100
SEEDS = list(range(HELD_OUT_SEED, HELD_OUT_SEED + SEASONS))


def _standard_error(result: dict) -> float:
    """The standard error, in points, of the ratio estimate ``percent_of_optimum`` over the seasons."""
    returns, optimum = result["returns"], result["optimum"]
    ratio = returns.sum() / optimum.sum()
    return 100.0 * float(np.std(returns - ratio * optimum, ddof=1)) / np.sqrt(returns.size) / optimum.mean()


@pytest.fixture(scope="module")
def markdown_optimum() -> np.ndarray:
    return optimum_returns(MARKDOWN_ID, SEEDS, **MARKDOWN)


@pytest.fixture(scope="module")
def competition_optimum() -> np.ndarray:
    return optimum_returns(COMPETITION_ID, SEEDS, **COMPETITION)


def _exact_means(env_id: str, seeds: list[int], options: dict) -> dict[str, float]:
    """Per name, the mean over the seasons seeded ``seeds`` of the exact expected values the oracle modules give
    (Markdown-v0: ``oracle`` and each rule; Competition-v0: ``upper_bound``, the best response, and each rule)."""
    if env_id == MARKDOWN_ID:
        env, values = MarkdownEnv(MarkdownConfig(**options)), baseline_values
    else:
        env = CompetitionEnv(CompetitionConfig(**options))
        values = partial(competition_values, grid_size=COMPETITION_GRID)
    totals: dict[str, float] = {}
    for seed in seeds:
        env.reset(seed=seed)
        for name, value in values(env).items():
            totals[name] = totals.get(name, 0.0) + value
    return {name: total / len(seeds) for name, total in totals.items()}


def test_the_optimum_of_each_season_is_the_oracles_exact_value(markdown_optimum, competition_optimum):
    markdown, competition = MarkdownEnv(MarkdownConfig(**MARKDOWN)), CompetitionEnv(CompetitionConfig(**COMPETITION))
    for index in (0, 7, SEASONS - 1):
        markdown.reset(seed=SEEDS[index])
        assert markdown_optimum[index] == pytest.approx(baseline_values(markdown)["oracle"], rel=1e-12)
        competition.reset(seed=SEEDS[index])
        assert competition_optimum[index] == pytest.approx(competition_values(competition)["upper_bound"], rel=1e-12)
    assert optimum_kind(MARKDOWN_ID, **MARKDOWN) == optimum_kind(COMPETITION_ID) == "optimum"
    assert optimum_kind(MARKDOWN_ID, reference_dynamics=True) == optimum_kind(DISCOUNT_ID) == "upper bound"


DISCOUNT_SEASONS = 8


@pytest.fixture(scope="module")
def discount_means() -> dict:
    """Mean realised margins of single-environment rollouts of two rules on the first held-out seasons, and the
    mean expected bound of those seasons."""
    env = PersonalizedDiscountEnv(PersonalizedDiscountConfig(**DISCOUNT))
    seeds = SEEDS[:DISCOUNT_SEASONS]
    means = {policy.name: float(np.mean([episode_return(env, policy, seed) for seed in seeds]))
             for policy in (MyopicDiscountPolicy(), NoDiscountPolicy())}
    bounds = []
    for seed in seeds:
        env.reset(seed=seed)
        bounds.append(expected_bound(env).value)
    means["expected_bound"] = float(np.mean(bounds))
    return means


class _RuleModel:
    """What :class:`OptimumEvalCallback` reads of its model, for a batched rule: the rule's factory (the callback
    builds it on its own evaluation VecEnv), a logger and a training env (without VecNormalize)."""

    def __init__(self, rule: Callable[[Any], Any], env_id: str, options: dict) -> None:
        self.rule, self.training_env = rule, make_vec(env_id, 2, seed=0, **options)
        self.logger, self.num_timesteps = Logger(None, []), 0

    def __call__(self, vec_env: Any) -> Any:
        return self.rule(vec_env)

    def get_env(self) -> Any:
        return self.training_env


def _callback_result(rule: Callable[[Any], Any], env_id: str, seeds: list[int], options: dict) -> dict:
    """The callback's evaluation of ``rule`` on the held-out ``seeds``, as during training."""
    callback = OptimumEvalCallback(env_id, options, seeds, eval_freq=0)
    callback.init_callback(_RuleModel(rule, env_id, options))
    return callback.evaluate()


@pytest.mark.parametrize("rule, name", [(BatchedMyopicDiscountRule, "myopic"), (list_price_rule, "list price")])
def test_a_discount_rule_scores_its_single_env_percent_of_the_expected_bound(rule, name, discount_means):
    """The single environment's figure is a pooled realised margin over the expected bound, of rollouts of the
    same seasons; the callback's, of the batched slots seeded alike: equal to float precision."""
    seasons, means = DISCOUNT_SEASONS, discount_means
    expected = 100.0 * means[name] / means["expected_bound"]
    result = _callback_result(rule, DISCOUNT_ID, SEEDS[:seasons], DISCOUNT)
    np.testing.assert_allclose(result["mean_optimum"], means["expected_bound"], rtol=1e-12)
    np.testing.assert_allclose(result["mean_return"], means[name], rtol=1e-9)
    np.testing.assert_allclose(result["percent_of_optimum"], expected, rtol=1e-9)
    assert result["optimum_kind"] == "upper bound"
    other = "list price" if name == "myopic" else "myopic"  # another rule: another figure
    assert abs(expected - 100.0 * means[other] / means["expected_bound"]) > 0.1
    outside = evaluate_percent_of_optimum(rule, DISCOUNT_ID, SEEDS[:seasons], **DISCOUNT)
    assert outside["percent_of_optimum"] == result["percent_of_optimum"]


TINY_SEEDS = SEEDS[:4]
TINY = {MARKDOWN_ID: {"world": SMALL, "horizon": 6, "stock_cover": 0.5, "arrival_rate": 60.0},
        COMPETITION_ID: {"world": SMALL, "horizon": 6, "arrival_rate": 500.0}}


class _PlayedRungs:
    """Plays a batched rule with box actions and keeps, per slot and product, the rungs of the oracle's price grid
    (``grid`` prices of the range) it priced its first season at (later seasons, autoresets, are ignored)."""

    def __init__(self, rule: Callable[[Any], Any], grid: int) -> None:
        self.factory, self.grid = rule, grid
        self.rungs: list[set[tuple[int, int]]] = []

    def build(self, vec_env: Any) -> _PlayedRungs:
        self.rule, self.rungs = self.factory(vec_env), [set() for _ in range(vec_env.num_envs)]
        self.alive, self.steps = np.ones(vec_env.num_envs, dtype=bool), 0
        return self

    def predict(self, observations: np.ndarray, state: Any = None, episode_start: np.ndarray | None = None,
                deterministic: bool = True) -> tuple[np.ndarray, None]:
        if self.steps:
            self.alive &= ~np.asarray(episode_start, dtype=bool)
        self.steps += 1
        actions, _ = self.rule.predict(observations, deterministic=deterministic)
        positions = (np.asarray(actions, dtype=np.float64).reshape(len(actions), -1) + 1.0) / 2.0 * (self.grid - 1)
        np.testing.assert_allclose(positions, np.rint(positions), atol=1e-3)  # a price of the oracle's grid
        for slot in np.flatnonzero(self.alive):
            self.rungs[slot].update(enumerate(np.rint(positions[slot]).astype(int).tolist()))
        return actions, None

    def fixed_rungs(self) -> np.ndarray:
        """``[slots, products]`` each product's one rung all season (a fixed-price rule's)."""
        rows = [[rung for _, rung in sorted(played)] for played in self.rungs]
        assert all(len(row) == len({product for product, _ in played}) for row, played in zip(rows, self.rungs,
                                                                                          strict=True))
        return np.array(rows)


def _exact_returns(env_id: str, seeds: list[int], rungs: np.ndarray, options: dict) -> np.ndarray:
    """``[seeds]`` the exact expected return of each season seeded ``seeds[i]`` priced at the grid rungs
    ``rungs[i]`` (per product) all season, by the oracle modules' recursion."""
    if env_id == MARKDOWN_ID:
        env = MarkdownEnv(MarkdownConfig(**options))
        values = []
        for seed, row in zip(seeds, rungs, strict=True):
            env.reset(seed=seed)
            problems = season_problems(env, MARKDOWN_GRID)
            values.append(sum(fixed_price_values(problem)[rung] for problem, rung in zip(problems, row, strict=True)))
        return np.array(values)
    env = CompetitionEnv(CompetitionConfig(**options))
    values = []
    for seed, row in zip(seeds, rungs, strict=True):
        env.reset(seed=seed)
        values.append(competition_fixed_price_values(competition_season(env, COMPETITION_GRID))[row[0]])
    return np.array(values)


def _exact_figure(env_id: str, seeds: list[int], options: dict) -> tuple[float, float]:
    """The exact (mean optimum, best fixed price % of it) on the seasons seeded ``seeds``."""
    means = _exact_means(env_id, seeds, options)
    optimum = means["oracle" if env_id == MARKDOWN_ID else "upper_bound"]
    return optimum, 100.0 * means["best fixed price"] / optimum


def _single_env(env_id: str, options: dict) -> Any:
    """The single environment of ``env_id`` (what the oracle modules value and the rules' twins play)."""
    return MarkdownEnv(MarkdownConfig(**options)) if env_id == MARKDOWN_ID else CompetitionEnv(
        CompetitionConfig(**options))


@pytest.mark.parametrize("env_id, rule, twin", [(MARKDOWN_ID, BatchedBestFixedPriceRule, BestFixedPricePolicy),
                                                (COMPETITION_ID, BatchedCompetitionFixedPriceRule,
                                                 CompetitionFixedPricePolicy)])
def test_the_callbacks_figure_of_a_rule_is_its_exact_figure_in_expectation(env_id, rule, twin):
    """Markdown-v0's and Competition-v0's oracle modules value each rule by its exact expected return (the
    oracle's recursion, no rollout); the callback plays one realised season per seed. Same seeds, same
    yardstick, same pooling (sum of returns / sum of optima) and the same rule: the callback's figure is
    ``100 x sum(realised) / sum(optimum)``, with a fixed denominator, so its expectation is the exact figure.
    Checked exactly: the yardstick, the prices the callback played valued by the oracle's recursion, and the
    realised returns (those of the single environment's rollouts under the same seeds)."""
    options = TINY[env_id]
    mean_optimum, figure = _exact_figure(env_id, TINY_SEEDS, options)
    grid = MARKDOWN_GRID if env_id == MARKDOWN_ID else COMPETITION_GRID
    played = _PlayedRungs(rule, grid)
    result = _callback_result(played.build, env_id, TINY_SEEDS, options)
    np.testing.assert_allclose(result["mean_optimum"], mean_optimum, rtol=1e-12)
    exact = _exact_returns(env_id, TINY_SEEDS, played.fixed_rungs(), options)
    np.testing.assert_allclose(100.0 * exact.sum() / result["optimum"].sum(), figure, rtol=1e-9)
    single = _single_env(env_id, options)
    rollouts = [episode_return(single, twin(), seed) for seed in TINY_SEEDS]
    np.testing.assert_allclose(result["returns"], rollouts, rtol=1e-9)
    np.testing.assert_allclose(result["percent_of_optimum"], 100.0 * sum(rollouts) / result["optimum"].sum(),
                               rtol=1e-9)
    assert abs(result["percent_of_optimum"] - figure) > 1e-6  # the realised figure only estimates it
    # another fixed price (the highest) played through the callback: another exact figure
    highest = _PlayedRungs(lambda vec_env: BatchedFixedShareRule(vec_env, 1.0), grid)
    _callback_result(highest.build, env_id, TINY_SEEDS, options)
    np.testing.assert_array_equal(highest.fixed_rungs(), grid - 1)
    other = _exact_returns(env_id, TINY_SEEDS, highest.fixed_rungs(), options)
    assert 100.0 * other.sum() / result["optimum"].sum() < figure - 1.0


@pytest.mark.parametrize("env_id, options, rule, optimum", [
    (MARKDOWN_ID, MARKDOWN, BatchedBestFixedPriceRule, "markdown_optimum"),
    (COMPETITION_ID, COMPETITION, BatchedCompetitionFixedPriceRule, "competition_optimum")])
def test_a_rule_scores_its_exact_percent_of_the_optimum_within_the_rollouts_noise(env_id, options, rule, optimum,
                                                                                  request):
    """The exact figure is an expectation; the callback's, a rollout of the same seasons: the denominators agree
    exactly, the figures within the rollouts' noise."""
    mean_optimum, figure = _exact_figure(env_id, SEEDS, options)
    result = evaluate_percent_of_optimum(rule, env_id, SEEDS, optimum=request.getfixturevalue(optimum), **options)
    assert result["mean_optimum"] == pytest.approx(mean_optimum, rel=1e-12)
    error = _standard_error(result)
    assert error < 1.5
    assert result["percent_of_optimum"] == pytest.approx(figure, abs=4 * error)


@pytest.mark.parametrize("env_id, options, oracle, optimum", [
    (MARKDOWN_ID, MARKDOWN, BatchedDynamicProgramRule, "markdown_optimum"),
    (COMPETITION_ID, COMPETITION, BatchedBestResponseRule, "competition_optimum")])
def test_the_oracle_scores_100_percent_and_beats_the_rules(env_id, options, oracle, optimum, request):
    optimum = request.getfixturevalue(optimum)
    result = evaluate_percent_of_optimum(oracle, env_id, SEEDS, optimum=optimum, **options)
    error = _standard_error(result)
    assert error < 1.5
    assert result["percent_of_optimum"] == pytest.approx(100.0, abs=4 * error)
    random = evaluate_percent_of_optimum(lambda vec_env: BatchedRandomRule(vec_env, seed=1), env_id, SEEDS,
                                         optimum=optimum, **options)
    assert random["percent_of_optimum"] < result["percent_of_optimum"] - 5.0
    np.testing.assert_allclose(result["percent"], 100.0 * result["returns"] / optimum)
    assert result["percent_of_optimum"] == pytest.approx(100.0 * result["returns"].sum() / optimum.sum())
    # the oracle's own rollouts as the yardstick (common random numbers): exactly 100% on every season
    rollouts = episode_returns(oracle, env_id, SEEDS[:10], **options)
    same = evaluate_percent_of_optimum(oracle, env_id, SEEDS[:10], optimum=rollouts, **options)
    np.testing.assert_allclose(same["percent"], 100.0, rtol=1e-12)


def test_seeds_are_played_as_given_and_bad_input_is_refused():
    seeds = [HELD_OUT_SEED + 9, HELD_OUT_SEED + 2, HELD_OUT_SEED + 40]
    scattered = episode_returns(BatchedDynamicProgramRule, MARKDOWN_ID, seeds, **MARKDOWN)
    one_by_one = [episode_returns(BatchedDynamicProgramRule, MARKDOWN_ID, [seed], **MARKDOWN)[0] for seed in seeds]
    np.testing.assert_allclose(scattered, one_by_one, rtol=1e-12)
    other = make_vec(MARKDOWN_ID, 3, **MARKDOWN)
    with pytest.raises(TypeError, match="another VecEnv"):
        episode_returns(BatchedDynamicProgramRule(other), MARKDOWN_ID, seeds, **MARKDOWN)
    with pytest.raises(ConfigError, match="distinct"):
        optimum_returns(MARKDOWN_ID, [HELD_OUT_SEED, HELD_OUT_SEED], **MARKDOWN)
    with pytest.raises(ConfigError, match="no optimum known"):
        optimum_returns("CartPole-v1", [HELD_OUT_SEED])
    with pytest.raises(ConfigError, match="one per seed"):
        evaluate_percent_of_optimum(BatchedDynamicProgramRule, MARKDOWN_ID, seeds, optimum=[1.0], **MARKDOWN)


class _Spy:
    """A constant policy that keeps the observations it is shown."""

    def __init__(self, vec_env_or_none=None) -> None:
        self.seen: list[np.ndarray] = []

    def predict(self, observations, deterministic=True):
        self.seen.append(np.array(observations, copy=True))
        return np.zeros((len(observations), 1), dtype=np.float32), None


def test_vec_normalize_statistics_are_applied_frozen_and_rewards_stay_raw():
    options = {"world": SMALL, "horizon": 6}
    seeds = SEEDS[:4]
    source = VecNormalize(make_vec(MARKDOWN_ID, 4, seed=3, **options), norm_reward=True, clip_obs=2.0)
    source.reset()
    for _ in range(20):
        source.step(np.random.default_rng(0).uniform(-1, 1, size=(4, 1)).astype(np.float32))
    mean, var, count = source.obs_rms.mean.copy(), source.obs_rms.var.copy(), source.obs_rms.count
    raw_spy, normalized_spy = _Spy(), _Spy()
    raw = episode_returns(raw_spy, MARKDOWN_ID, seeds, **options)
    normalized = episode_returns(normalized_spy, MARKDOWN_ID, seeds, vec_normalize=source, **options)
    np.testing.assert_allclose(normalized, raw)  # the same actions earn the same raw returns
    assert len(raw_spy.seen) == len(normalized_spy.seen) == 6
    for shown, original in zip(normalized_spy.seen, raw_spy.seen, strict=True):
        expected = np.clip((original - mean) / np.sqrt(var + source.epsilon), -2.0, 2.0)
        np.testing.assert_allclose(shown, expected, rtol=1e-5, atol=1e-5)
    assert not np.allclose(normalized_spy.seen[0], raw_spy.seen[0])
    np.testing.assert_array_equal(source.obs_rms.mean, mean)  # frozen: the training statistics are untouched
    assert source.obs_rms.count == count


@pytest.mark.parametrize("normalize", [False, True])
def test_the_callback_logs_percent_of_optimum_inside_ppo_learn(small_world_config, tmp_path, monkeypatch, normalize):
    options = {"world": small_world_config, "horizon": 6}
    training_env = make_vec(MARKDOWN_ID, 4, seed=0, **options)
    if normalize:
        training_env = VecNormalize(training_env, norm_reward=False)
    seen_statistics = []
    evaluate = optimum_evaluation.evaluate_percent_of_optimum

    def spy(*args, vec_normalize=None, **kwargs):
        seen_statistics.append(vec_normalize)
        return evaluate(*args, vec_normalize=vec_normalize, **kwargs)

    monkeypatch.setattr(optimum_evaluation, "evaluate_percent_of_optimum", spy)
    model = PPO("MlpPolicy", training_env, n_steps=16, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.set_logger(configure(str(tmp_path / "logs"), ["csv"]))
    callback = OptimumEvalCallback(MARKDOWN_ID, options, SEEDS[:5], eval_freq=8, log_path=tmp_path / "eval")
    model.learn(total_timesteps=128, callback=callback)

    assert [steps for steps, _ in callback.history] == [32, 64, 96, 128]  # every 8 calls of 4 environments
    assert callback.optimum.shape == (5,) and np.all(callback.optimum > 0)
    assert seen_statistics == [training_env if normalize else None] * 4
    percents = [percent for _, percent in callback.history]
    assert all(0.0 < percent < 150.0 for percent in percents)
    with (tmp_path / "eval" / "evaluations.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["timesteps"]) for row in rows] == [32, 64, 96, 128]
    np.testing.assert_allclose([float(row["percent_of_optimum"]) for row in rows], percents)
    progress = pd.read_csv(tmp_path / "logs" / "progress.csv")
    logged = progress["eval/percent_of_optimum"].dropna().to_numpy()
    assert logged.size >= 1 and set(np.round(logged, 6)) <= set(np.round(percents, 6))
    assert "eval/mean_return" in progress.columns
    # an evaluation of the final model from outside, with the training statistics, gives the callback's figure
    outside = evaluate_percent_of_optimum(model, MARKDOWN_ID, SEEDS[:5], optimum=callback.optimum,
                                          vec_normalize=training_env if normalize else None, **options)
    assert callback.evaluate()["percent_of_optimum"] == pytest.approx(outside["percent_of_optimum"], rel=1e-12)
