"""Train an SB3 agent on a pricegym environment: what ``pricegym train`` runs.

Hyperparameters come in rl-zoo3's YAML format, keyed by environment id (``agents/hyperparams/<algo>.yml``,
updated key by key by a file of the user's; :mod:`pricegym.agents.hyperparameters`)::

    pricegym/Markdown-v0:
      n_envs: 8
      n_timesteps: 500000
      policy: MlpPolicy
      normalize: true                   # or "dict(norm_obs=True, norm_reward=False)"
      policy_kwargs: "dict(net_arch=[64, 64])"
      learning_rate: lin_3e-4           # rl-zoo's linear schedule
      gamma: 1.0

``features_extractor: layout`` (pricegym's own key) merges
``pricegym.agents.features.layout_policy_kwargs(env_id, **env_kwargs)`` into ``policy_kwargs``.

The agent trains on the environment's batched SB3 VecEnv (:func:`pricegym.envs.make_vec`) wrapped in a
``VecMonitor`` and, where the hyperparameters say ``normalize``, a ``VecNormalize``. The run folder holds::

    run.json              config, hyperparameters, command line(s), versions, git commit, seed, status
    tensorboard/PPO_1/    TensorBoard events
    checkpoints/          model_<steps>_steps.zip (+ model_vecnormalize_<steps>_steps.pkl), written atomically
    eval/evaluations.csv  % of the optimum on held-out seasons (with an evaluation frequency)
    model.zip             the final model (+ vecnormalize.pkl)

``resume=True`` continues a run from its latest checkpoint (model, VecNormalize statistics and step count)
to the recorded total step count. Every check on the user's input (algorithm, environment, its options,
hyperparameter keys, action space, run folder, the model the hyperparameters build: ``build_model``) is done
before training starts and raises a :class:`~pricegym.errors.PricegymError` with one line that says how to fix it.
"""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from pricegym.agents.hyperparameters import (
    CONTINUOUS_ONLY,
    DISCRETE_ONLY,
    HYPERPARAMS_DIR,
    ResolvedHyperparams,
    algorithm_class,
    build_model,
    load_hyperparams,
    resolve_hyperparams,
)
from pricegym.errors import ConfigError, PricegymError
from pricegym.run_records import git_commit, jsonable, package_versions
from pricegym.safe_writes import RUN_RECORD, atomic_file, prepare_run_output, remove_path

CHECKPOINTS_PER_RUN = 10
"""Checkpoints written over a run when no checkpoint frequency is given."""

TRAIN_COMMAND = "train"
CHECKPOINT_DIR = "checkpoints"
CHECKPOINT_PREFIX = "model"
TENSORBOARD_DIR = "tensorboard"
EVAL_DIR = "eval"
MODEL_FILE = "model.zip"
VECNORMALIZE_FILE = "vecnormalize.pkl"
REPLAY_BUFFER_FILE = "replay_buffer.pkl"
"""The off-policy algorithms' replay buffer at the latest checkpoint (one file, replaced at each checkpoint)."""

_CHECKPOINT_NAME = re.compile(rf"^{CHECKPOINT_PREFIX}_(\d+)_steps\.zip$")


@dataclass
class TrainConfig:
    """One ``pricegym train`` run. ``None`` means "from the hyperparameters" (n_envs, steps) or, on resume,
    "as recorded"; ``seed`` defaults to 0 on a new run."""

    algo: str
    env_id: str
    output_dir: Path
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    hyperparams_file: Path | None = None
    steps: int | None = None
    seed: int | None = None
    n_envs: int | None = None
    device: str = "auto"
    checkpoint_freq: int | None = None
    eval_freq: int = 0
    eval_episodes: int = 16
    torch_threads: int | None = None
    resume: bool = False
    overwrite: bool = False


@dataclass
class TrainResult:
    """What a run did: its folder, the model's final step count, the step it resumed from, wall time."""

    output_dir: Path
    num_timesteps: int
    resumed_from: int | None
    wall_s: float
    model_path: Path


# --- checks before training --------------------------------------------------------------------------------


def check_env_id(env_id: str) -> None:
    """``env_id`` must be one of pricegym's registered environments."""
    from pricegym.envs import ENTRY_POINTS

    if env_id not in ENTRY_POINTS:
        raise ConfigError(f"unknown environment {env_id!r}; expected one of {', '.join(ENTRY_POINTS)}")


def check_action_space(algo: str, env_id: str, action_space) -> None:
    """DQN needs the price ladder (Discrete), SAC and TD3 the Box."""
    from gymnasium import spaces

    if algo in DISCRETE_ONLY and isinstance(action_space, spaces.MultiDiscrete):
        raise ConfigError(f"{algo} needs a single Discrete action, and {env_id} has a MultiDiscrete one with these "
                          "options (a ladder per product); use ppo or a2c, or one product")
    if algo in DISCRETE_ONLY and not isinstance(action_space, spaces.Discrete):
        raise ConfigError(f"{algo} needs a discrete action space, and {env_id} has a {type(action_space).__name__} "
                          "one with these options; pass --env-kwargs action_space=ladder")
    if algo in CONTINUOUS_ONLY and not isinstance(action_space, spaces.Box):
        raise ConfigError(f"{algo} needs a continuous (Box) action space, and {env_id} has a "
                          f"{type(action_space).__name__} one with these options; pass --env-kwargs action_space=box")


def check_device(device: str) -> None:
    """``auto``, ``cpu``, or an accelerator torch can see."""
    import torch

    try:
        parsed = torch.device("cpu" if device == "auto" else device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"unknown device {device!r}; expected auto, cpu, cuda or cuda:N") from None
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} asked for, but torch sees no CUDA device here; pass --device auto "
                          "or --device cpu")


def check_tensorboard() -> None:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise ConfigError("TensorBoard logging needs the tensorboard package; pip install tensorboard") from None


# --- the run folder ----------------------------------------------------------------------------------------


def read_run_record(folder: Path) -> dict[str, Any]:
    """The ``run.json`` of an earlier ``pricegym train`` run in ``folder``."""
    record_path = folder / RUN_RECORD
    if not folder.is_dir():
        raise ConfigError(f"cannot resume {folder}: no such run folder; start the run without --resume")
    if not record_path.is_file():
        raise ConfigError(f"cannot resume {folder}: it holds no {RUN_RECORD}, so it is not a pricegym train run; "
                          "pass the folder an earlier `pricegym train --out` wrote")
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot resume {folder}: its {RUN_RECORD} cannot be read ({error})") from None
    if not isinstance(record, dict) or record.get("command") != TRAIN_COMMAND or "config" not in record:
        raise ConfigError(f"cannot resume {folder}: its {RUN_RECORD} is not a pricegym train run's; "
                          "pass the folder an earlier `pricegym train --out` wrote")
    return record


def latest_checkpoint(folder: Path) -> tuple[int, Path] | None:
    """``(steps, model path)`` of the latest complete checkpoint in ``folder/checkpoints``, or None."""
    found = []
    for path in (folder / CHECKPOINT_DIR).glob(f"{CHECKPOINT_PREFIX}_*_steps.zip"):
        matched = _CHECKPOINT_NAME.match(path.name)
        if matched:
            found.append((int(matched.group(1)), path))
    return max(found) if found else None


def vecnormalize_checkpoint(folder: Path, steps: int) -> Path:
    return folder / CHECKPOINT_DIR / f"{CHECKPOINT_PREFIX}_vecnormalize_{steps}_steps.pkl"


def _recorded_config(config: TrainConfig, record: dict[str, Any]) -> tuple[TrainConfig, dict[str, Any]]:
    """``config`` completed from a resumed run's record; what the command line says must agree with it."""
    recorded = record["config"]
    if config.env_id != recorded["env_id"]:
        raise ConfigError(f"cannot resume {config.output_dir} with --env {config.env_id}: it is a run of "
                          f"{recorded['env_id']}; pass --env {recorded['env_id']} or another --out folder")
    if config.algo != recorded["algo"]:
        raise ConfigError(f"cannot resume {config.output_dir} with --algo {config.algo}: it is a "
                          f"{recorded['algo']} run; pass --algo {recorded['algo']} or another --out folder")
    checks = {"env_kwargs": (config.env_kwargs or None, "--env-kwargs"), "seed": (config.seed, "--seed"),
              "n_envs": (config.n_envs, "--n-envs")}
    for name, (given, option) in checks.items():
        if given is not None and jsonable(given) != recorded[name]:
            raise ConfigError(f"cannot resume {config.output_dir} with {option} {given}: the run was started with "
                              f"{recorded[name]}; leave {option} out to continue it as recorded")
    hyperparams = record["hyperparams"]
    if config.hyperparams_file is not None:
        given = jsonable(load_hyperparams(config.algo, config.env_id, config.hyperparams_file))
        if given != hyperparams:
            raise ConfigError(f"cannot resume {config.output_dir} with --hyperparams {config.hyperparams_file}: they "
                              "differ from the run's recorded hyperparameters; leave --hyperparams out")
    completed = replace(config, env_kwargs=recorded["env_kwargs"], seed=recorded["seed"],
                        n_envs=recorded["n_envs"], steps=config.steps or recorded["steps"],
                        checkpoint_freq=config.checkpoint_freq or recorded["checkpoint_freq"],
                        eval_freq=config.eval_freq or recorded.get("eval_freq", 0))
    return completed, hyperparams


def _write_json(path: Path, record: dict[str, Any]) -> None:
    with atomic_file(path) as partial:
        partial.write_text(json.dumps(jsonable(record), indent=1))


# --- callbacks -----------------------------------------------------------------------------------------------


def _checkpoint_callback(folder: Path, freq: int, n_envs: int):
    """SB3's ``CheckpointCallback`` (model + VecNormalize statistics) every ``freq`` steps, each file written
    under a partial name and renamed into place (the model last), so that a kill mid-save leaves only
    complete checkpoints. An off-policy algorithm's replay buffer is kept for the latest checkpoint only
    (``checkpoints/replay_buffer.pkl``): one per checkpoint would take buffer_size x observation size each."""
    from stable_baselines3.common.callbacks import CheckpointCallback

    class AtomicCheckpointCallback(CheckpointCallback):
        def _on_step(self) -> bool:
            if self.n_calls % self.save_freq == 0:
                vec_normalize = self.model.get_vec_normalize_env()
                if vec_normalize is not None:
                    with atomic_file(self._checkpoint_path("vecnormalize_", extension="pkl")) as partial:
                        vec_normalize.save(partial)
                if getattr(self.model, "replay_buffer", None) is not None:
                    with (atomic_file(Path(self.save_path) / REPLAY_BUFFER_FILE) as partial,
                          open(partial, "wb") as handle):
                        self.model.save_replay_buffer(handle)
                with atomic_file(self._checkpoint_path(extension="zip")) as partial, open(partial, "wb") as handle:
                    self.model.save(handle)
            return True

    return AtomicCheckpointCallback(save_freq=max(freq // n_envs, 1), save_path=str(folder / CHECKPOINT_DIR),
                                    name_prefix=CHECKPOINT_PREFIX, save_vecnormalize=True)


def _eval_callback(config: TrainConfig, n_envs: int, seed: int, folder: Path):
    """:class:`~pricegym.agents.optimum_evaluation.OptimumEvalCallback`: every ``eval_freq`` steps, the
    deterministic policy's % of the optimum on ``eval_episodes`` held-out seasons (seeds from
    ``HELD_OUT_SEED``), logged to TensorBoard and ``eval/evaluations.csv``."""
    from pricegym.agents.optimum_evaluation import HELD_OUT_SEED, OptimumEvalCallback

    if seed + n_envs > HELD_OUT_SEED:
        raise ConfigError(f"--seed {seed} reaches the held-out evaluation seeds (from {HELD_OUT_SEED:,}): training "
                          f"episodes are seeded {seed} to {seed + n_envs - 1}; pass a seed below "
                          f"{HELD_OUT_SEED - n_envs + 1:,}, or no --eval-freq")
    seeds = range(HELD_OUT_SEED, HELD_OUT_SEED + config.eval_episodes)
    return OptimumEvalCallback(config.env_id, config.env_kwargs, seeds, eval_freq=max(config.eval_freq // n_envs, 1),
                               log_path=folder / EVAL_DIR)


def _progress_callback():
    """A tqdm progress bar of the environment steps, which starts at the step a resumed run starts from.
    (SB3's ``progress_bar=True`` needs rich, which pricegym does not depend on; tqdm it does.)"""
    from stable_baselines3.common.callbacks import BaseCallback
    from tqdm.auto import tqdm

    class ProgressCallback(BaseCallback):
        def _on_training_start(self) -> None:
            total = self.locals["total_timesteps"]
            self.bar = tqdm(total=total, initial=self.model.num_timesteps, unit="step", unit_scale=True,
                            dynamic_ncols=True, mininterval=0.1, file=sys.stderr)

        def _on_step(self) -> bool:
            self.bar.update(self.model.num_timesteps - self.bar.n)
            return True

        def _on_training_end(self) -> None:
            self.bar.close()

    return ProgressCallback()


# --- training ------------------------------------------------------------------------------------------------


def make_training_env(env_id: str, env_kwargs: dict[str, Any], hyper: ResolvedHyperparams, n_envs: int, seed: int):
    """The VecEnv an agent trains on: ``n_envs`` batched episodes seeded ``seed``, under a VecMonitor and, where the
    hyperparameters ask for it, a VecNormalize (the environment's options are checked here: ConfigError)."""
    from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

    from pricegym.envs import make_vec

    env = VecMonitor(make_vec(env_id, n_envs, seed=seed, **env_kwargs))
    if hyper.normalize is not None:
        env = VecNormalize(env, **hyper.normalize)
    return env


def train(config: TrainConfig, argv: list[str] | None = None, progress: bool = False) -> TrainResult:
    """Train (or, with ``config.resume``, continue) a run; see the module's docstring."""
    started = time.perf_counter()
    algo_class = algorithm_class(config.algo)
    check_env_id(config.env_id)
    check_device(config.device)
    check_tensorboard()
    if config.torch_threads is not None:
        import torch

        torch.set_num_threads(config.torch_threads)  # small MLPs on a busy CPU: 1 is often fastest
    folder = Path(config.output_dir)
    argv = list(sys.argv if argv is None else argv)
    if config.resume:
        record = read_run_record(folder)
        config, raw_hyperparams = _recorded_config(config, record)
        replace_earlier_run = False
    else:
        replace_earlier_run = prepare_run_output(config.output_dir, config.overwrite, "it")
        raw_hyperparams = jsonable(load_hyperparams(config.algo, config.env_id, config.hyperparams_file))
        record = None
    hyper = resolve_hyperparams(config.algo, config.env_id, raw_hyperparams, config.env_kwargs)
    n_envs = config.n_envs or hyper.n_envs
    steps = config.steps or hyper.n_timesteps
    seed = 0 if config.seed is None else config.seed
    checkpoint_freq = config.checkpoint_freq or max(steps // CHECKPOINTS_PER_RUN, n_envs)
    hyper.n_envs = n_envs
    config = replace(config, n_envs=n_envs, steps=steps, seed=seed, checkpoint_freq=checkpoint_freq)

    checkpoint = latest_checkpoint(folder) if config.resume else None
    if config.resume and checkpoint is None and (folder / MODEL_FILE).is_file():
        finished_steps = int(record.get("num_timesteps") or 0)
        checkpoint = (finished_steps, folder / MODEL_FILE)
    env_seed = seed if checkpoint is None else (seed + checkpoint[0]) % 2**32  # fresh episodes after a resume
    env = make_training_env(config.env_id, config.env_kwargs, hyper, n_envs, env_seed)
    try:
        check_action_space(config.algo, config.env_id, env.action_space)
        if checkpoint is None:
            source = str(config.hyperparams_file or HYPERPARAMS_DIR / f"{config.algo}.yml")
            model = build_model(config.algo, hyper, raw_hyperparams, source, env, seed=seed, device=config.device,
                                tensorboard_log=str(folder / TENSORBOARD_DIR), verbose=0)  # refused: ConfigError
            resumed_from = None
        else:
            resumed_from, model_path = checkpoint
            env = _load_vecnormalize(folder, model_path, resumed_from, env)
            model = algo_class.load(model_path, env=env, device=config.device,
                                    tensorboard_log=str(folder / TENSORBOARD_DIR))
            resumed_from = model.num_timesteps
            replay_buffer = folder / CHECKPOINT_DIR / REPLAY_BUFFER_FILE
            if hasattr(model, "load_replay_buffer") and replay_buffer.is_file():
                model.load_replay_buffer(replay_buffer)
            if steps < resumed_from:
                raise ConfigError(f"cannot resume {folder} to --steps {steps}: it has already trained "
                                  f"{resumed_from:,} steps; pass a larger --steps or leave it out")
        if config.resume and record is not None:
            record.setdefault("resumes", []).append({"argv": argv, "from_step": resumed_from})
            record["status"] = "running"
            record["config"].update(steps=steps, checkpoint_freq=checkpoint_freq, eval_freq=config.eval_freq,
                                    eval_episodes=config.eval_episodes, device=config.device)
        else:
            record = {"command": TRAIN_COMMAND, "argv": argv, "seed": seed, "versions": _versions(),
                      "git": git_commit(), "config": _config_record(config), "hyperparams": raw_hyperparams,
                      "status": "running"}
        callbacks = [_checkpoint_callback(folder, checkpoint_freq, n_envs)]
        if config.eval_freq:
            callbacks.append(_eval_callback(config, n_envs, seed, folder))
        if progress:
            callbacks.append(_progress_callback())
        if replace_earlier_run:
            remove_path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        _write_json(folder / RUN_RECORD, record)

        remaining = max(steps - model.num_timesteps, 0)
        if remaining:
            model.learn(total_timesteps=remaining, callback=callbacks,
                        tb_log_name=config.algo.upper(), reset_num_timesteps=checkpoint is None)
        model_path = folder / MODEL_FILE
        with atomic_file(model_path) as partial, open(partial, "wb") as handle:
            model.save(handle)
        vec_normalize = model.get_vec_normalize_env()
        if vec_normalize is not None:
            with atomic_file(folder / VECNORMALIZE_FILE) as partial:
                vec_normalize.save(partial)
        wall_s = time.perf_counter() - started
        record.update(status="finished", num_timesteps=int(model.num_timesteps),
                      wall_s=round(wall_s + float(record.get("wall_s") or 0.0), 3))
        _write_json(folder / RUN_RECORD, record)
    finally:
        env.close()
    return TrainResult(output_dir=folder, num_timesteps=int(model.num_timesteps), resumed_from=resumed_from,
                       wall_s=wall_s, model_path=model_path)


def _load_vecnormalize(folder: Path, model_path: Path, steps: int, env):
    """``env``'s VecNormalize replaced by the one saved beside ``model_path`` (its running statistics)."""
    from stable_baselines3.common.vec_env import VecNormalize

    if not isinstance(env, VecNormalize):
        return env
    saved = folder / VECNORMALIZE_FILE if model_path.name == MODEL_FILE else vecnormalize_checkpoint(folder, steps)
    if not saved.is_file():
        raise PricegymError(f"cannot resume {folder}: the checkpoint {model_path.name} has no VecNormalize "
                            f"statistics beside it ({saved.name}); start the run again without --resume")
    return VecNormalize.load(str(saved), env.venv)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = package_versions()
    for package in ("tensorboard", "sb3-contrib", "rl_zoo3"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            pass
    return versions


def _config_record(config: TrainConfig) -> dict[str, Any]:
    record = jsonable(asdict(config))
    for transient in ("resume", "overwrite", "output_dir"):
        record.pop(transient)
    return record
