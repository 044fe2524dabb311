"""rl_zoo3 (the optional ``zoo`` extra) trains on pricegym's environments and reads pricegym's hyperparameters.

The tests that run rl_zoo3 are skipped where it is not installed (CI installs only ``.[dev]``); the tests of
:mod:`pricegym.agents.zoo_hyperparams` itself run everywhere.
"""

from __future__ import annotations

import argparse
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from pricegym.agents.hyperparameters import HYPERPARAMS_DIR
from pricegym.envs import ENTRY_POINTS, MARKDOWN_ID
from pricegym.envs.observation import FeatureLayout
from pricegym.errors import ConfigError

ZOO_MODULE = "pricegym.agents.zoo_hyperparams"
TIMEOUT_S = 300


def _zoo_train(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m rl_zoo3.train --algo ppo --env pricegym/Markdown-v0 --gym-packages pricegym.envs ARGS``,
    logging under ``tmp_path``, no evaluation, one torch thread (two oversubscribe a loaded 2-core machine);
    skips the test where rl_zoo3 is not installed."""
    pytest.importorskip("rl_zoo3")
    command = [sys.executable, "-m", "rl_zoo3.train", "--algo", "ppo", "--env", MARKDOWN_ID,
               "--gym-packages", "pricegym.envs", "-f", str(tmp_path / "logs"), "--seed", "0", "--eval-freq", "-1",
               "--num-threads", "1", *args]
    return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT_S)


def _saved_model(tmp_path: Path, completed: subprocess.CompletedProcess[str]) -> Path:
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    models = sorted((tmp_path / "logs" / "ppo").glob("pricegym-Markdown-v0_*/pricegym-Markdown-v0.zip"))
    assert len(models) == 1, sorted(str(path) for path in (tmp_path / "logs").rglob("*"))
    return models[0]


def test_rl_zoo_trains_ppo_with_its_default_hyperparameters(tmp_path: Path) -> None:
    """Issue 14's command: rl_zoo3's own ``default:`` PPO entry (one rollout of 2,048 steps for -n 512)."""
    model_path = _saved_model(tmp_path, _zoo_train(tmp_path, "-n", "512"))

    from stable_baselines3 import PPO

    model = PPO.load(model_path, device="cpu")
    assert model.num_timesteps >= 512 and model.n_steps == 2048  # SB3's default, as rl_zoo3's default entry


def test_rl_zoo_trains_with_the_layout_extractor_from_the_python_config(tmp_path: Path) -> None:
    """``-conf pricegym.agents.zoo_hyperparams``: ppo_layout.yml with the layout extractor resolved (smaller
    rollouts than the file's 256 x 32 steps, which rl_zoo3 steps one Python environment at a time)."""
    completed = _zoo_train(tmp_path, "-conf", ZOO_MODULE, "-n", "64",
                           "--hyperparams", "n_envs:4", "n_steps:16", "batch_size:64")
    model_path = _saved_model(tmp_path, completed)

    from stable_baselines3 import PPO

    from pricegym.agents.features import LayoutFeaturesExtractor

    model = PPO.load(model_path, device="cpu")
    assert isinstance(model.policy.features_extractor, LayoutFeaturesExtractor)
    assert model.policy.features_extractor.n_items >= 1
    assert model.n_epochs == 4  # from ppo_layout.yml


ZOO_ENV_KWARGS = {"dqn": {"action_space": "ladder"}}
"""What rl_zoo3 needs on the command line (``--env-kwargs``) for an algorithm's action space."""


@pytest.mark.parametrize("algo", ["a2c", "dqn", "ppo", "sac", "td3"])
def test_rl_zoo_builds_the_model_of_every_pricegym_yaml(algo: str, tmp_path: Path) -> None:
    """rl_zoo3 reads ``-conf agents/hyperparams/<algo>.yml`` for every environment id and builds the model
    (no training): every key of the file is one rl_zoo3 knows."""
    pytest.importorskip("rl_zoo3")
    from rl_zoo3.exp_manager import ExperimentManager

    for env_id in ENTRY_POINTS:
        manager = ExperimentManager(argparse.Namespace(), algo, env_id, str(tmp_path / "logs"), n_timesteps=8,
                                    eval_freq=-1, env_kwargs=ZOO_ENV_KWARGS.get(algo), seed=0, verbose=0,
                                    device="cpu", config=str(HYPERPARAMS_DIR / f"{algo}.yml"))
        model, saved = manager.setup_experiment()
        try:
            assert type(model).__name__.lower() == algo
            assert saved["n_envs"] == model.n_envs
        finally:
            model.get_env().close()


def test_ppo_layout_yaml_alone_is_not_readable_by_rl_zoo() -> None:
    """ppo_layout.yml keeps pricegym's ``features_extractor`` key, which the Python config resolves."""
    import yaml
    from stable_baselines3 import PPO

    raw = yaml.safe_load((HYPERPARAMS_DIR / "ppo_layout.yml").read_text())
    assert all(entry["features_extractor"] == "layout" for entry in raw.values())
    assert "features_extractor" not in inspect.signature(PPO.__init__).parameters


def test_zoo_hyperparams_builds_only_the_requested_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys are the three env ids; indexing one builds its layout once, and leaves the others unbuilt."""
    from pricegym.agents import features
    from pricegym.agents.zoo_hyperparams import LAYOUT_YAML, ZooHyperparams

    built: list[tuple[str, dict]] = []
    real_env_layout = features.env_layout

    def counting_env_layout(env_id: str, **options):
        built.append((env_id, options))
        return real_env_layout(env_id, **options)

    monkeypatch.setattr(features, "env_layout", counting_env_layout)
    zoo = ZooHyperparams(LAYOUT_YAML)
    assert sorted(zoo.keys()) == sorted(ENTRY_POINTS)
    assert MARKDOWN_ID in zoo and "default" not in zoo
    assert built == []

    entry = zoo[MARKDOWN_ID]
    again = zoo[MARKDOWN_ID]
    assert built == [(MARKDOWN_ID, {})]
    assert "features_extractor" not in entry
    kwargs = entry["policy_kwargs"]
    assert kwargs["features_extractor_class"] is features.LayoutFeaturesExtractor
    assert isinstance(kwargs["features_extractor_kwargs"]["layout"], FeatureLayout)
    assert kwargs["net_arch"] == [128, 128]  # the YAML's "dict(net_arch=[128, 128])" string, evaluated
    assert entry["n_envs"] == 256 and entry["normalize"] is True
    assert again is not entry and again["policy_kwargs"] is not kwargs  # rl_zoo3 mutates what it gets
    entry.pop("n_envs")
    assert zoo[MARKDOWN_ID]["n_envs"] == 256


def test_zoo_hyperparams_module_attribute_and_yaml_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``hyperparams`` is what rl_zoo3's ``-conf pricegym.agents.zoo_hyperparams`` reads; ``zoo_hyperparams``
    takes a file name in agents/hyperparams or a path, and builds a layout with the entry's env_kwargs."""
    import importlib

    from pricegym.agents import features
    from pricegym.agents.zoo_hyperparams import ZooHyperparams, zoo_hyperparams

    module = importlib.import_module(ZOO_MODULE)
    assert isinstance(module.hyperparams, ZooHyperparams) and sorted(module.hyperparams) == sorted(ENTRY_POINTS)
    assert zoo_hyperparams("ppo.yml")[MARKDOWN_ID]["policy_kwargs"] == "dict(net_arch=[64, 64])"  # untouched

    built: list[tuple[str, dict]] = []
    monkeypatch.setattr(features, "env_layout", lambda env_id, **options: built.append((env_id, options)) or "L")
    own = tmp_path / "own.yml"
    own.write_text(f"{MARKDOWN_ID}:\n  features_extractor: layout\n  env_kwargs: {{observe_embeddings: false}}\n"
                   "  policy_kwargs:\n    features_extractor_kwargs: {numeric_hidden: 8}\n")
    entry = zoo_hyperparams(own)[MARKDOWN_ID]
    assert built == [(MARKDOWN_ID, {"observe_embeddings": False})]
    assert entry["env_kwargs"] == {"observe_embeddings": False}
    assert entry["policy_kwargs"]["features_extractor_kwargs"] == {"layout": "L", "numeric_hidden": 8}


def test_zoo_hyperparams_refuses_an_unknown_extractor(tmp_path: Path) -> None:
    from pricegym.agents.zoo_hyperparams import zoo_hyperparams

    own = tmp_path / "own.yml"
    own.write_text(f"{MARKDOWN_ID}:\n  features_extractor: cnn\n")
    with pytest.raises(ConfigError, match="features_extractor must be 'layout' or 'mlp'"):
        zoo_hyperparams(own)[MARKDOWN_ID]
    with pytest.raises(KeyError):
        zoo_hyperparams(own)["pricegym/Competition-v0"]
