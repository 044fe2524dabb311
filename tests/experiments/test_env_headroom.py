"""The headroom experiments print every rule as a share of the bound; their command lines fail in one line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pricegym.agents.discount_baselines import DISCOUNT_BASELINES
from pricegym.envs import CompetitionConfig, PersonalizedDiscountConfig
from pricegym.experiments import competition_headroom, discount_headroom, markdown_headroom
from pricegym.worlds.registry import WorldConfig
from pricegym.worlds.synthetic import SyntheticWorldConfig

SMALL = WorldConfig(synthetic=SyntheticWorldConfig(seed=5, n_products=30, n_customers=200, n_exposures=12_000))


def test_discount_headroom_puts_every_rule_under_the_hindsight_bound():
    row = discount_headroom.headroom_row(PersonalizedDiscountConfig(world=SMALL, horizon=100), episodes=2,
                                         progress=False)
    assert row["bound violations"] == 0 and row["expected bound"] > 0
    names = [policy.name for policy in discount_headroom.headroom_policies()]
    assert set(names) >= {policy.name for policy in DISCOUNT_BASELINES} | {"text segments"}
    for name in names:
        assert 0 < row[f"{name} % of upper_bound"] <= 100.0 + 1e-9


def test_the_best_uniform_discount_beats_every_fixed_rule_and_the_gap_is_measured_from_it():
    config = PersonalizedDiscountConfig(world=SMALL, horizon=100, scenario="promotion-budget")
    row = discount_headroom.headroom_row(config, episodes=2, progress=False)
    uniform, expected = row["best uniform (hindsight)"], row["expected bound"]
    assert row["scenario"] == "promotion-budget" and row["reward"] == "revenue"
    assert row["list price % of expected bound"] <= 100.0 * uniform / expected + 1e-9
    assert row["expected bound % above best uniform"] == pytest.approx(100.0 * (expected / uniform - 1.0))
    captured = row["text segments % of gap captured"]
    share = row["text segments % of expected bound"] / 100.0
    assert captured == pytest.approx(100.0 * (share * expected - uniform) / (expected - uniform))


def test_competition_headroom_puts_every_rule_under_the_best_response():
    row = competition_headroom.headroom_row(CompetitionConfig(world=SMALL, horizon=8), episodes=2, progress=False)
    assert row["upper_bound (best response) mean return"] > 0
    for rule in competition_headroom.RULES:
        assert 0 < row[f"{rule} % of upper_bound"] <= 100.0 + 1e-9


@pytest.mark.parametrize("module", [markdown_headroom, discount_headroom, competition_headroom])
def test_a_missing_demand_run_is_one_error_line_naming_the_script(module, tmp_path, capsys):
    assert module.main(["--episodes", "1", "--demand-run", str(tmp_path / "nowhere")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"python -m {module.__name__}: error: ")
    assert "nowhere: holds no demand tables" in lines[0] and "runs/fit-demand/synthetic-seed0" in lines[0]


@pytest.mark.parametrize("module", [markdown_headroom, discount_headroom, competition_headroom])
@pytest.mark.parametrize("arguments, message", [
    (["--episodes", "0"], "argument --episodes: expected a positive integer"),
    (["--episodes", "many"], "argument --episodes: expected a positive integer"),
    (["--seed", "-1"], "argument --seed: expected an integer >= 0; got '-1'"),
    (["--seed", "4294967296"], "argument --seed: a seed must be an integer in [0, 4294967295]; got '4294967296'"),
    (["--demand-run", ""], "argument --demand-run: expected a path; got ''"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_argument_errors_are_one_line_and_exit_1(module, arguments, message, capsys):
    assert module.main(arguments) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    program = f"python -m {module.__name__}"
    assert len(lines) == 1 and lines[0].startswith(f"{program}: error: ") and message in lines[0]
    assert lines[0].endswith(f"(see `{program} --help`)")


@pytest.mark.parametrize("module", [markdown_headroom, discount_headroom, competition_headroom])
def test_a_file_given_as_demand_run_is_named_as_such(module, tmp_path, capsys):
    (tmp_path / "tables.npz").write_text("not a folder")
    assert module.main(["--episodes", "1", "--demand-run", str(tmp_path / "tables.npz")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "holds no demand tables (it is a file, not a run folder)" in lines[0]
    assert "pricegym fit-demand --world synthetic` with default sizes and seed" in lines[0]


HEAVY_MODULES = ("torch", "pandas", "gymnasium", "pricegym.envs", "pricegym.worlds")


@pytest.mark.parametrize("module", [markdown_headroom, discount_headroom, competition_headroom])
def test_help_imports_no_heavy_library(module):
    code = (f"import json, sys; import {module.__name__} as m; m.main(['--help']); "
            f"print(json.dumps([name for name in {HEAVY_MODULES!r} if name in sys.modules]), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.startswith(f"usage: python -m {module.__name__}")
    assert json.loads(result.stderr.strip().splitlines()[-1]) == []
