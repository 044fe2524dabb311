"""``pricegym tune`` (pricegym.agents.tuning): a tiny study end to end, the pruner, resume, one-line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import optuna
import pytest
import yaml

from pricegym.agents.hyperparameters import load_hyperparams, resolve_hyperparams
from pricegym.agents.optimum_evaluation import HELD_OUT_SEED, optimum_returns
from pricegym.agents.tuning import (
    SEARCH_SPACES,
    STUDY_FILE,
    STUDY_NAME,
    VALIDATION_SEED,
    TrialEvalCallback,
    TrialSetup,
    make_pruner,
    run_trial,
    sample_ppo,
)
from pricegym.agents.tuning_records import BEST_FILE, TRIALS_FILE
from pricegym.cli import main
from pricegym.envs import MARKDOWN_ID
from pricegym.safe_writes import RUN_RECORD
from pricegym.tune_commands import ALGORITHMS

TINY_BASE = """
pricegym/Markdown-v0:
  n_envs: 8
  features_extractor: layout
  policy_kwargs: "dict(net_arch=[32, 32])"
"""
OPTIONS = {"horizon": 5}
EVAL_EVERY, STEPS = 256, 512


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hyperparams") / "tiny.yml"
    path.write_text(TINY_BASE)
    return path


def tune_args(base: Path, out: Path, *extra: str) -> list[str]:
    return ["tune", "--algo", "ppo", "--env", MARKDOWN_ID, "--env-kwargs", "horizon=5", "--hyperparams", str(base),
            "--steps-per-trial", str(STEPS), "--eval-every", str(EVAL_EVERY), "--eval-episodes", "8",
            "--out", str(out), *extra]


def load_study(folder: Path) -> optuna.Study:
    return optuna.load_study(study_name=STUDY_NAME, storage=f"sqlite:///{folder / STUDY_FILE}")


@pytest.fixture(scope="module")
def study_folder(tmp_path_factory, tiny_base) -> Path:
    """A finished two-trial study of the tiny PPO on 5-day Markdown seasons."""
    out = tmp_path_factory.mktemp("studies") / "tiny"
    assert main(tune_args(tiny_base, out, "--trials", "2")) == 0
    return out


def test_the_cli_list_mirrors_the_search_spaces():
    assert tuple(sorted(SEARCH_SPACES)) == ALGORITHMS


def test_help(capsys):
    assert main(["tune", "--help"]) == 0
    help_text = capsys.readouterr().out
    for option in ("--trials", "--steps-per-trial", "--eval-every", "--eval-episodes", "--resume", "--timeout"):
        assert option in help_text


def test_a_tiny_study_writes_the_best_hyperparameters_with_its_budget(study_folder, capsys):
    assert {STUDY_FILE, TRIALS_FILE, BEST_FILE, RUN_RECORD} <= {path.name for path in study_folder.iterdir()}
    study = load_study(study_folder)
    assert [trial.state for trial in study.trials] == [optuna.trial.TrialState.COMPLETE] * 2
    best = study.best_trial
    assert best.user_attrs["steps"] >= STEPS
    steps = [step for trial in study.trials for step, _ in trial.user_attrs["evaluations"]]
    assert EVAL_EVERY in steps and all(step in (EVAL_EVERY, STEPS) for step in steps)  # the same steps in every trial
    assert best.user_attrs["evaluations"][-1][0] == STEPS
    assert best.value == best.user_attrs["evaluations"][-1][1]

    text = (study_folder / BEST_FILE).read_text()
    header = [line for line in text.splitlines() if line.startswith("#")]
    joined = " ".join(line.lstrip("# ").strip() for line in header)
    for expected in ("TUNING BUDGET", "TPESampler(seed=0", "MedianPruner(n_startup_trials=5, n_warmup_steps=256",
                     "2 run: 2 completed, 0 pruned, 0 failed (asked: --trials 2)", "512 environment steps (8 envs)",
                     "on 8 validation seasons, seeds 1,500,000 to 1,500,007", "wall time:", "CPUs", "date:",
                     f"trial #{best.number}: {best.value:.2f}%", "command:", "--steps-per-trial 512",
                     "--env-kwargs horizon=5 --hyperparams best.yml"):
        assert expected in joined, expected

    # pricegym train reads it, and finds the best trial's hyperparameters
    loaded = load_hyperparams("ppo", MARKDOWN_ID, study_folder / BEST_FILE)
    assert loaded == best.user_attrs["hyperparams"]
    for name in ("n_steps", "n_epochs", "learning_rate", "gae_lambda", "gamma", "clip_range", "ent_coef"):
        assert loaded[name] == best.params[name]
    assert loaded["n_envs"] == 8 and loaded["features_extractor"] == "layout"
    hyper = resolve_hyperparams("ppo", MARKDOWN_ID, loaded, OPTIONS)
    assert hyper.policy_kwargs["net_arch"] == [best.params["net_width"]] * 2
    assert hyper.policy_kwargs["features_extractor_kwargs"]["embedding_projection"] == best.params[
        "embedding_projection"]

    with (study_folder / TRIALS_FILE).open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["number"]) for row in rows] == [0, 1]
    assert float(rows[best.number]["value"]) == pytest.approx(best.value)
    record = json.loads((study_folder / RUN_RECORD).read_text())
    assert record["command"] == "tune" and record["status"] == "finished"
    assert record["validation_seeds"] == [VALIDATION_SEED, VALIDATION_SEED + 8]
    assert record["trials"] == {"run": 2, "completed": 2, "pruned": 0, "failed": 0}
    assert "optuna" in record["versions"] and "commit" in record["git"]


def test_the_best_hyperparameters_train(study_folder, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--algo", "ppo", "--env", MARKDOWN_ID, "--env-kwargs", "horizon=5", "--hyperparams",
                 str(study_folder / BEST_FILE), "--steps", "512", "--device", "cpu", "--out", str(out),
                 "--quiet"]) == 0
    assert (out / "model.zip").is_file()


def test_validation_seeds_are_disjoint_from_training_and_final_evaluation():
    assert VALIDATION_SEED > HELD_OUT_SEED + 200_000  # far above the final evaluations' seeds (a few hundred)


def test_resume_adds_trials_to_the_same_study(tiny_base, tmp_path, capsys):
    out = tmp_path / "study"
    assert main(tune_args(tiny_base, out, "--trials", "1")) == 0
    assert main(tune_args(tiny_base, out, "--trials", "2", "--resume")) == 0
    study = load_study(out)
    assert len(study.trials) == 2 and study.trials[0].params != study.trials[1].params
    record = json.loads((out / RUN_RECORD).read_text())
    assert len(record["sessions"]) == 2 and record["config"]["trials"] == 2
    assert "resumed (1):" in (out / BEST_FILE).read_text()
    assert len((out / TRIALS_FILE).read_text().splitlines()) == 3
    capsys.readouterr()
    # the study's budget per trial cannot change, and a full study says how to add trials
    assert main(tune_args(tiny_base, out, "--trials", "3", "--resume", "--eval-episodes", "4")) == 1
    assert main(tune_args(tiny_base, out, "--trials", "2", "--resume")) == 1
    lines = capsys.readouterr().err.splitlines()
    assert "the study was started with 8" in lines[-2] and "already has 2 finished trials" in lines[-1]


def test_the_timeout_stops_starting_trials(tiny_base, tmp_path, capsys):
    out = tmp_path / "study"
    assert main(tune_args(tiny_base, out, "--trials", "3", "--timeout", "0.001")) == 0
    assert len(load_study(out).trials) == 1
    assert "1 run: 1 completed, 0 pruned, 0 failed (asked: --trials 3, --timeout 0.001 s)" in (
        out / BEST_FILE).read_text()


def tiny_setup() -> TrialSetup:
    base = load_hyperparams("ppo", MARKDOWN_ID) | {"n_envs": 8, "policy_kwargs": "dict(net_arch=[16])"}
    seeds = range(VALIDATION_SEED, VALIDATION_SEED + 8)
    return TrialSetup("ppo", MARKDOWN_ID, OPTIONS, base, STEPS, EVAL_EVERY, seeds,
                      optimum_returns(MARKDOWN_ID, seeds, **OPTIONS), device="cpu")


def study_with_completed(value: float, trials: int = 5) -> optuna.Study:
    """An in-memory study as the tuner makes it, with ``trials`` completed trials that scored ``value`` at each
    evaluation step."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(direction="maximize", pruner=make_pruner(EVAL_EVERY),
                                sampler=optuna.samplers.RandomSampler(0))
    for _ in range(trials):
        study.add_trial(optuna.trial.create_trial(value=value, intermediate_values={EVAL_EVERY: value, STEPS: value}))
    return study


def fake_callback(trial, value: float) -> TrialEvalCallback:
    callback = TrialEvalCallback(trial, MARKDOWN_ID, OPTIONS, range(8), np.ones(8), EVAL_EVERY, STEPS)
    callback.evaluate = lambda: {"percent_of_optimum": value}
    return callback


@pytest.mark.parametrize(("value", "pruned"), [(50.0, True), (90.0, False)])
def test_the_callback_prunes_a_trial_below_the_median(value, pruned):
    trial = study_with_completed(80.0).ask()
    callback = fake_callback(trial, value)
    callback.num_timesteps = 128  # before the first evaluation: nothing
    callback._on_rollout_start()
    assert callback.reported == []
    callback.num_timesteps = 320  # past it: reported at the evaluation step, as every trial is
    if pruned:
        with pytest.raises(optuna.TrialPruned):
            callback._on_rollout_start()
    else:
        callback._on_rollout_start()
    assert callback.reported == [[EVAL_EVERY, value]]
    assert trial.storage.get_trial(trial._trial_id).intermediate_values == {EVAL_EVERY: value}


def test_no_pruning_before_enough_trials_completed():
    callback = fake_callback(study_with_completed(80.0, trials=4).ask(), 10.0)
    callback.num_timesteps = 320
    callback._on_rollout_start()
    callback._on_training_end()
    assert callback.reported == [[EVAL_EVERY, 10.0], [STEPS, 10.0]]


@pytest.mark.parametrize(("others", "state"), [(1000.0, "PRUNED"), (-1000.0, "COMPLETE")])
def test_a_training_trial_below_the_median_is_pruned(others, state):
    """Against completed trials that scored an impossible 1000% a real trial is pruned at its first evaluation,
    before the end of its steps; against -1000% it completes."""
    study = study_with_completed(others)
    study.enqueue_trial({"n_steps": 16})  # 128-step rollouts: an update, then an evaluation, past step 256
    study.optimize(lambda trial: run_trial(trial, tiny_setup()), n_trials=1)
    trial = study.trials[-1]
    assert trial.state.name == state
    if state == "PRUNED":
        assert trial.user_attrs["steps"] < STEPS and len(trial.user_attrs["evaluations"]) == 1
    else:
        assert trial.user_attrs["steps"] >= STEPS and len(trial.user_attrs["evaluations"]) == 2


def test_sampled_batches_divide_the_rollout_and_the_base_is_kept():
    base = {"n_envs": 8, "gamma": 0.999, "vf_coef": 0.4, "features_extractor": "layout",
            "policy_kwargs": "dict(net_arch=[64, 64, 64], activation_fn=nn.Tanh)"}
    trial = optuna.trial.FixedTrial({"n_steps": 16, "batch_size": 4096, "learning_rate": 1e-3, "n_epochs": 3,
                                     "gae_lambda": 0.95, "gamma": 0.95, "clip_range": 0.2, "ent_coef": 1e-4,
                                     "net_width": 128,
                                     "embedding_projection": 8})
    raw = sample_ppo(trial, base)
    assert raw["batch_size"] == 128 and raw["gamma"] == 0.95 and raw["vf_coef"] == 0.4
    hyper = resolve_hyperparams("ppo", MARKDOWN_ID, raw, OPTIONS)
    import torch

    assert hyper.policy_kwargs["net_arch"] == [128, 128, 128]
    assert hyper.policy_kwargs["activation_fn"] is torch.nn.Tanh
    assert hyper.policy_kwargs["features_extractor_kwargs"]["embedding_projection"] == 8


@pytest.mark.parametrize(("change", "message"), [
    ({"--algo": "dqn"}, "no search space for algorithm 'dqn'"),
    ({"--env": "pricegym/Nope-v0"}, "unknown environment"),
    ({"--trials": "0"}, "argument --trials"),
    ({"--steps-per-trial": "300"}, "smaller than one rollout"),
    ({"--env-kwargs": "horizon=-3"}, "horizon"),
    ({"--resume": None}, "cannot resume"),
])
def test_bad_input_gives_one_line_and_leaves_no_folder(tiny_base, tmp_path, capsys, change, message):
    out = tmp_path / "study"
    args = tune_args(tiny_base, out, "--trials", "1")
    for option, value in change.items():
        if option in args:
            args[args.index(option) + 1] = value
        else:
            args.append(option)
    assert main(args) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("pricegym: error:") and message in lines[0], lines
    assert not out.exists()


def test_an_existing_folder_needs_resume_or_overwrite(tiny_base, tmp_path, capsys):
    out = tmp_path / "study"
    out.mkdir()
    (out / RUN_RECORD).write_text("{}")
    assert main(tune_args(tiny_base, out, "--trials", "1")) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and "pass --resume to continue its study, --overwrite" in lines[0]
    assert [path.name for path in out.iterdir()] == [RUN_RECORD]
    (out / RUN_RECORD).unlink()
    (out / "notes.txt").write_text("mine")
    assert main(tune_args(tiny_base, out, "--trials", "1", "--overwrite")) == 1
    assert "holds no run.json" in capsys.readouterr().err
    assert [path.name for path in out.iterdir()] == ["notes.txt"]


def test_best_yml_is_plain_rl_zoo_yaml(study_folder):
    loaded = yaml.safe_load((study_folder / BEST_FILE).read_text())
    assert list(loaded) == [MARKDOWN_ID]
