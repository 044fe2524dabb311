"""pricegym plot: discovery of result folders, every figure as PNG and SVG, one-line errors, nothing written on
bad input. Inputs are tiny fakes written here (a benchmark, training runs, a fit-demand run of a tiny world)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pricegym.cli_parsing import CommandLineParser, run_command_line
from pricegym.config_checks import config_to_dict
from pricegym.encoders.demand_tables import ContextWeights, DemandTables
from pricegym.experiments.plot_data import (
    benchmark_panels,
    find_folders,
    find_inputs,
    learning_panels,
    pick_products,
    run_label,
)
from pricegym.experiments.plots import FIXED_COLOURS, SUPERVISED, policy_colours
from pricegym.plot_commands import add_plot_command
from pricegym.worlds.demand import MarketContext
from pricegym.worlds.synthetic import SyntheticWorld

MARKDOWN = "pricegym/Markdown-v0"
DISCOUNT = "pricegym/PersonalizedDiscount-v0"
FIGURES = ("benchmark", "learning_curves", "cumulative_revenue", "trajectories", "demand_fit")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def plot(*argv: str) -> int:
    """``pricegym plot ARGV`` through a parser of its own (the command is not registered in cli.py here)."""
    parser = CommandLineParser(prog="pricegym")
    add_plot_command(parser.add_subparsers(dest="command", required=True))
    return run_command_line(parser, ["plot", *map(str, argv)], lambda arguments: arguments.handler(arguments))


# --- fake inputs --------------------------------------------------------------------------------------------


def write_training_run(folder: Path, seed: int, evaluations: bool = True, horizon: int = 8) -> Path:
    folder.mkdir(parents=True)
    config = {"algo": "ppo", "env_id": MARKDOWN, "env_kwargs": {"horizon": horizon}, "seed": seed}
    (folder / "run.json").write_text(json.dumps({"command": "train", "seed": seed, "config": config,
                                                 "status": "finished"}))
    if evaluations:
        (folder / "eval").mkdir()
        steps = np.array([1000, 2000, 3000])
        pd.DataFrame({"timesteps": steps, "mean_return": 90.0, "mean_optimum": 100.0,
                      "percent_of_optimum": 80 + 5 * np.arange(3) + seed}).to_csv(folder / "eval/evaluations.csv",
                                                                                 index=False)
    return folder


def write_benchmark(folder: Path, agent_runs: list[Path], trajectories: bool = True, seasons: bool = True) -> Path:
    """Two blocks: Markdown (with inventory, a two-seed agent and the supervised baseline) and 70 customer
    visits of PersonalizedDiscount (no inventory)."""
    rng = np.random.default_rng(0)
    season_seeds = list(range(1_000_000, 1_000_012))
    blocks = {MARKDOWN: {"oracle": ("oracle", 1.0), SUPERVISED: ("supervised", 0.9), "list price": ("rule", 0.8),
                         "PPO (test)": ("agent", 0.95)},
              DISCOUNT: {"myopic (true demand)": ("rule", 0.97), "list price": ("rule", 0.9),
                         "best fixed discount": ("rule", 0.93)}}
    rows, season_rows, paths = [], [], {}
    for env, policies in blocks.items():
        yardstick = rng.uniform(50, 150, len(season_seeds))
        for policy, (kind, share) in policies.items():
            seeds = [0, 1] if kind == "agent" else [None]
            returns = np.stack([share * yardstick * rng.uniform(0.95, 1.05, len(season_seeds)) for _ in seeds])
            season_rows += [{"env": env, "demand": "ground_truth", "policy": policy, "train_seed": seed,
                             "season_seed": season, "return": returns[i, j], "yardstick": yardstick[j]}
                            for i, seed in enumerate(seeds) for j, season in enumerate(season_seeds)]
            mean = float(returns.mean())
            rows.append({"env": env, "env_id": env, "policy": policy, "kind": kind, "demand": "ground_truth",
                         "n_train_seeds": len(seeds), "mean_return": mean, "ci95_low": 0.9 * mean,
                         "ci95_high": 1.1 * mean, "pct_of_oracle": 100 * mean / yardstick.mean()})
            steps = 6 if env == MARKDOWN else 70
            paths.setdefault(f"{env} [ground_truth]", {})[policy] = {
                "reward": rng.uniform(0, 10, steps).tolist(),
                "price_ratio": rng.uniform(0.6, 1.2, (steps, 2 if env == MARKDOWN else 1)).round(3).tolist(),
                "inventory_left": ([[10 - step, 8 - step] for step in range(steps)] if env == MARKDOWN
                                   else [None] * steps)}
    config = {"name": "fake", "confidence_level": 0.95, "bootstrap_resamples": 199, "environments": [
        {"env": MARKDOWN, "demand": "ground_truth", "env_kwargs": {"horizon": 8},
         "agents": [{"name": "PPO (test)", "runs": [str(run) for run in agent_runs]}]},
        {"env": DISCOUNT, "demand": "ground_truth", "env_kwargs": {"horizon": 70}, "agents": []}]}
    yardsticks = {f"{env} [ground_truth]": {"env": env, "kind": "the dynamic program's exact expected return "
                                            "(optimum)", "demand": "ground_truth", "mean": 100.0} for env in blocks}
    folder.mkdir(parents=True)
    (folder / "benchmark.json").write_text(json.dumps({"name": "fake", "config": config, "yardsticks": yardsticks,
                                                       "rows": rows}))
    if seasons:
        pd.DataFrame(season_rows).to_csv(folder / "seasons.csv", index=False)
    if trajectories:
        (folder / "trajectories.json").write_text(json.dumps(paths))
    (folder / "run.json").write_text(json.dumps({"argv": ["pricegym", "benchmark"], "seed": 0}))
    return folder


def write_demand_run(folder: Path, tiny_config) -> Path:
    """Tables of the tiny world's truth with 30% steeper slopes, and a model card recording the world."""
    world = SyntheticWorld.build(tiny_config)
    customers, products = world.all_pairs()
    intercept, slope = world.ground_truth.intercept_and_slope(customers, products, MarketContext.neutral())
    logged = world.transactions.groupby("product_id")["price"].agg(["min", "max"])
    DemandTables(intercept=intercept, slope=1.3 * np.broadcast_to(slope, intercept.shape),
                 list_prices=world.ground_truth.list_prices, context_weights=ContextWeights.zero(),
                 reference_effect=world.config.reference_effect, response="purchase_probability",
                 price_ranges=logged.reindex(world.products["product_id"]).to_numpy(),
                 customer_ids=tuple(world.customers["customer_id"]), product_ids=tuple(world.products["product_id"]),
                 world="synthetic").save(folder)
    card = {"world": "synthetic", "response": "purchase_probability",
            "config": {"world": {"name": "synthetic", "synthetic": config_to_dict(tiny_config)}}}
    (folder / "model_card.json").write_text(json.dumps(card))
    return folder


@pytest.fixture(scope="module")
def job(tmp_path_factory, tiny_config) -> Path:
    """A main-job folder: benchmark/, train/ (two evaluated seeds, a repeat of seed 0, one run without
    evaluations) and demand/."""
    root = tmp_path_factory.mktemp("job")
    runs = [write_training_run(root / "train" / f"ppo-seed{seed}", seed) for seed in (0, 1)]
    write_training_run(root / "train" / "ppo-seed0-check", 0)
    write_training_run(root / "train" / "ppo-no-eval", 5, evaluations=False)
    write_benchmark(root / "benchmark", runs)
    write_demand_run(root / "demand", tiny_config)
    return root


# --- discovery --------------------------------------------------------------------------------------------


def test_discovery_finds_each_kind_of_result_and_skips_the_plots_folder(job):
    (job / "plots" / "stale").mkdir(parents=True, exist_ok=True)
    (job / "plots" / "stale" / "benchmark.json").write_text("{}")  # never searched
    found = find_folders(job)
    assert found["benchmark"] == [job / "benchmark"]
    assert found["demand"] == [job / "demand"]
    assert found["train"] == sorted(job / "train" / name for name in
                                    ("ppo-seed0", "ppo-seed1", "ppo-seed0-check", "ppo-no-eval"))
    assert find_folders(job / "train" / "ppo-seed1")["train"] == [job / "train" / "ppo-seed1"]  # a run itself

    inputs = find_inputs(job)
    assert [run.folder.name for run in inputs.training_runs] == ["ppo-seed0", "ppo-seed1"]
    assert [path.name for path in inputs.repeated] == ["ppo-seed0-check"]
    assert [path.name for path in inputs.unevaluated] == ["ppo-no-eval"]
    assert {run_label(run, inputs.benchmarks) for run in inputs.training_runs} == {"PPO (test)"}


def test_learning_curves_span_the_seeds_and_show_the_rules_of_the_same_environment(job, tmp_path):
    inputs = find_inputs(job)
    (panel,) = learning_panels(inputs.training_runs, inputs.benchmarks)
    (curve,) = panel.curves
    assert curve.n_seeds == 2
    np.testing.assert_allclose(curve.mean, [80.5, 85.5, 90.5])
    np.testing.assert_allclose(curve.high - curve.low, 1.0)
    assert {policy for policy, _ in panel.rules} == {"oracle", SUPERVISED, "list price"}  # not the agent

    other = [write_training_run(tmp_path / "long", 0, horizon=30)]
    (panel,) = learning_panels(find_inputs(tmp_path).training_runs, inputs.benchmarks)
    assert panel.rules == [] and "horizon=30" in panel.title and other


def test_the_benchmark_chart_is_in_percent_of_the_yardstick_with_paired_intervals(job):
    (markdown, discount) = benchmark_panels(find_inputs(job).benchmarks[0])
    assert markdown.measure.startswith("% of the optimum")
    assert [entry.value for entry in markdown.entries] == sorted((entry.value for entry in markdown.entries),
                                                                 reverse=True)
    for entry in markdown.entries:
        assert entry.low < entry.value < entry.high
        assert entry.high - entry.low < 10  # paired over seasons: far narrower than the season spread
    assert next(entry for entry in markdown.entries if entry.policy == "PPO (test)").label == "PPO (test) (2 seeds)"
    assert len(discount.entries) == 3


# --- the command ----------------------------------------------------------------------------------------


def test_every_figure_is_written_as_png_and_svg(job, tmp_path, capsys):
    out = tmp_path / "figures"
    assert plot(job, "--out", out) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"wrote {name}" for name in FIGURES]
    for name in FIGURES:
        png, svg = out / f"{name}.png", out / f"{name}.svg"
        assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 10_000
        assert svg.read_text().lstrip().startswith("<?xml") and svg.stat().st_size > 10_000
    assert sorted(path.name for path in out.iterdir()) == sorted(f"{name}.{ext}" for name in FIGURES
                                                                 for ext in ("png", "svg"))


def test_a_benchmark_folder_alone_draws_its_figures_and_says_which_are_skipped(tmp_path, capsys):
    folder = write_benchmark(tmp_path / "bench", [], trajectories=False, seasons=False)
    assert plot(folder, "--format", "png") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("wrote benchmark:") and len(lines) == 5
    assert sum(line.startswith("skipped ") for line in lines) == 4
    assert any("trajectories.json" in line for line in lines if line.startswith("skipped trajectories"))
    assert sorted(path.name for path in (folder / "plots").iterdir()) == ["benchmark.png"]


@pytest.mark.parametrize("make", ["missing", "empty", "unevaluated"])
def test_nothing_plottable_is_one_error_line_and_nothing_written(tmp_path, capsys, make):
    folder = tmp_path / "runs"
    if make != "missing":
        folder.mkdir()
    if make == "unevaluated":
        write_training_run(folder / "a", 0, evaluations=False)
    assert plot(folder) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert captured.err.startswith("pricegym: error: ")
    assert ("without eval/evaluations.csv" in captured.err) == (make == "unevaluated")
    assert not (folder / "plots").exists()


def test_a_demand_run_that_is_not_one_is_an_error(job, tmp_path, capsys):
    assert plot(job, "--demand-run", job / "train", "--out", tmp_path / "out") == 1
    assert "not a fit-demand run" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --- colours and products -------------------------------------------------------------------------------


def test_policy_colours_are_fixed_for_the_reference_policies_and_stable_for_the_rest():
    colours = policy_colours(["random", "PPO", SUPERVISED, "oracle", "myopic"])
    assert colours[SUPERVISED] == FIXED_COLOURS[SUPERVISED] and colours["oracle"] == FIXED_COLOURS["oracle"]
    assert colours == policy_colours(["myopic", "oracle", "PPO", "random"])
    assert len({colours[name] for name in ("random", "PPO", "myopic", SUPERVISED, "oracle")}) == 5


def test_the_demand_figure_picks_spread_out_trained_products_and_one_cold_start():
    list_prices = np.arange(10.0, 30.0)
    cold = np.zeros(20, dtype=bool)
    cold[[3, 11, 17]] = True
    picked = pick_products(list_prices, cold, 4)
    assert len(picked) == 4 and cold[picked[-1]] and not cold[picked[:3]].any()
    assert list_prices[picked[0]] < list_prices[picked[1]] < list_prices[picked[2]]
