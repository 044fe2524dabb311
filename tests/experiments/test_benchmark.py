"""pricegym benchmark: intervals that cover, common random numbers, rows, outputs, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from pricegym.cli import main
from pricegym.experiments.benchmark import block_options, play, run_benchmark
from pricegym.experiments.benchmark_config import BenchmarkConfig, EnvironmentBlock
from pricegym.experiments.benchmark_stats import mean_interval, risk_view, uplift_interval

MARKDOWN = "pricegym/Markdown-v0"
SHORT = {"horizon": 6, "observe_embeddings": False}


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# --- statistics -------------------------------------------------------------------------------------------


def test_the_season_interval_covers_a_known_mean_about_as_often_as_it_says():
    rng = np.random.default_rng(0)
    covered = 0
    for _ in range(120):
        returns = rng.gamma(shape=2.0, scale=50.0, size=(1, 60))  # skewed, like season revenues; mean 100
        summary = mean_interval(returns, 0.9, resamples=999)
        covered += summary["ci95_low"] <= 100.0 <= summary["ci95_high"]
    assert 0.82 <= covered / 120 <= 0.97  # nominal 90%


def test_the_paired_uplift_interval_covers_a_known_uplift_and_pairs_the_seasons():
    rng = np.random.default_rng(1)
    covered, widths = 0, []
    for _ in range(60):
        seasons = rng.gamma(2.0, 50.0, size=200)  # season-to-season spread far larger than the uplift
        baseline = seasons + rng.normal(0, 2.0, 200)
        policy = 1.05 * seasons + rng.normal(0, 2.0, 200)
        summary = uplift_interval(policy[None, :], baseline[None, :], resamples=999)
        covered += summary["uplift_ci95_low"] <= 5.0 <= summary["uplift_ci95_high"]
        widths.append(summary["uplift_ci95_high"] - summary["uplift_ci95_low"])
    assert covered / 60 >= 0.88  # nominal 95%
    unpaired = uplift_interval(policy[None, :], rng.permutation(baseline)[None, :], resamples=999)
    assert unpaired["uplift_ci95_high"] - unpaired["uplift_ci95_low"] > 5 * np.mean(widths)  # pairing matters


def test_several_training_seeds_add_an_interval_over_seeds_and_the_risk_view_reads_the_tail():
    returns = np.array([[10.0, 20.0, 30.0, 40.0], [12.0, 22.0, 32.0, 42.0], [11.0, 21.0, 31.0, 41.0]])
    summary = mean_interval(returns, resamples=999)
    assert summary["mean_return"] == pytest.approx(26.0)
    assert summary["seed_ci95_low"] < 26.0 < summary["seed_ci95_high"]
    risk = risk_view(np.arange(1.0, 101.0))
    assert risk["cvar10_return"] == pytest.approx(5.5) and risk["p10_return"] < risk["p90_return"]


# --- common random numbers ---------------------------------------------------------------------------------


def test_two_identical_policies_give_identical_returns_and_another_policy_does_not():
    from pricegym.agents.batched_rules import BatchedListPriceRule, BatchedRandomRule

    block = EnvironmentBlock(env=MARKDOWN, env_kwargs=SHORT)
    config = BenchmarkConfig(name="crn", environments=(block,), episodes=6)
    seeds, options = config.seeds, block_options(config, block)
    first, _ = play(lambda vec_env: BatchedRandomRule(vec_env, seed=3), block, seeds, options)
    second, _ = play(lambda vec_env: BatchedRandomRule(vec_env, seed=3), block, seeds, options)
    np.testing.assert_array_equal(first, second)
    list_price, _ = play(BatchedListPriceRule, block, seeds, options)
    assert not np.allclose(first, list_price)


def test_a_benchmark_has_one_row_per_policy_with_the_issue_keys_and_exact_oracle_percentages():
    block = EnvironmentBlock(env=MARKDOWN, env_kwargs=SHORT, policies=("oracle", "list price", "random"))
    config = BenchmarkConfig(name="rows", environments=(block,), episodes=5, bootstrap_resamples=199)
    report = run_benchmark(config)
    rows = {row["policy"]: row for row in report["rows"]}
    assert set(rows) == {"oracle", "list price", "random"}
    keys = {"env", "policy", "demand", "trained_on", "n_episodes", "n_train_seeds", "mean_return", "ci95_low",
            "ci95_high", "pct_of_oracle", "uplift_vs_supervised_pct", "uplift_ci95_low", "uplift_ci95_high",
            "p10_return", "p90_return", "cvar10_return", "sell_through", "mean_discount"}
    assert keys <= set(rows["oracle"])
    seasons = [season for season in report["seasons"] if season["policy"] == "random"]
    assert len(seasons) == 5
    expected = 100 * sum(s["return"] for s in seasons) / sum(s["yardstick"] for s in seasons)
    assert rows["random"]["pct_of_oracle"] == pytest.approx(expected)
    assert rows["oracle"]["uplift_vs_supervised_pct"] is None  # no pricer run: no supervised baseline
    assert 0.0 <= rows["list price"]["sell_through"] <= 1.0
    assert rows["list price"]["mean_discount"] == pytest.approx(0.0, abs=1e-9)


# --- the command ---------------------------------------------------------------------------------------------


def _write_config(folder, **changes) -> str:
    config = {"name": "tiny", "episodes": 3, "bootstrap_resamples": 199,
              "environments": [{"env": MARKDOWN, "env_kwargs": SHORT, "policies": ["oracle", "list price"]}]}
    config.update(changes)
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_the_command_writes_the_results_and_never_overwrites_them_silently(tmp_path, capsys):
    config = _write_config(tmp_path)
    out = tmp_path / "results"
    assert main(["benchmark", "--config", config, "--out", str(out), "--quiet"]) == 0
    record = json.loads((out / "benchmark.json").read_text())
    assert {row["policy"] for row in record["rows"]} == {"oracle", "list price"}
    assert {"config_hash", "versions", "git", "device"} <= set(record)
    for name in ("benchmark.csv", "benchmark.md", "seasons.csv", "trajectories.json", "run.json"):
        assert (out / name).is_file()
    capsys.readouterr()
    assert main(["benchmark", "--config", config, "--out", str(out), "--quiet"]) == 1
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize("changes, message", [
    ({"environments": [{"env": "pricegym/Nope-v0"}]}, "unknown environment"),
    ({"environments": [{"env": MARKDOWN, "policies": ["clairvoyant"]}]}, "unknown policy 'clairvoyant'"),
    ({"episodes": 3, "seasons": 4}, "seasons"),
    ({"environments": [{"env": MARKDOWN, "demand": "fitted"}]}, "no demand_run"),
    ({"demand_run": "OUT", "environments": [{"env": MARKDOWN, "demand": "fitted"}]}, "holds no demand tables"),
    ({"demand_run": "OUT/nowhere", "environments": [{"env": MARKDOWN, "demand": "fitted"}]}, "is not a folder"),
    ({"environments": [{"env": MARKDOWN, "agents": [{"name": "ppo", "runs": ["OUT/missing-run*"]}]}]},
     "no run folder matches"),
])
def test_bad_configs_give_one_line_before_anything_runs(tmp_path, capsys, changes, message):
    changes = json.loads(json.dumps(changes).replace("OUT", str(tmp_path)))
    config = _write_config(tmp_path, **changes)
    out = tmp_path / "results"
    assert main(["benchmark", "--config", config, "--out", str(out), "--quiet"]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and message in lines[0], lines
    assert not out.exists()


def test_every_shipped_benchmark_config_is_valid():
    from pathlib import Path

    from pricegym.config_files import load_config

    configs = sorted((Path(__file__).resolve().parents[2] / "experiments" / "benchmarks").glob("*.yaml"))
    assert configs
    for path in configs:
        config = load_config(BenchmarkConfig, path)
        assert config.environments and config.name == path.stem
