"""``pricegym train`` refuses bad networks settings in the hyperparameters (the policy, policy_kwargs, the features
extractor and its kwargs, the algorithm's arguments SB3 checks) with one line and exit status 1, before training and
before the run folder is written; errors that are not the user's keep their traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pricegym.agents import hyperparameters
from pricegym.agents.hyperparameters import build_model, resolve_hyperparams
from pricegym.cli import main
from pricegym.envs import MARKDOWN_ID, make_vec
from pricegym.errors import ConfigError

HEADER = "pricegym/Markdown-v0:\n  n_envs: 2\n  n_steps: 16\n  batch_size: 32\n"
FAST = {"observe_embeddings": False}
"""Options of an environment built in well under a second (no text encoder to load); the extractor's checks are
the same with embeddings."""
FAST_ARGUMENTS = ["--env-kwargs", "observe_embeddings=false"]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def _refused(tmp_path: Path, capsys, hyperparams: str, *extra: str) -> str:
    """The one error line of ``pricegym train`` with these hyperparameters (exit status 1, no run folder)."""
    path = tmp_path / "hyper.yml"
    path.write_text(HEADER + hyperparams)
    out = tmp_path / "run"
    assert main(["train", "--algo", "ppo", "--env", MARKDOWN_ID, "--hyperparams", str(path), "--steps", "32",
                 "--device", "cpu", "--out", str(out), "--quiet", *FAST_ARGUMENTS, *extra]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and lines[0].startswith("pricegym: error: "), lines
    assert "Traceback" not in lines[0]
    assert not out.exists()
    return lines[0]


@pytest.mark.parametrize("hyperparams, messages", [
    ("  features_extractor: layout\n"
     "  policy_kwargs: \"dict(features_extractor_kwargs=dict(embedding_projection=0))\"\n",
     ["features_extractor: layout", "LayoutFeaturesExtractor: embedding_projection must be a positive integer, got 0",
      "fix features_extractor_kwargs in policy_kwargs (LayoutFeaturesExtractor takes embedding_projection, "
      "numeric_hidden)"]),
    ("  features_extractor: layout\n  policy_kwargs: \"dict(features_extractor_kwargs=dict(bogus=3))\"\n",
     ["refuses features_extractor_kwargs ['bogus']", "unexpected keyword argument 'bogus'"]),
    ("  policy_kwargs: \"dict(features_extractor_kwargs=dict(width=3))\"\n",
     ["FlattenExtractor refuses features_extractor_kwargs ['width']", "FlattenExtractor takes no keyword"]),
    ("  policy_kwargs: \"dict(bogus=3)\"\n",
     ["policy_kwargs = 'dict(bogus=3)'", "unknown key(s) ['bogus']; MlpPolicy takes net_arch, activation_fn"]),
    ("  policy_kwargs: \"dict(net_arch=['wide'])\"\n",
     ["ppo refuses its hyperparameters", "TypeError", "fix policy_kwargs = \"dict(net_arch=['wide'])\""]),
    ("  policy_kwargs: \"dict(activation_fn=3)\"\n", ["'int' object is not callable", "fix policy_kwargs"]),
    ("  policy: FooPolicy\n", ["unknown ppo policy 'FooPolicy'", "CnnPolicy, MlpPolicy, MultiInputPolicy"]),
    ("  policy: CnnPolicy\n", ["CnnPolicy", "needs image observations", "use policy: MlpPolicy"]),
    ("  policy: MultiInputPolicy\n", ["needs dict observations"]),
    ("  n_steps: 0\n", ["AssertionError: `n_steps * n_envs` must be greater than 1", "fix the hyperparameter this "
                                                                                     "names"]),
    ("  learning_rate: 3e-4\n", ["learning_rate must be a number or lin_<number>", "write 0.0003"]),
    ("  clip_range: wide\n", ["clip_range must be a number or lin_<number>", "got 'wide'"]),
])
def test_bad_networks_settings_are_one_line_before_training(tmp_path, capsys, hyperparams, messages):
    line = _refused(tmp_path, capsys, hyperparams)
    assert all(message in line for message in messages), line
    assert str(tmp_path / "hyper.yml") in line or "unknown ppo policy" in line or "must be a number" in line


def test_overwrite_keeps_the_earlier_run_when_the_model_cannot_be_built(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    record = {"command": "train", "config": {"env_id": MARKDOWN_ID, "algo": "ppo"}}
    (out / "run.json").write_text(json.dumps(record))
    (out / "model.zip").write_bytes(b"an earlier model")
    path = tmp_path / "hyper.yml"
    path.write_text(HEADER + "  features_extractor: layout\n"
                    "  policy_kwargs: \"dict(features_extractor_kwargs=dict(numeric_hidden=-1))\"\n")
    assert main(["train", "--algo", "ppo", "--env", MARKDOWN_ID, "--hyperparams", str(path), "--steps", "32",
                 "--device", "cpu", "--out", str(out), "--quiet", "--overwrite", *FAST_ARGUMENTS]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "numeric_hidden must be a positive integer" in lines[0], lines
    assert sorted(path.name for path in out.iterdir()) == ["model.zip", "run.json"]
    assert json.loads((out / "run.json").read_text()) == record


def test_a_layout_of_other_options_is_refused_by_name():
    """The API: hyperparameters resolved for two products, a VecEnv of one (the layout does not fit)."""
    raw = {"features_extractor": "layout", "n_steps": 16, "batch_size": 32}
    hyper = resolve_hyperparams("ppo", MARKDOWN_ID, raw, {**FAST, "n_products": 2})
    env = make_vec(MARKDOWN_ID, 2, seed=0, **FAST)
    with pytest.raises(ConfigError, match="the observation layout does not match the observation space.*"
                                          "fix features_extractor_kwargs"):
        build_model("ppo", hyper, raw, "test.yml", env, seed=0, device="cpu")
    fitting = resolve_hyperparams("ppo", MARKDOWN_ID, raw, FAST)
    model = build_model("ppo", fitting, raw, "test.yml", env, seed=0, device="cpu")
    assert type(model.policy.features_extractor).__name__ == "LayoutFeaturesExtractor"


def test_errors_that_are_not_the_users_keep_their_type(monkeypatch):
    """Only what the construction raises on the user's values becomes a ConfigError; a bug stays a bug."""
    import stable_baselines3 as sb3

    class Broken(sb3.PPO):
        def __init__(self, *args, **kwargs) -> None:
            raise KeyError("a bug, not the user's hyperparameters")

    raw = {"n_steps": 16, "batch_size": 32}
    hyper = resolve_hyperparams("ppo", MARKDOWN_ID, raw, {})
    monkeypatch.setattr(hyperparameters, "algorithm_class", lambda algo: Broken)
    with pytest.raises(KeyError, match="a bug"):
        build_model("ppo", hyper, raw, "test.yml", make_vec(MARKDOWN_ID, 2, seed=0, **FAST), seed=0, device="cpu")


@pytest.mark.parametrize("arguments, message", [
    (["--algo", "reinforce", "--env", MARKDOWN_ID], "unknown algorithm 'reinforce'"),
    (["--algo", "ppo", "--env", "pricegym/Nope-v0"], "unknown environment 'pricegym/Nope-v0'"),
    (["--algo", "ppo", "--env", MARKDOWN_ID, "--env-kwargs", "bogus=1"], "unknown option(s) ['bogus']"),
    (["--algo", "dqn", "--env", MARKDOWN_ID, *FAST_ARGUMENTS], "--env-kwargs action_space=ladder"),
])
def test_the_other_bad_inputs_are_one_line_even_with_the_layout_extractor(tmp_path, capsys, arguments, message):
    """With ``features_extractor: layout`` (which builds the environment while resolving the hyperparameters)."""
    path = tmp_path / "hyper.yml"
    path.write_text("pricegym/Markdown-v0:\n  features_extractor: layout\n"
                    "pricegym/Competition-v0:\n  features_extractor: layout\n")
    out = tmp_path / "run"
    assert main(["train", *arguments, "--hyperparams", str(path), "--steps", "32", "--out", str(out), "--quiet"]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and lines[0].startswith("pricegym: error:") and message in lines[0], lines
    assert not out.exists()
