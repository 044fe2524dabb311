"""pricegym run: the quick main job end to end, stage reuse, and one-line errors before anything runs."""

from __future__ import annotations

import json

import pytest

from pricegym.cli import main


@pytest.fixture(scope="module")
def quick_job(tmp_path_factory):
    """The quick main job, run once for the module (a few minutes on 2 cores)."""
    root = tmp_path_factory.mktemp("jobs")
    status = main(["run", "--quick", "--root", str(root), "--quiet"])
    return status, root / "quick"


def test_the_quick_main_job_runs_end_to_end_and_writes_the_report(quick_job):
    status, folder = quick_job
    assert status == 0
    report = (folder / "report.md").read_text()
    for part in ("## Headline", "## Plots", "## Stages", "## Benchmark", "supervised BERT pricer", "PPO (LM state)"):
        assert part in report, part
    record = json.loads((folder / "benchmark" / "benchmark.json").read_text())
    blocks = {row["env"] for row in record["rows"]}
    assert {"pricegym/Markdown-v0", "pricegym/Competition-v0", "pricegym/PersonalizedDiscount-v0",
            "Markdown-v0 cold-start products", "Markdown-v0 sim-to-real"} <= blocks
    sim_to_real = {row["policy"]: row for row in record["rows"] if row["env"] == "Markdown-v0 sim-to-real"}
    assert "fitted" in sim_to_real["PPO trained on the fitted BERT tables"]["trained_on"]
    assert all(row["uplift_vs_supervised_pct"] is not None for row in record["rows"])
    assert list((folder / "plots").glob("*.png"))


def test_a_second_run_reuses_every_finished_stage(quick_job, capsys):
    status, folder = quick_job
    assert status == 0
    capsys.readouterr()
    assert main(["run", "--quick", "--root", str(folder.parent), "--quiet"]) == 0
    output = capsys.readouterr().out
    for stage in ("fit the BERT demand model: reusing", "fit the supervised BERT pricer: reusing",
                  "benchmark: reusing"):
        assert stage in output, output
    assert "training " not in output


@pytest.mark.parametrize("arguments, message", [
    (["run", "--name", "a/b"], "plain folder name"),
    (["run", "--train-seeds", "-1"], "train_seeds"),
    (["run", "--device", "gpu"], "device"),
    (["run", "--world", "mars"], "invalid choice"),
])
def test_bad_input_is_one_line_before_anything_runs(tmp_path, capsys, arguments, message):
    assert main([*arguments, "--root", str(tmp_path / "jobs")]) != 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "jobs").exists()
