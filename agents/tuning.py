"""Tune an agent's hyperparameters with Optuna: what ``pricegym tune`` runs.

Each trial samples the algorithm's search space (:data:`SEARCH_SPACES`) over the base hyperparameters (a file
of the user's, else ``agents/hyperparams/ppo_layout.yml`` for PPO where it has the environment, else
``<algo>.yml``), trains on the batched VecEnv for ``steps_per_trial`` steps, and every ``eval_every`` steps
reports the deterministic policy's % of the optimum on ``eval_episodes`` validation seasons to a
``MedianPruner``, which stops a trial below the median of the completed ones at that step. The objective
is the last evaluation's % of the optimum (maximised by a seeded ``TPESampler``).

Seeds: training episodes are seeded from ``seed`` (below :data:`HELD_OUT_SEED`); the validation seasons use
seeds from :data:`VALIDATION_SEED` = ``HELD_OUT_SEED + 500,000``, disjoint from the training seeds and from the
final evaluation seeds ``HELD_OUT_SEED, HELD_OUT_SEED + 1, ...`` (``pricegym train --eval-freq``), so that a
tuned agent's final score is not measured on the seasons its hyperparameters were picked on.

The study folder holds ``study.db`` (Optuna's SQLite storage: ``resume`` continues the study until it has
``trials`` finished trials), ``trials.csv``, ``run.json`` and ``best.yml``: the best trial's hyperparameters in
rl-zoo3's format, whose header records the tuning budget, for ``pricegym train --hyperparams best.yml``.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from pricegym.agents.hyperparameters import (
    DEFAULT_N_ENVS,
    HYPERPARAMS_DIR,
    as_kwargs,
    build_model,
    load_hyperparams,
    resolve_hyperparams,
)
from pricegym.agents.optimum_evaluation import HELD_OUT_SEED, OptimumEvalCallback, optimum_returns
from pricegym.agents.training import check_action_space, check_device, check_env_id, make_training_env
from pricegym.agents.tuning_records import write_outputs
from pricegym.errors import ConfigError
from pricegym.run_records import git_commit, jsonable, package_versions
from pricegym.safe_writes import RUN_RECORD, prepare_run_output, remove_path

TUNE_COMMAND = "tune"
STUDY_FILE = "study.db"
STUDY_NAME = "pricegym-tune"
VALIDATION_SEED = HELD_OUT_SEED + 500_000
"""The first seed of the tuning validation seasons (see the module docstring)."""
SAMPLER_STARTUP_TRIALS = 5
"""Random trials before the TPE sampler models the results."""
PRUNER_STARTUP_TRIALS = 5
"""Completed trials before the median pruner prunes any."""
DEFAULT_BASES = {"ppo": HYPERPARAMS_DIR / "ppo_layout.yml"}
N_STEPS_CHOICES = {"ppo": (16, 32, 64), "a2c": (8, 16, 32)}
SEARCH_SPACE_TEXT = {
    "ppo": "learning_rate log[1e-4, 3e-3], n_steps {16, 32, 64}, batch_size {512, 1024, 2048, 4096} (the largest "
           "divisor of n_envs x n_steps at most that), n_epochs [2, 10], gae_lambda [0.9, 1.0], gamma {0.9, 0.95, "
           "0.98, 0.99, 1}, clip_range [0.1, 0.3], ent_coef log[1e-6, 1e-2], net_width {64, 128, 256}, "
           "embedding_projection {8, 16, 32} (layout extractor)",
    "a2c": "learning_rate log[1e-4, 3e-3], n_steps {8, 16, 32}, gae_lambda [0.9, 1.0], ent_coef log[1e-6, 1e-2], "
           "vf_coef [0.25, 1.0], max_grad_norm {0.3, 0.5, 1, 2, 5}, net_width {64, 128, 256}, embedding_projection "
           "{8, 16, 32} (layout extractor)",
}


@dataclass
class TuneConfig:
    """One ``pricegym tune`` study; ``trials`` counts the study's finished trials in all (resumes included)."""

    algo: str
    env_id: str
    output_dir: Path
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    hyperparams_file: Path | None = None
    trials: int = 20
    steps_per_trial: int = 300_000
    eval_every: int = 100_000
    eval_episodes: int = 50
    seed: int = 0
    timeout_s: float | None = None
    device: str = "auto"
    torch_threads: int | None = 1
    """CPU threads of torch (None: torch's default); one is fastest for these small networks, above all on a busy
    CPU (300,000 steps of ppo_layout took 15x longer on 2 threads than on 1 on this 2-core machine under load)."""
    resume: bool = False
    overwrite: bool = False


@dataclass
class TuneResult:
    """What a study holds after this session: trials by state, the best trial (None if none completed)."""

    output_dir: Path
    trials_run: int
    completed: int
    pruned: int
    failed: int
    best_number: int | None
    best_value: float | None
    wall_s: float


# --- search spaces -------------------------------------------------------------------------------------------


def _py(value: Any) -> str:
    """``value`` as Python source for an rl-zoo ``"dict(...)"`` string (torch.nn classes as ``nn.Name``)."""
    if isinstance(value, type) and value.__module__.startswith("torch.nn"):
        return f"nn.{value.__name__}"
    if isinstance(value, dict):
        return "dict(" + ", ".join(f"{key}={_py(item)}" for key, item in value.items()) + ")"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_py(item) for item in value) + "]"
    return repr(value)


def _sample_policy(trial, base: dict[str, Any]) -> dict[str, Any]:
    """``policy_kwargs``: the base's, with hidden layers (as many as the base's) of a sampled width and, with the
    layout extractor, a sampled embedding projection."""
    kwargs = as_kwargs(base.get("policy_kwargs"), "policy_kwargs")
    depth = len(kwargs["net_arch"]) if isinstance(kwargs.get("net_arch"), list) and kwargs["net_arch"] else 2
    kwargs["net_arch"] = [trial.suggest_categorical("net_width", [64, 128, 256])] * depth
    if base.get("features_extractor") == "layout":
        extractor = dict(kwargs.get("features_extractor_kwargs") or {})
        extractor["embedding_projection"] = trial.suggest_categorical("embedding_projection", [8, 16, 32])
        kwargs["features_extractor_kwargs"] = extractor
    return {"policy_kwargs": _py(kwargs)}


def _largest_divisor_at_most(total: int, limit: int) -> int:
    return max(size for size in range(1, min(total, limit) + 1) if total % size == 0)


GAMMA_CHOICES = (0.9, 0.95, 0.98, 0.99, 1.0)


def sample_ppo(trial, base: dict[str, Any]) -> dict[str, Any]:
    """PPO's hyperparameters: ``base`` updated with a sample of the trial (the rest kept). ``gamma`` is sampled
    too: every season has a fixed horizon and the objective stays the undiscounted return, but a discount below 1
    trades bias for variance in the value estimates (PersonalizedDiscount-v0's 400 visits)."""
    n_steps = trial.suggest_categorical("n_steps", list(N_STEPS_CHOICES["ppo"]))
    batch_size = trial.suggest_categorical("batch_size", [512, 1024, 2048, 4096])
    rollout = int(base.get("n_envs", DEFAULT_N_ENVS)) * n_steps
    return {**base, "learning_rate": trial.suggest_float("learning_rate", 1e-4, 3e-3, log=True), "n_steps": n_steps,
            "batch_size": _largest_divisor_at_most(rollout, batch_size),
            "n_epochs": trial.suggest_int("n_epochs", 2, 10),
            "gae_lambda": trial.suggest_float("gae_lambda", 0.9, 1.0),
            "gamma": trial.suggest_categorical("gamma", list(GAMMA_CHOICES)),
            "clip_range": trial.suggest_float("clip_range", 0.1, 0.3),
            "ent_coef": trial.suggest_float("ent_coef", 1e-6, 1e-2, log=True), **_sample_policy(trial, base)}


def sample_a2c(trial, base: dict[str, Any]) -> dict[str, Any]:
    """A2C's hyperparameters: ``base`` updated with a sample of the trial."""
    return {**base, "learning_rate": trial.suggest_float("learning_rate", 1e-4, 3e-3, log=True),
            "n_steps": trial.suggest_categorical("n_steps", list(N_STEPS_CHOICES["a2c"])),
            "gae_lambda": trial.suggest_float("gae_lambda", 0.9, 1.0),
            "ent_coef": trial.suggest_float("ent_coef", 1e-6, 1e-2, log=True),
            "vf_coef": trial.suggest_float("vf_coef", 0.25, 1.0),
            "max_grad_norm": trial.suggest_categorical("max_grad_norm", [0.3, 0.5, 1.0, 2.0, 5.0]),
            **_sample_policy(trial, base)}


SEARCH_SPACES: dict[str, Callable[[Any, dict[str, Any]], dict[str, Any]]] = {"a2c": sample_a2c, "ppo": sample_ppo}
"""The algorithms ``pricegym tune`` can tune (mirrored by :data:`pricegym.tune_commands.ALGORITHMS`)."""


def base_file(algo: str, env_id: str, hyperparams_file: Path | None = None) -> Path | None:
    """The file of base hyperparameters (updating ``<algo>.yml``; None: ``<algo>.yml`` alone)."""
    default = DEFAULT_BASES.get(algo)
    if hyperparams_file is None and default is not None and default.is_file() and env_id in (
            yaml.safe_load(default.read_text()) or {}):
        return default
    return hyperparams_file


# --- one trial -----------------------------------------------------------------------------------------------


def make_sampler(seed: int):
    import optuna

    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=SAMPLER_STARTUP_TRIALS)


def make_pruner(eval_every: int):
    """Median pruning from the first evaluation on (step ``eval_every``), after the first completed trials."""
    import optuna

    return optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=eval_every)


class TrialEvalCallback(OptimumEvalCallback):
    """Evaluates at the first update past every ``eval_every`` steps (reported to the trial at step k x
    ``eval_every``, the same steps for every trial, so that the pruner compares like with like), raising
    ``optuna.TrialPruned`` when the pruner says so, and once more at the end (step ``total_steps``, never
    pruned). :attr:`reported` holds ``[step, % of the optimum]`` pairs."""

    def __init__(self, trial, env_id: str, env_options: dict[str, Any], seeds, optimum: np.ndarray,
                 eval_every: int, total_steps: int) -> None:
        super().__init__(env_id, env_options, seeds, eval_freq=0)
        self.trial, self.optimum = trial, np.asarray(optimum, dtype=float)
        self.eval_every, self.total_steps = eval_every, total_steps
        self.last_intermediate = (total_steps - 1) // eval_every * eval_every
        self.next_step = eval_every
        self.reported: list[list[float]] = []

    def _report(self, step: int) -> float:
        value = float(self.evaluate()["percent_of_optimum"])
        self.reported.append([step, value])
        self.trial.report(value, step)
        return value

    def _on_rollout_start(self) -> None:  # the policy has just been updated on every step so far
        if self.next_step <= min(self.num_timesteps, self.last_intermediate):
            step = min(self.num_timesteps // self.eval_every * self.eval_every, self.last_intermediate)
            self.next_step = step + self.eval_every
            value = self._report(step)
            if self.trial.should_prune():
                import optuna

                raise optuna.TrialPruned(f"{value:.2f}% of the optimum at step {step:,} is below the median")

    def _on_training_end(self) -> None:
        self._report(self.total_steps)


@dataclass
class TrialSetup:
    """What every trial of a study shares."""

    algo: str
    env_id: str
    env_kwargs: dict[str, Any]
    base: dict[str, Any]
    steps_per_trial: int
    eval_every: int
    seeds: range
    optimum: np.ndarray
    seed: int = 0
    device: str = "auto"


def run_trial(trial, setup: TrialSetup) -> float:
    """Train one sample and return its final % of the optimum; ``optuna.TrialPruned`` when pruned or diverged."""
    import optuna

    started, model = time.perf_counter(), None
    raw = SEARCH_SPACES[setup.algo](trial, setup.base)
    trial.set_user_attr("hyperparams", jsonable(raw))
    hyper = resolve_hyperparams(setup.algo, setup.env_id, raw, setup.env_kwargs)
    env = make_training_env(setup.env_id, setup.env_kwargs, hyper, hyper.n_envs, setup.seed)
    callback = TrialEvalCallback(trial, setup.env_id, setup.env_kwargs, setup.seeds, setup.optimum, setup.eval_every,
                                 setup.steps_per_trial)
    try:
        model = build_model(setup.algo, hyper, raw, "the trial's sample", env, seed=setup.seed, device=setup.device,
                            verbose=0)
        model.learn(total_timesteps=setup.steps_per_trial, callback=callback)
    except ConfigError:
        raise
    except (AssertionError, ValueError) as error:  # NaN in the policy's distribution: a diverged sample
        trial.set_user_attr("diverged", " ".join(str(error).split())[:300])
        raise optuna.TrialPruned(f"diverged: {error}") from None
    finally:
        trial.set_user_attr("steps", int(model.num_timesteps) if model is not None else 0)
        trial.set_user_attr("wall_s", round(time.perf_counter() - started, 3))
        trial.set_user_attr("evaluations", callback.reported)
        env.close()
    return callback.reported[-1][1]


# --- the study folder ---------------------------------------------------------------------------------------

_SAME_ON_RESUME = ("algo", "env_id", "env_kwargs", "steps_per_trial", "eval_every", "eval_episodes", "seed")


def _recorded_study(config: TuneConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """The run record and base hyperparameters of the study to resume; the command line must agree with them."""
    folder = Path(config.output_dir)
    try:
        record = json.loads((folder / RUN_RECORD).read_text())
    except (OSError, ValueError):
        record = None
    if not isinstance(record, dict) or record.get("command") != TUNE_COMMAND or not (folder / STUDY_FILE).is_file():
        raise ConfigError(f"cannot resume {folder}: it holds no pricegym tune study ({RUN_RECORD} and {STUDY_FILE}); "
                          "pass the folder an earlier `pricegym tune --out` wrote, or start without --resume")
    given = jsonable(asdict(config))
    for name in _SAME_ON_RESUME:
        if given[name] != record["config"][name]:
            raise ConfigError(f"cannot resume {folder} with {name} {given[name]!r}: the study was started with "
                              f"{record['config'][name]!r}; pass the same value, or tune in another --out folder")
    base = record["hyperparams"]
    if config.hyperparams_file is not None and jsonable(
            load_hyperparams(config.algo, config.env_id, config.hyperparams_file)) != base:
        raise ConfigError(f"cannot resume {folder} with --hyperparams {config.hyperparams_file}: they differ from the "
                          "study's recorded base hyperparameters; leave --hyperparams out")
    return record, base


def _check_inputs(config: TuneConfig, base: dict[str, Any]) -> int:
    """Every check on the user's input that needs no study; the number of environments stepped together."""
    import optuna

    check_device(config.device)
    hyper = resolve_hyperparams(config.algo, config.env_id, base, config.env_kwargs)
    rollout = hyper.n_envs * max(N_STEPS_CHOICES[config.algo])
    if config.steps_per_trial < rollout:
        raise ConfigError(f"--steps-per-trial {config.steps_per_trial:,} is smaller than one rollout ({hyper.n_envs} "
                          f"envs x n_steps up to {max(N_STEPS_CHOICES[config.algo])} = {rollout:,} steps); pass at "
                          f"least {rollout:,}")
    if config.seed + hyper.n_envs > HELD_OUT_SEED:
        raise ConfigError(f"--seed {config.seed} reaches the held-out seeds (from {HELD_OUT_SEED:,}); pass a seed "
                          f"below {HELD_OUT_SEED - hyper.n_envs + 1:,}")
    from pricegym.envs import make_vec

    probe = make_vec(config.env_id, 1, seed=config.seed, **config.env_kwargs)  # the options are checked here
    try:
        check_action_space(config.algo, config.env_id, probe.action_space)
    finally:
        probe.close()
    sample = SEARCH_SPACES[config.algo](optuna.create_study(sampler=optuna.samplers.RandomSampler(0)).ask(), base)
    resolve_hyperparams(config.algo, config.env_id, sample, config.env_kwargs)
    return hyper.n_envs


# --- the study ----------------------------------------------------------------------------------------------


def tune(config: TuneConfig, argv: list[str] | None = None,
         progress: Callable[[str], None] | None = None) -> TuneResult:
    """Run (or, with ``config.resume``, continue) a study; ``progress`` gets one line per trial. Every check on
    the user's input is done before the folder is touched and raises a one-line ConfigError or WriteError."""
    import optuna

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # the status lines are ours; failures raise
    try:
        return _tune(config, list(sys.argv if argv is None else argv), progress)
    finally:
        optuna.logging.set_verbosity(verbosity)


def _check_config(config: TuneConfig) -> None:
    if config.algo not in SEARCH_SPACES:
        raise ConfigError(f"no search space for algorithm {config.algo!r}; pricegym tune knows "
                          f"{', '.join(SEARCH_SPACES)}")
    check_env_id(config.env_id)
    for name in ("trials", "steps_per_trial", "eval_every", "eval_episodes"):
        if getattr(config, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least 1; got {getattr(config, name)}")
    if config.resume and config.overwrite:
        raise ConfigError("--resume continues a study and --overwrite replaces it; pass one of them")


def _open_storage(config: TuneConfig, replace_earlier: bool):
    """The study's storage, its earlier trials and how many of them finished (trials left running by a killed
    session are marked failed); a new study's folder is created here."""
    import optuna
    from optuna.trial import TrialState

    folder = Path(config.output_dir)
    url = f"sqlite:///{(folder / STUDY_FILE).absolute()}"
    if not config.resume:
        if replace_earlier:
            remove_path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        return optuna.storages.RDBStorage(url), [], 0
    storage = optuna.storages.RDBStorage(url)
    study_id = storage.get_study_id_from_name(STUDY_NAME)
    earlier = storage.get_all_trials(study_id, deepcopy=False)
    finished = sum(trial.state in (TrialState.COMPLETE, TrialState.PRUNED) for trial in earlier)
    if finished >= config.trials:
        raise ConfigError(f"the study in {folder} already has {finished} finished trials; pass --trials above "
                          f"{finished} to add trials")
    for trial in earlier:
        if not trial.state.is_finished():
            storage.set_trial_state_values(storage.get_trial_id_from_study_id_trial_number(study_id, trial.number),
                                           TrialState.FAIL)
    return storage, earlier, finished


def _new_record(config: TuneConfig, base: dict[str, Any], n_envs: int, seeds: range, base_path: Path | None
                ) -> dict[str, Any]:
    import optuna

    def shown(path: Path) -> str:
        return f"agents/hyperparams/{path.name}" if path.parent == HYPERPARAMS_DIR else str(path)

    base_text = shown(HYPERPARAMS_DIR / f"{config.algo}.yml") + ("" if base_path is None else
                                                                 f" updated by {shown(base_path)}")
    return {"command": TUNE_COMMAND, "seed": config.seed, "versions": {**package_versions(), "optuna":
            optuna.__version__}, "git": git_commit(), "hyperparams": base, "base": base_text, "n_envs": n_envs,
            "validation_seeds": [seeds.start, seeds.stop],
            "sampler": f"TPESampler(seed={config.seed}, n_startup_trials={SAMPLER_STARTUP_TRIALS})",
            "pruner": f"MedianPruner(n_startup_trials={PRUNER_STARTUP_TRIALS}, n_warmup_steps={config.eval_every}, "
                      "interval_steps=1)", "sessions": [], "wall_s": 0.0}


def _tune(config: TuneConfig, argv: list[str], progress: Callable[[str], None] | None) -> TuneResult:
    import optuna
    from optuna.trial import TrialState

    started = time.perf_counter()
    _check_config(config)
    folder = Path(config.output_dir)
    if config.resume:
        (record, base), base_path = _recorded_study(config), None
        replace_earlier = False
    else:
        replace_earlier = prepare_run_output(config.output_dir, config.overwrite, "its study")
        base_path = base_file(config.algo, config.env_id, config.hyperparams_file)
        record, base = None, jsonable(load_hyperparams(config.algo, config.env_id, base_path))
    n_envs = _check_inputs(config, base)
    if config.torch_threads is not None:
        import torch

        torch.set_num_threads(config.torch_threads)
    seeds = range(VALIDATION_SEED, VALIDATION_SEED + config.eval_episodes)
    setup = TrialSetup(config.algo, config.env_id, config.env_kwargs, base, config.steps_per_trial,
                       config.eval_every, seeds, optimum_returns(config.env_id, seeds, **config.env_kwargs),
                       config.seed, config.device)
    storage, earlier, finished = _open_storage(config, replace_earlier)
    study = optuna.create_study(storage=storage, sampler=make_sampler(config.seed + len(earlier)),
                                pruner=make_pruner(config.eval_every), study_name=STUDY_NAME, direction="maximize",
                                load_if_exists=True)
    record = record or _new_record(config, base, n_envs, seeds, base_path)
    config_record = jsonable(asdict(config))
    for transient in ("resume", "overwrite", "output_dir"):
        config_record.pop(transient)
    session = {"argv": argv, "started": datetime.now(UTC).isoformat(timespec="seconds"), "wall_s": 0.0}
    record.update(config=config_record, status="running")
    record["sessions"].append(session)
    earlier_wall = float(record["wall_s"])

    def write(study) -> dict[str, int]:
        session["wall_s"] = round(time.perf_counter() - started, 3)
        record["wall_s"] = round(earlier_wall + session["wall_s"], 3)
        return write_outputs(folder, study, record, SEARCH_SPACE_TEXT[config.algo])

    def after_trial(study, trial) -> None:
        counts = write(study)
        if progress is None:
            return
        best = (f"best {study.best_value:.2f}% (#{study.best_trial.number})" if counts["completed"]
                else "none completed yet")
        value = "no value" if trial.value is None or math.isnan(trial.value) else f"{trial.value:.2f}%"
        state = {TrialState.PRUNED: "pruned", TrialState.COMPLETE: "completed"}.get(trial.state, "failed")
        progress(f"trial {counts['completed'] + counts['pruned']}/{config.trials} (#{trial.number}): {value} of the "
                 f"optimum, {state} after {trial.user_attrs.get('steps', 0):,} steps in "
                 f"{trial.user_attrs.get('wall_s', 0):.0f} s; {best}")

    write(study)
    study.optimize(lambda trial: run_trial(trial, setup), n_trials=config.trials - finished,
                   timeout=config.timeout_s, callbacks=[after_trial])
    record["status"] = "finished"
    counts = write(study)
    completed = counts["completed"]
    return TuneResult(output_dir=folder, trials_run=counts["run"], completed=completed, pruned=counts["pruned"],
                      failed=counts["failed"], best_number=study.best_trial.number if completed else None,
                      best_value=study.best_value if completed else None, wall_s=time.perf_counter() - started)
