"""``pricegym bench-speed``: JSON lines with the figures' names, a registry later stages extend, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pricegym.cli import main
from pricegym.encoders.demand_tables import ContextWeights, DemandTables
from pricegym.errors import ConfigError
from pricegym.experiments.bench_speed import FIGURES, register_figure, select_figures
from pricegym.experiments.decision_speed import decision_rows, truth_tables
from pricegym.worlds.demand import ReferencePriceEffect

FIGURE_NAMES = ["embed_per_s_uncached", "embed_per_s_cached", "finetune_samples_per_s", "demand_decisions_per_s",
                "demand_floor_decisions_per_s"]


def test_quick_output_is_json_lines_with_the_figures_names(tmp_path, capsys):
    only = [argument for name in FIGURE_NAMES for argument in ("--only", name)]
    assert main(["bench-speed", "--quick", "--device", "cpu", "--cache-dir", str(tmp_path), *only]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    figures = [json.loads(line) for line in lines]
    assert [figure["name"] for figure in figures] == FIGURE_NAMES
    for figure in figures:
        assert {"name", "value", "unit", "device"} <= set(figure)
        assert isinstance(figure["value"], int | float) and figure["value"] > 0 and figure["device"] == "cpu"
    assert list(tmp_path.iterdir()) == []  # the embedding figures' scratch cache is removed


def test_only_selects_names_and_prefixes_and_refuses_unknown_ones(capsys):
    assert select_figures(())[:len(FIGURE_NAMES)] == FIGURE_NAMES  # this stage's figures come first
    assert select_figures(("demand_floor_decisions_per_s",)) == ["demand_floor_decisions_per_s"]
    register_figure("env_steps_per_s/Test-v0")(lambda context: {})
    try:
        selected = select_figures(("env_steps_per_s",))
        assert "env_steps_per_s/Test-v0" in selected and all(n.startswith("env_steps_per_s/") for n in selected)
        with pytest.raises(ValueError, match="already registered"):
            register_figure("env_steps_per_s/Test-v0")(lambda context: {})
    finally:
        del FIGURES["env_steps_per_s/Test-v0"]
    with pytest.raises(ConfigError, match="no figure named 'embed_per_s'"):
        select_figures(("embed_per_s",))
    assert main(["bench-speed", "--quick", "--only", "nothing"]) == 1
    assert "no figure named 'nothing'" in capsys.readouterr().err


def test_an_unknown_device_is_one_clear_error(capsys):
    assert main(["bench-speed", "--quick", "--device", "tpu"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("pricegym: error:") and "device must be one of" in error and "'tpu'" in error


def test_a_demand_run_of_another_shape_is_refused(tmp_path, capsys):
    tables = DemandTables(np.zeros((3, 4)), np.ones((3, 4)), np.ones(4), ContextWeights.zero(), ReferencePriceEffect(),
                          "purchase_probability")
    tables.save(tmp_path)
    code = main(["bench-speed", "--quick", "--only", "demand_decisions_per_s", "--demand-run", str(tmp_path)])
    assert code == 1 and "default synthetic world has [800, 160]" in capsys.readouterr().err


def test_truth_tables_give_the_truths_probabilities_in_a_neutral_market(tiny_world):
    tables = truth_tables(tiny_world)
    rows = decision_rows(tiny_world, 500, seed=1)
    args = (rows.customers, rows.products, rows.prices, None, rows.reference_prices)
    np.testing.assert_allclose(tables.demand(*args), tiny_world.ground_truth.demand(*args), rtol=1e-12)


@pytest.mark.parametrize("env_name", ["Markdown-v0", "PersonalizedDiscount-v0", "Competition-v0"])
def test_every_environment_has_its_speed_and_floor_figures(env_name, monkeypatch):
    import torch

    from pricegym.experiments import env_speed_figures
    from pricegym.experiments.bench_speed import BenchContext, BenchSpeedConfig, load_figures

    figures = load_figures()
    monkeypatch.setattr(env_speed_figures, "QUICK_STEPS", 300)
    with BenchContext(BenchSpeedConfig(quick=True), torch.device("cpu")) as context:
        for kind in ("env_steps_per_s", "env_floor_steps_per_s"):
            figure = figures[f"{kind}/{env_name}"](context)
            assert figure["name"] == f"{kind}/{env_name}" and figure["steps"] == 300
            assert figure["value"] > 0 and figure["non_finite"] == 0


def test_a_run_leaves_no_temporary_folder(tmp_path, monkeypatch, capsys):
    import tempfile

    from pricegym.experiments import env_speed_figures

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(env_speed_figures, "QUICK_STEPS", 300)
    assert main(["bench-speed", "--quick", "--only", "env_steps_per_s/Markdown-v0",
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "env_steps_per_s/Markdown-v0"
    assert list(tmp_path.iterdir()) == []  # the tables folder (pricegym-bench-tables-*) is gone


def test_scratch_folders_go_however_the_run_ends():
    import torch

    from pricegym.experiments.bench_speed import BenchContext, BenchSpeedConfig

    with pytest.raises(KeyboardInterrupt), BenchContext(BenchSpeedConfig(), torch.device("cpu")) as context:
        folder = context.scratch_folder("pricegym-bench-test-")
        (folder / "tables.npz").write_bytes(b"x")
        raise KeyboardInterrupt
    assert not folder.exists()


def test_world_load_figures(monkeypatch, tmp_path, capsys):
    from pricegym.worlds.online_retail import config as online_retail_config

    monkeypatch.setattr(online_retail_config, "default_cache_dir", lambda: tmp_path)  # no downloaded copy
    assert main(["bench-speed", "--only", "world_load_s"]) == 0
    captured = capsys.readouterr()
    figure = json.loads(captured.out)
    assert figure["name"] == "world_load_s/synthetic" and figure["unit"] == "s" and figure["value"] > 0
    assert "skipped world_load_s/online-retail: no data: pass --data PATH" in captured.err
    assert main(["bench-speed", "--only", "world_load_s/online-retail"]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("pricegym: error")]
    assert len(lines) == 1 and "cannot be measured: no data: pass --data PATH" in lines[0]
