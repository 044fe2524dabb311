"""``pricegym train`` (pricegym.agents.training): run folder, checkpoints, resume after a kill, one-line errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pricegym.agents.hyperparameters import ALGORITHMS, HYPERPARAMS_DIR, load_hyperparams, resolve_hyperparams
from pricegym.agents.training import TrainConfig, latest_checkpoint, train
from pricegym.cli import main
from pricegym.envs import ENTRY_POINTS, MARKDOWN_ID
from pricegym.train_commands import ALGORITHMS as CLI_ALGORITHMS
from pricegym.train_commands import ENV_IDS

REPO = Path(__file__).resolve().parents[2]

TINY_HYPERPARAMS = """
pricegym/Markdown-v0:
  n_envs: 4
  n_steps: 32
  batch_size: 64
  n_epochs: 1
  policy_kwargs: "dict(net_arch=[16])"
pricegym/Competition-v0:
  n_envs: 4
  n_steps: 32
  batch_size: 64
  n_epochs: 1
  policy_kwargs: "dict(net_arch=[16])"
"""

OFF_POLICY_TINY = """
pricegym/Markdown-v0:
  n_envs: 4
  buffer_size: 2000
  learning_starts: 64
  batch_size: 32
  gradient_steps: 1
  policy_kwargs: "dict(net_arch=[16])"
"""


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hyperparams") / "tiny.yml"
    path.write_text(TINY_HYPERPARAMS)
    return path


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory, tiny) -> Path:
    """A finished 512-step PPO run with checkpoints every 128 steps."""
    out = tmp_path_factory.mktemp("runs") / "ppo"
    assert main(["train", "--algo", "ppo", "--env", MARKDOWN_ID, "--hyperparams", str(tiny), "--steps", "512",
                 "--seed", "3", "--checkpoint-freq", "128", "--device", "cpu", "--out", str(out), "--quiet"]) == 0
    return out


def test_the_cli_lists_mirror_the_trainer():
    assert CLI_ALGORITHMS == ALGORITHMS
    assert set(ENV_IDS) == set(ENTRY_POINTS)


def test_every_default_hyperparameter_file_resolves_for_every_environment():
    for algo in ALGORITHMS:
        assert (HYPERPARAMS_DIR / f"{algo}.yml").is_file()
        for env_id in ENTRY_POINTS:
            raw = load_hyperparams(algo, env_id)
            hyper = resolve_hyperparams(algo, env_id, raw, {})
            assert hyper.n_envs >= 1 and hyper.n_timesteps >= 1 and hyper.policy == "MlpPolicy"
            assert "not tuned yet" in (HYPERPARAMS_DIR / f"{algo}.yml").read_text().lower()


def test_the_layout_ppo_file_resolves_for_every_environment_with_the_extractor():
    for env_id in ENTRY_POINTS:
        raw = load_hyperparams("ppo", env_id, HYPERPARAMS_DIR / "ppo_layout.yml")
        hyper = resolve_hyperparams("ppo", env_id, raw, {})
        assert hyper.n_envs == 256 and raw["features_extractor"] == "layout"


def test_a_short_ppo_run_writes_model_record_tensorboard_and_checkpoints(ppo_run):
    from stable_baselines3 import PPO

    assert (ppo_run / "model.zip").is_file() and (ppo_run / "vecnormalize.pkl").is_file()
    assert PPO.load(ppo_run / "model.zip", device="cpu").num_timesteps >= 512
    record = json.loads((ppo_run / "run.json").read_text())
    assert record["command"] == "train" and record["status"] == "finished" and record["seed"] == 3
    assert record["config"]["env_id"] == MARKDOWN_ID and record["config"]["n_envs"] == 4
    assert record["hyperparams"]["gamma"] == 1.0 and record["hyperparams"]["n_steps"] == 32  # defaults + overrides
    assert {"python", "stable-baselines3", "torch", "tensorboard"} <= set(record["versions"])
    assert "commit" in record["git"] and isinstance(record["argv"], list)
    assert list((ppo_run / "tensorboard").glob("PPO_1/events.out.tfevents.*"))
    steps, _ = latest_checkpoint(ppo_run)
    assert steps == 512
    assert (ppo_run / "checkpoints" / "model_128_steps.zip").is_file()
    assert (ppo_run / "checkpoints" / "model_vecnormalize_128_steps.pkl").is_file()
    assert not list(ppo_run.rglob(".*.partial"))


SLOW_TRAIN = """
import sys, time
from pricegym.envs.vector import BatchedVecEnv
step_wait = BatchedVecEnv.step_wait
def slow_step_wait(self):
    time.sleep(0.01)
    return step_wait(self)
BatchedVecEnv.step_wait = slow_step_wait
from pricegym.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_run_killed_mid_training_resumes_to_the_requested_steps(tmp_path, tiny):
    """SIGKILL after the first checkpoint (the env is slowed so that the kill lands mid-run), then --resume."""
    from stable_baselines3 import PPO

    out = tmp_path / "run"
    command = ["train", "--algo", "ppo", "--env", MARKDOWN_ID, "--hyperparams", str(tiny), "--steps", "1024",
               "--n-envs", "4", "--checkpoint-freq", "128", "--device", "cpu", "--torch-threads", "1",
               "--out", str(out), "--quiet"]
    process = subprocess.Popen([sys.executable, "-c", SLOW_TRAIN, *command], cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while latest_checkpoint(out) is None and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert latest_checkpoint(out) is not None, process.stderr.read().decode() if process.poll() else "timeout"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not (out / "model.zip").exists()  # killed before the end
    killed_at, _ = latest_checkpoint(out)
    assert killed_at < 1024
    assert json.loads((out / "run.json").read_text())["status"] == "running"

    assert main(["train", "--algo", "ppo", "--env", MARKDOWN_ID, "--out", str(out), "--resume", "--quiet"]) == 0
    model = PPO.load(out / "model.zip", device="cpu")
    assert model.num_timesteps >= 1024
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "finished" and record["num_timesteps"] == model.num_timesteps
    assert record["resumes"][0]["from_step"] >= killed_at
    assert len(list((out / "tensorboard").iterdir())) == 1  # the resumed run logs into the same curve


@pytest.mark.parametrize("algo, env_kwargs", [("a2c", {}), ("a2c", {"action_space": "ladder"}),
                                              ("dqn", {"action_space": "ladder"}), ("sac", {}), ("td3", {})])
def test_other_algorithms_train_a_few_hundred_steps(tmp_path, algo, env_kwargs):
    hyperparams = tmp_path / "tiny.yml"
    hyperparams.write_text(TINY_HYPERPARAMS if algo == "a2c" else OFF_POLICY_TINY)
    if algo == "a2c":
        hyperparams.write_text("pricegym/Markdown-v0:\n  n_envs: 4\n  n_steps: 8\n"
                               "  policy_kwargs: \"dict(net_arch=[16])\"\n")
    result = train(TrainConfig(algo=algo, env_id=MARKDOWN_ID, output_dir=tmp_path / "run", env_kwargs=env_kwargs,
                               hyperparams_file=hyperparams, steps=256, device="cpu"))
    assert result.num_timesteps >= 256 and result.model_path.is_file()
    assert (tmp_path / "run" / "run.json").is_file()


SMALL_ON_POLICY = 'n_envs: 4\n  n_steps: 16\n  policy_kwargs: "dict(net_arch=[16])"\n'
SMALL_OFF_POLICY = ('n_envs: 4\n  buffer_size: 1000\n  learning_starts: 32\n  batch_size: 16\n  gradient_steps: 1\n'
                    '  policy_kwargs: "dict(net_arch=[16])"\n')


@pytest.mark.parametrize("env_id", ["pricegym/Competition-v0", "pricegym/PersonalizedDiscount-v0"])
@pytest.mark.parametrize("algo", ALGORITHMS)
def test_each_algorithm_trains_on_the_other_environments(tmp_path, env_id, algo):
    hyperparams = tmp_path / "small.yml"
    body = SMALL_OFF_POLICY if algo in ("dqn", "sac", "td3") else SMALL_ON_POLICY
    hyperparams.write_text(f"{env_id}:\n  {body}" + ("  batch_size: 32\n" if algo == "ppo" else ""))
    env_kwargs = {"action_space": "ladder"} if algo == "dqn" else {}
    result = train(TrainConfig(algo=algo, env_id=env_id, output_dir=tmp_path / "run", env_kwargs=env_kwargs,
                               hyperparams_file=hyperparams, steps=128, device="cpu"))
    assert result.num_timesteps >= 128 and result.model_path.is_file()


# --- bad input: one line, exit 1, before training starts ------------------------------------------------------


@pytest.mark.parametrize("arguments, message", [
    (["--algo", "reinforce", "--env", MARKDOWN_ID], "unknown algorithm 'reinforce'"),
    (["--algo", "ppo", "--env", "pricegym/Nope-v0"], "unknown environment 'pricegym/Nope-v0'"),
    (["--algo", "ppo", "--env", MARKDOWN_ID, "--env-kwargs", "bogus=1"], "unknown option(s) ['bogus']"),
    (["--algo", "ppo", "--env", MARKDOWN_ID, "--env-kwargs", "horizon=-3"], "horizon must be"),
    (["--algo", "dqn", "--env", MARKDOWN_ID], "--env-kwargs action_space=ladder"),
    (["--algo", "sac", "--env", MARKDOWN_ID, "--env-kwargs", "action_space=ladder"], "action_space=box"),
    (["--algo", "ppo", "--env", MARKDOWN_ID, "--hyperparams", "OUT/missing.yml"], "does not exist"),
    (["--algo", "ppo", "--env", MARKDOWN_ID, "--hyperparams", "HYPER"], "unknown ppo hyperparameter(s) ['n_step']"),
    (["--algo", "ppo", "--env", MARKDOWN_ID, "--resume"], "no such run folder"),
    (["--algo", "ppo", "--env", MARKDOWN_ID, "--device", "tpu"], "unknown device"),
])
def test_bad_input_is_one_line_and_exit_1_before_training(tmp_path, capsys, arguments, message):
    (tmp_path / "typo.yml").write_text("pricegym/Markdown-v0:\n  n_step: 32\n")
    arguments = [argument.replace("OUT", str(tmp_path)).replace("HYPER", str(tmp_path / "typo.yml"))
                 for argument in arguments]
    assert main(["train", *arguments, "--steps", "64", "--out", str(tmp_path / "run"), "--quiet"]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and lines[0].startswith("pricegym: error:") and message in lines[0], lines
    assert not (tmp_path / "run").exists()


def test_a_resume_folder_of_another_environment_or_algorithm_is_refused(ppo_run, capsys):
    for arguments, message in ((["--algo", "ppo", "--env", "pricegym/Competition-v0"], "it is a run of"),
                               (["--algo", "a2c", "--env", MARKDOWN_ID], "it is a ppo run"),
                               (["--algo", "ppo", "--env", MARKDOWN_ID, "--seed", "4"], "started with 3")):
        assert main(["train", *arguments, "--out", str(ppo_run), "--resume", "--quiet"]) == 1
        lines = error_lines(capsys.readouterr().err)
        assert len(lines) == 1 and message in lines[0], lines


def test_an_existing_run_is_neither_reused_nor_replaced_without_being_asked(ppo_run, capsys):
    before = (ppo_run / "run.json").read_text()
    assert main(["train", "--algo", "ppo", "--env", MARKDOWN_ID, "--out", str(ppo_run), "--quiet"]) == 1
    assert "pass --resume to continue it, --overwrite" in capsys.readouterr().err
    assert (ppo_run / "run.json").read_text() == before


def test_an_out_folder_holding_something_else_is_refused_even_with_overwrite(tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("my own file")
    for extra in ([], ["--overwrite"]):
        assert main(["train", "--algo", "ppo", "--env", MARKDOWN_ID, "--out", str(tmp_path / "mine"), "--quiet",
                     *extra]) == 1
        lines = error_lines(capsys.readouterr().err)
        assert len(lines) == 1 and "holds no run.json" in lines[0], lines
    assert (tmp_path / "mine" / "notes.txt").read_text() == "my own file"
    assert main(["train", "--algo", "ppo", "--env", MARKDOWN_ID, "--out", str(tmp_path / "mine"), "--resume",
                 "--quiet"]) == 1
    assert "not a pricegym train run" in capsys.readouterr().err


def test_overwrite_replaces_an_earlier_run(tmp_path, tiny):
    out = tmp_path / "run"
    common = ["train", "--algo", "ppo", "--env", MARKDOWN_ID, "--hyperparams", str(tiny), "--device", "cpu",
              "--out", str(out), "--quiet"]
    assert main([*common, "--steps", "256", "--checkpoint-freq", "128"]) == 0
    assert main([*common, "--steps", "128", "--seed", "1", "--overwrite"]) == 0
    assert json.loads((out / "run.json").read_text())["seed"] == 1
    assert not (out / "checkpoints" / "model_256_steps.zip").exists()


def test_the_layout_features_extractor_is_merged_into_policy_kwargs(tmp_path):
    from pricegym.agents.features import LayoutFeaturesExtractor

    hyperparams = tmp_path / "layout.yml"
    hyperparams.write_text("pricegym/Markdown-v0:\n  n_envs: 4\n  n_steps: 32\n  batch_size: 64\n  n_epochs: 1\n"
                           "  features_extractor: layout\n"
                           "  policy_kwargs: \"dict(net_arch=[16], "
                           "features_extractor_kwargs=dict(numeric_hidden=8))\"\n")
    result = train(TrainConfig(algo="ppo", env_id=MARKDOWN_ID, output_dir=tmp_path / "run",
                               hyperparams_file=hyperparams, steps=128, device="cpu"))
    from stable_baselines3 import PPO

    extractor = PPO.load(result.model_path, device="cpu").policy.features_extractor
    assert isinstance(extractor, LayoutFeaturesExtractor)
    assert extractor.numeric[0].out_features == 8  # the file's kwargs, merged with the layout


def test_env_kwargs_values_are_read_as_yaml():
    from pricegym.train_commands import parse_env_kwargs

    assert parse_env_kwargs([("horizon", "30"), ("action_space", "ladder"), ("observe_embeddings", "false"),
                             ("price_range", "[0.5, 1.2]")]) == {
        "horizon": 30, "action_space": "ladder", "observe_embeddings": False, "price_range": [0.5, 1.2]}


def test_held_out_evaluation_logs_percent_of_optimum(tmp_path, tiny):
    import pandas as pd

    train(TrainConfig(algo="ppo", env_id=MARKDOWN_ID, output_dir=tmp_path / "run", hyperparams_file=tiny,
                      steps=256, device="cpu", eval_freq=128, eval_episodes=4))
    evaluations = pd.read_csv(tmp_path / "run" / "eval" / "evaluations.csv")
    assert list(evaluations["timesteps"]) == [128, 256]
    assert ((evaluations["percent_of_optimum"] > 0) & (evaluations["percent_of_optimum"] < 110)).all()


def test_an_off_policy_run_resumes_with_its_replay_buffer(tmp_path):
    from stable_baselines3 import DQN

    hyperparams = tmp_path / "tiny.yml"
    hyperparams.write_text(OFF_POLICY_TINY)
    out = tmp_path / "run"
    config = TrainConfig(algo="dqn", env_id=MARKDOWN_ID, output_dir=out, env_kwargs={"action_space": "ladder"},
                         hyperparams_file=hyperparams, steps=256, checkpoint_freq=128, device="cpu")
    train(config)
    assert (out / "checkpoints" / "replay_buffer.pkl").is_file()
    (out / "model.zip").unlink()  # as if killed after the last checkpoint: resume from it, to more steps
    result = train(TrainConfig(algo="dqn", env_id=MARKDOWN_ID, output_dir=out, steps=384, resume=True,
                               device="cpu"))
    assert result.resumed_from == 256 and result.num_timesteps >= 384
    assert DQN.load(out / "model.zip", device="cpu").num_timesteps >= 384


def test_overwrite_keeps_the_earlier_run_when_the_new_one_is_refused(ppo_run, capsys):
    before = (ppo_run / "run.json").read_text()
    assert main(["train", "--algo", "dqn", "--env", MARKDOWN_ID, "--out", str(ppo_run), "--overwrite",
                 "--quiet"]) == 1
    assert "action_space=ladder" in capsys.readouterr().err
    assert (ppo_run / "run.json").read_text() == before and (ppo_run / "model.zip").is_file()
