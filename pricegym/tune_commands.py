"""``pricegym tune``: tune an agent's hyperparameters with Optuna (:mod:`pricegym.agents.tuning`).

Registering the command imports nothing heavy; optuna, torch, SB3 and the environments are imported by the handler.
"""

from __future__ import annotations

import argparse
import sys

from pricegym.cli_parsing import output_path, positive_float, positive_int, seed, status
from pricegym.errors import ConfigError
from pricegym.train_commands import add_agent_arguments, parse_env_kwargs

ALGORITHMS: tuple[str, ...] = ("a2c", "ppo")
"""Mirrors the keys of :data:`pricegym.agents.tuning.SEARCH_SPACES` (the algorithms with a search space)."""


def add_tune_command(commands: argparse._SubParsersAction) -> None:
    """Register ``tune``."""
    parser = commands.add_parser(
        "tune", help="tune an RL pricing agent's hyperparameters with Optuna",
        description="Tune a Stable-Baselines3 agent's hyperparameters with Optuna (seeded TPE sampler, median "
                    "pruner): each trial trains a sample for --steps-per-trial steps and is scored, every "
                    "--eval-every steps, by the deterministic policy's % of the optimum on validation seasons "
                    "(seeds from 1,500,000: disjoint from training seeds and from the final evaluation seeds "
                    "1,000,000 on). The folder gets study.db (--resume continues it), trials.csv, run.json and "
                    "best.yml: the best hyperparameters for `pricegym train --hyperparams`, headed by the tuning "
                    "budget.")
    group = parser.add_argument_group("agent and environment")
    add_agent_arguments(group, ALGORITHMS, "horizon=30")
    group.add_argument("--hyperparams", type=output_path, default=None, metavar="BASE",
                       help="YAML file keyed by environment id (rl-zoo3's format) of the hyperparameters a trial's "
                            "sample updates (default: agents/hyperparams/ppo_layout.yml for ppo, else ALGO.yml)")
    group = parser.add_argument_group("tuning budget")
    group.add_argument("--trials", type=positive_int, default=20, metavar="N",
                       help="finished trials in the study, those of earlier sessions included (default: %(default)s)")
    group.add_argument("--steps-per-trial", type=positive_int, default=300_000, metavar="S",
                       help="environment steps each trial trains (default: %(default)s)")
    group.add_argument("--eval-every", type=positive_int, default=100_000, metavar="E",
                       help="steps between evaluations, each reported to the pruner (default: %(default)s)")
    group.add_argument("--eval-episodes", type=positive_int, default=50, metavar="M",
                       help="validation seasons per evaluation (default: %(default)s)")
    group.add_argument("--seed", type=seed, default=0, help="seed of the sampler and of training (default: 0)")
    group.add_argument("--timeout", type=positive_float, default=None, metavar="SECONDS",
                       help="start no trial after this many seconds (the running one finishes)")
    group.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: %(default)s)")
    group.add_argument("--torch-threads", type=positive_int, default=1, metavar="N",
                       help="CPU threads of torch (default: %(default)s, the fastest for small networks)")
    group = parser.add_argument_group("output")
    group.add_argument("--out", type=output_path, required=True, metavar="DIR", help="study folder")
    group.add_argument("--resume", action="store_true",
                       help="continue the study in --out until it has --trials finished trials")
    group.add_argument("--overwrite", action="store_true",
                       help="replace an existing run folder (an earlier run's; never another folder)")
    group.add_argument("--quiet", action="store_true", help="no status line per trial")
    parser.set_defaults(handler=tune_command)


def command_line(arguments: argparse.Namespace) -> list[str]:
    """The command as parsed, every budget option spelled out (what the study records as its command)."""
    words = ["pricegym", "tune", "--algo", arguments.algo, "--env", arguments.env]
    if arguments.env_kwargs:
        words += ["--env-kwargs", *(f"{key}={value}" for key, value in arguments.env_kwargs)]
    for name in ("hyperparams", "trials", "steps_per_trial", "eval_every", "eval_episodes", "seed", "timeout",
                 "torch_threads", "out"):
        if getattr(arguments, name) is not None:
            words += [f"--{name.replace('_', '-')}", str(getattr(arguments, name))]
    words += ["--device", arguments.device] if arguments.device != "auto" else []
    return words + [f"--{flag}" for flag in ("resume", "overwrite", "quiet") if getattr(arguments, flag)]


def tune_command(arguments: argparse.Namespace) -> int:
    """Tune and print where the best hyperparameters went."""
    if arguments.resume and arguments.overwrite:
        raise ConfigError("--resume continues a study and --overwrite replaces it; pass one of them")
    if arguments.algo not in ALGORITHMS:
        raise ConfigError(f"no search space for algorithm {arguments.algo!r}; pricegym tune knows "
                          f"{', '.join(ALGORITHMS)}")
    env_kwargs = parse_env_kwargs(arguments.env_kwargs)
    from pricegym.agents.tuning import TuneConfig, tune
    from pricegym.agents.tuning_records import BEST_FILE

    config = TuneConfig(algo=arguments.algo, env_id=arguments.env, output_dir=arguments.out, env_kwargs=env_kwargs,
                        hyperparams_file=arguments.hyperparams, trials=arguments.trials,
                        steps_per_trial=arguments.steps_per_trial, eval_every=arguments.eval_every,
                        eval_episodes=arguments.eval_episodes, seed=arguments.seed, timeout_s=arguments.timeout,
                        device=arguments.device, torch_threads=arguments.torch_threads, resume=arguments.resume,
                        overwrite=arguments.overwrite)
    status(f"{'resuming the study of' if arguments.resume else 'tuning'} {arguments.algo} on {arguments.env} ...")

    def progress(line: str) -> None:
        print(f"pricegym: {line}", file=sys.stderr, flush=True)

    result = tune(config, argv=command_line(arguments), progress=None if arguments.quiet else progress)
    failed = f", {result.failed} failed" if result.failed else ""
    summary = (f"tuned {arguments.algo} on {arguments.env}: {result.trials_run} trials ({result.completed} completed, "
               f"{result.pruned} pruned{failed}) in {result.wall_s:.0f} s")
    if result.best_value is None:
        print(f"{summary}; no trial completed, so no {BEST_FILE}")
    else:
        print(f"{summary}; best trial #{result.best_number}: {result.best_value:.2f}% of the optimum; "
              f"hyperparameters in {result.output_dir / BEST_FILE}")
    return 0
