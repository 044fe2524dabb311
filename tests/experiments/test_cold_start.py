"""The cold-start experiment: paired intervals over training seeds, its report, and refusing a foreign run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pricegym.experiments.cold_start import main, markdown_report, paired_interval, summarise


def test_the_paired_interval_covers_a_known_difference_and_needs_a_spread():
    rng = np.random.default_rng(0)
    covered = sum(
        (lambda summary: summary["t_low"] <= 1.0 <= summary["t_high"])(paired_interval(1.0 + rng.normal(0, 0.5, 5)))
        for _ in range(200))
    assert 0.9 <= covered / 200 <= 0.99  # nominal 95%
    flat = paired_interval([1.0, 1.0, 1.0])
    assert flat["mean"] == 1.0 and flat["bootstrap_low"] is None
    assert paired_interval([2.0])["t_low"] is None


def _pools(with_values, without_values, rule=90.0):
    agents = {}
    for seed, (with_pct, without_pct) in enumerate(zip(with_values, without_values, strict=True)):
        agents[f"with-seed{seed}"] = {"arm": "with", "seed": seed, "pct_of_optimum": with_pct}
        agents[f"without-seed{seed}"] = {"arm": "without", "seed": seed, "pct_of_optimum": without_pct}
    return {"cold_start": {"mean_optimum": 100.0, "agents": agents,
                           "rule": {"name": "best fixed price", "pct_of_optimum": rule}}}


def test_the_summary_pairs_each_seed_with_its_own_twin():
    pools = _pools([95.0, 97.0, 99.0], [94.0, 96.0, 98.0])
    summary = summarise(pools, [0, 1, 2])["cold_start"]
    difference = summary["with_minus_without"]
    assert difference["mean"] == pytest.approx(1.0)
    assert difference["t_low"] is None or difference["t_low"] == pytest.approx(1.0)  # no spread: exact
    assert summary["minus_rule"]["with"]["mean"] == pytest.approx(7.0)
    report = markdown_report({"env": "pricegym/Markdown-v0", "episodes": 10, "seeds": [0, 1, 2], "pools": pools,
                              "summary": {"cold_start": summary}})
    assert "95.00 / 94.00" in report and "with - without +1.00" in report


def test_a_folder_holding_another_run_is_one_line(tmp_path, capsys):
    run = tmp_path / "with-seed0"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"config": {"algo": "ppo", "env_id": "pricegym/Markdown-v0",
                                                         "env_kwargs": {"observe_embeddings": True},
                                                         "hyperparams_file": None, "steps": 100}}))
    assert main(["--seeds", "0", "--steps", "200", "--out", str(tmp_path), "--quiet"]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "another steps" in lines[0], lines
