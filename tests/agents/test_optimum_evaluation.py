"""The % of the optimum on held-out seasons: the headroom scripts' yardsticks and figures, the oracles' 100%, the
SB3 callback inside PPO.learn, and VecNormalize statistics."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import VecNormalize

from pricegym.agents import optimum_evaluation
from pricegym.agents.batched_competition_rules import BatchedBestResponseRule, BatchedCompetitionFixedPriceRule
from pricegym.agents.batched_markdown_rules import BatchedBestFixedPriceRule, BatchedDynamicProgramRule
from pricegym.agents.batched_rules import BatchedMyopicDiscountRule, BatchedRandomRule, list_price_rule
from pricegym.agents.optimum_evaluation import (
    COMPETITION_ID,
    DISCOUNT_ID,
    HELD_OUT_SEED,
    MARKDOWN_ID,
    OptimumEvalCallback,
    episode_returns,
    evaluate_percent_of_optimum,
    optimum_kind,
    optimum_returns,
)
from pricegym.envs import (
    CompetitionConfig,
    CompetitionEnv,
    MarkdownConfig,
    MarkdownEnv,
    PersonalizedDiscountConfig,
    make_vec,
)
from pricegym.errors import ConfigError
from pricegym.experiments.competition_headroom import competition_headroom
from pricegym.experiments.discount_headroom import discount_headroom
from pricegym.experiments.markdown_headroom import headroom_table
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


def test_the_optimum_of_each_season_is_the_oracle_value_the_headroom_scripts_pool(markdown_optimum,
                                                                                   competition_optimum):
    from pricegym.envs.competition_oracle import competition_values
    from pricegym.envs.oracle import baseline_values

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
    return discount_headroom(PersonalizedDiscountConfig(**DISCOUNT), DISCOUNT_SEASONS, seed=HELD_OUT_SEED,
                             progress=False)


@pytest.mark.parametrize("rule, name", [(BatchedMyopicDiscountRule, "myopic"), (list_price_rule, "list price")])
def test_a_discount_rule_scores_the_headroom_scripts_percent_of_the_expected_bound(rule, name, discount_means):
    """The headroom script's figure is a pooled realised margin over the expected bound: equal to 1e-6."""
    seasons, means = DISCOUNT_SEASONS, discount_means
    result = evaluate_percent_of_optimum(rule, DISCOUNT_ID, SEEDS[:seasons], **DISCOUNT)
    assert result["mean_optimum"] == pytest.approx(means["expected_bound"], rel=1e-12)
    assert result["mean_return"] == pytest.approx(means[name], rel=1e-6)
    assert result["percent_of_optimum"] == pytest.approx(100.0 * means[name] / means["expected_bound"], abs=1e-6)
    assert result["optimum_kind"] == "upper bound"


def test_a_markdown_rule_scores_the_headroom_scripts_percent_of_the_oracle(markdown_optimum):
    """The headroom script's figure is the exact expectation; the callback's, a rollout of the same seasons: the
    denominators agree exactly, the figures within the rollouts' noise."""
    row = headroom_table(MarkdownConfig(**MARKDOWN), SEASONS, seed=HELD_OUT_SEED, progress=False).iloc[0]
    result = evaluate_percent_of_optimum(BatchedBestFixedPriceRule, MARKDOWN_ID, SEEDS, optimum=markdown_optimum,
                                         **MARKDOWN)
    assert result["mean_optimum"] == pytest.approx(row["oracle (DP) mean return"], rel=1e-12)
    error = _standard_error(result)
    assert error < 1.5
    assert result["percent_of_optimum"] == pytest.approx(row["best fixed price % of oracle"], abs=4 * error)


def test_a_competition_rule_scores_the_headroom_scripts_percent_of_the_best_response(competition_optimum):
    means = competition_headroom(CompetitionConfig(**COMPETITION), SEASONS, seed=HELD_OUT_SEED, progress=False)
    result = evaluate_percent_of_optimum(BatchedCompetitionFixedPriceRule, COMPETITION_ID, SEEDS,
                                         optimum=competition_optimum, **COMPETITION)
    assert result["mean_optimum"] == pytest.approx(means["upper_bound"], rel=1e-12)
    error = _standard_error(result)
    assert error < 1.5
    expected = 100.0 * means["best fixed price"] / means["upper_bound"]
    assert result["percent_of_optimum"] == pytest.approx(expected, abs=4 * error)


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
