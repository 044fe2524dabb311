"""The benchmark's hindsight yardsticks (PersonalizedDiscount-v0): the clairvoyant bound checks every row, the best
uniform discount is chosen on the seasons themselves, and each row reports the share of the gap it captures."""

from __future__ import annotations

import numpy as np
import pytest

from pricegym.agents.batched_rules import BatchedFixedShareRule
from pricegym.agents.discount_baselines import FixedDiscountPolicy
from pricegym.experiments.benchmark import block_options, play, play_single, run_benchmark
from pricegym.experiments.benchmark_config import BenchmarkConfig, EnvironmentBlock
from pricegym.experiments.benchmark_hindsight import BEST_UNIFORM, bound_violations, gap_captured_pct
from pricegym.experiments.benchmark_table import markdown_table

DISCOUNT = "pricegym/PersonalizedDiscount-v0"
SMALL = {"synthetic": {"seed": 5, "n_products": 30, "n_customers": 200, "n_exposures": 12_000}}
SEASON = {"world": SMALL, "horizon": 300, "scenario": "promotion-budget"}


@pytest.fixture(scope="module")
def report() -> dict:
    block = EnvironmentBlock(env=DISCOUNT, env_kwargs=SEASON)
    markdown = EnvironmentBlock(env="pricegym/Markdown-v0", env_kwargs={"horizon": 6, "world": SMALL},
                                policies=("oracle", "list price"))
    config = BenchmarkConfig(name="hindsight", environments=(block, markdown), episodes=4, bootstrap_resamples=199)
    return run_benchmark(config)


def _rows(report: dict, env: str) -> dict[str, dict]:
    return {row["policy"]: row for row in report["rows"] if row["env_id"] == env}


def test_no_policy_passes_the_clairvoyant_bound_on_any_season(report):
    rows = _rows(report, DISCOUNT)
    assert len(rows) >= 7 and BEST_UNIFORM in rows
    for row in rows.values():
        assert row["bound_violations"] == 0
        assert 0.0 < row["pct_of_hindsight_bound"] <= 100.0


def test_the_best_uniform_discount_is_the_best_fixed_discount_on_these_very_seasons(report):
    rows = _rows(report, DISCOUNT)
    yardstick = next(value for value in report["yardsticks"].values() if value["env"].startswith(DISCOUNT))
    candidates = yardstick["uniform_discount_means"]
    assert len(candidates) >= 3 and "0%" in candidates  # the list price is a candidate
    best = rows[BEST_UNIFORM]["mean_return"]
    assert best == pytest.approx(max(candidates.values()))
    assert yardstick["best_uniform_mean"] == pytest.approx(best)
    assert candidates[f"{yardstick['best_uniform_discount_pct']:g}%"] == pytest.approx(best)
    # a rule that plans its fixed discount elsewhere, and the list price, cannot beat the pick in hindsight
    assert rows["best fixed discount"]["mean_return"] <= best + 1e-9
    assert rows["list price"]["mean_return"] == pytest.approx(candidates["0%"])
    assert yardstick["expected_bound_pct_above_best_uniform"] == pytest.approx(
        100.0 * (yardstick["mean"] / best - 1.0))


def test_each_row_reports_the_share_of_the_gap_over_the_best_uniform_discount_it_captures(report):
    rows = _rows(report, DISCOUNT)
    yardstick = next(value for value in report["yardsticks"].values() if value["env"].startswith(DISCOUNT))
    best, bound = yardstick["best_uniform_mean"], yardstick["mean"]
    assert bound > best  # this season leaves room for personalisation
    assert rows[BEST_UNIFORM]["gap_captured_pct"] == pytest.approx(0.0)
    for row in rows.values():
        assert row["gap_captured_pct"] == pytest.approx(100.0 * (row["mean_return"] - best) / (bound - best))
    markdown = _rows(report, "pricegym/Markdown-v0")
    assert all(row["bound_violations"] is None and row["gap_captured_pct"] is None for row in markdown.values())


def test_the_table_shows_the_hindsight_columns_only_where_there_is_a_bound(report):
    record = {"name": "hindsight", "seeds": {"first": 0, "episodes": 4}, "config_hash": "x", "git": {},
              "device": "cpu", "yardsticks": report["yardsticks"], "rows": report["rows"]}
    text = markdown_table(record)
    discount, markdown = text.split("## pricegym/Markdown-v0")
    assert "gap captured" in discount and "best uniform discount on these seasons" in discount
    assert "gap captured" not in markdown and "Hindsight" not in markdown


def test_a_batched_fixed_discount_plays_the_single_environments_fixed_discount_season_for_season():
    block = EnvironmentBlock(env=DISCOUNT, env_kwargs=SEASON)
    config = BenchmarkConfig(name="fixed", environments=(block,), episodes=3)
    options = block_options(config, block)
    for share in (0.0, 0.15, 0.5):
        batched, _ = play(lambda vec_env, share=share: BatchedFixedShareRule(vec_env, share / 0.5), block,
                          config.seeds, {**options, "observe_embeddings": False})
        single, _ = play_single(FixedDiscountPolicy(share), block, config.seeds, options)
        np.testing.assert_array_equal(batched, single)


def test_violations_count_seasons_above_the_bound_and_no_room_means_no_gap():
    bound = np.array([10.0, 20.0, 30.0])
    assert bound_violations(np.array([[10.0, 20.0 + 1e-6, 29.0], [11.0, 19.0, 30.0]]), bound) == 2
    assert bound_violations(np.array([[1.0, 2.0, 3.0]]), None) is None
    assert gap_captured_pct(np.array([[15.0]]), np.array([10.0]), np.array([20.0])) == pytest.approx(50.0)
    assert gap_captured_pct(np.array([[15.0]]), np.array([20.0]), np.array([20.0])) is None
