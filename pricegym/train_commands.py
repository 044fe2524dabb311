"""``pricegym train``: train an SB3 agent on a pricegym environment (:mod:`pricegym.agents.training`).

Registering the command imports nothing heavy; torch, SB3 and the environments are imported by the handler.
"""

from __future__ import annotations

import argparse
import sys

from pricegym.cli_parsing import non_negative_int, output_path, positive_int, seed, status
from pricegym.errors import ConfigError

ALGORITHMS: tuple[str, ...] = ("a2c", "dqn", "ppo", "sac", "td3")
"""Mirrors :data:`pricegym.agents.hyperparameters.ALGORITHMS`."""

ENV_IDS: tuple[str, ...] = ("pricegym/Markdown-v0", "pricegym/PersonalizedDiscount-v0", "pricegym/Competition-v0")
"""Mirrors the keys of :data:`pricegym.envs.ENTRY_POINTS` (named in the help only: the handler checks)."""


def env_kwarg(text: str) -> tuple[str, str]:
    """``key=value`` (the value is read as YAML by the handler: ``30``, ``ladder``, ``[0.5, 1.0]``, ``false``)."""
    key, separator, value = text.partition("=")
    if not separator or not key.strip():
        raise argparse.ArgumentTypeError(f"expected key=value (e.g. action_space=ladder); got {text!r}")
    return key.strip(), value


def add_agent_arguments(group: argparse._ArgumentGroup, algorithms: tuple[str, ...], example: str) -> None:
    """``--algo``, ``--env`` and ``--env-kwargs``: which agent learns where (``train`` and ``tune``)."""
    group.add_argument("--algo", required=True, type=str.lower, metavar="ALGO",
                       help=f"algorithm: {', '.join(algorithms)}")
    group.add_argument("--env", required=True, metavar="ENV_ID", help=f"environment id: {', '.join(ENV_IDS)}")
    group.add_argument("--env-kwargs", nargs="+", type=env_kwarg, default=[], metavar="KEY=VALUE",
                       help=f"environment options, e.g. {example} (values read as YAML)")


def add_train_command(commands: argparse._SubParsersAction) -> None:
    """Register ``train``."""
    parser = commands.add_parser(
        "train", help="train an RL pricing agent (SB3) in an environment",
        description="Train a Stable-Baselines3 agent on an environment's batched VecEnv, with hyperparameters in "
                    "rl-zoo3's YAML format (agents/hyperparams/ALGO.yml, overridden by --hyperparams), TensorBoard "
                    "logs, checkpoints of the model and VecNormalize statistics, and a run folder; --resume "
                    "continues an interrupted run from its latest checkpoint.")
    group = parser.add_argument_group("agent and environment")
    add_agent_arguments(group, ALGORITHMS, "action_space=ladder horizon=30")
    group.add_argument("--hyperparams", type=output_path, default=None, metavar="FILE",
                       help="YAML file keyed by environment id (rl-zoo3's format) whose keys override the "
                            "defaults of agents/hyperparams/ALGO.yml")
    group = parser.add_argument_group("training")
    group.add_argument("--steps", type=positive_int, default=None, metavar="N",
                       help="environment steps in all (default: the hyperparameters' n_timesteps; on --resume, "
                            "the run's)")
    group.add_argument("--seed", type=seed, default=None, help="seed (default: 0; on --resume, the run's)")
    group.add_argument("--n-envs", type=positive_int, default=None, metavar="B",
                       help="episodes stepped together (default: the hyperparameters' n_envs; on --resume, the run's)")
    group.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: %(default)s)")
    group.add_argument("--torch-threads", type=positive_int, default=None, metavar="N",
                       help="CPU threads of torch (default: torch's; 1 is often fastest for small networks)")
    group.add_argument("--checkpoint-freq", type=positive_int, default=None, metavar="N",
                       help="steps between checkpoints (default: a tenth of the run)")
    group.add_argument("--eval-freq", type=non_negative_int, default=0, metavar="N",
                       help="steps between evaluations of the deterministic policy in %% of the optimum on "
                            "held-out seasons (eval/evaluations.csv, TensorBoard), 0 for none (default: %(default)s)")
    group.add_argument("--eval-episodes", type=positive_int, default=16, metavar="N",
                       help="held-out seasons per evaluation (default: %(default)s)")
    group = parser.add_argument_group("output")
    group.add_argument("--out", type=output_path, required=True, metavar="DIR", help="run folder")
    group.add_argument("--resume", action="store_true",
                       help="continue the run in --out from its latest checkpoint to its total step count")
    group.add_argument("--overwrite", action="store_true",
                       help="replace an existing run folder (an earlier run's; never another folder)")
    group.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=train_command)


def parse_env_kwargs(pairs: list[tuple[str, str]]) -> dict[str, object]:
    """``key=value`` pairs as a dict, each value read as YAML (a number, a word, a list, true/false)."""
    import yaml

    options: dict[str, object] = {}
    for key, text in pairs:
        if key in options:
            raise ConfigError(f"--env-kwargs names {key} twice; give each option once")
        try:
            options[key] = yaml.safe_load(text) if text.strip() else text
        except yaml.YAMLError:
            options[key] = text
    return options


def train_command(arguments: argparse.Namespace) -> int:
    """Train and print where the run went."""
    if arguments.resume and arguments.overwrite:
        raise ConfigError("--resume continues a run and --overwrite replaces it; pass one of them")
    if arguments.algo not in ALGORITHMS:
        raise ConfigError(f"unknown algorithm {arguments.algo!r}; expected one of {', '.join(ALGORITHMS)}")
    env_kwargs = parse_env_kwargs(arguments.env_kwargs)
    from pricegym.agents.training import TrainConfig, train

    config = TrainConfig(algo=arguments.algo, env_id=arguments.env, output_dir=arguments.out, env_kwargs=env_kwargs,
                         hyperparams_file=arguments.hyperparams, steps=arguments.steps, seed=arguments.seed,
                         n_envs=arguments.n_envs, device=arguments.device, checkpoint_freq=arguments.checkpoint_freq,
                         eval_freq=arguments.eval_freq, eval_episodes=arguments.eval_episodes,
                         torch_threads=arguments.torch_threads,
                         resume=arguments.resume, overwrite=arguments.overwrite)
    status(f"{'resuming' if arguments.resume else 'training'} {arguments.algo} on {arguments.env} ...")
    result = train(config, argv=sys.argv, progress=not arguments.quiet)
    resumed = "" if result.resumed_from is None else f", resumed from step {result.resumed_from:,}"
    print(f"trained {arguments.algo} on {arguments.env}: {result.num_timesteps:,} steps in {result.wall_s:.0f} s"
          f"{resumed}; model saved to {result.model_path}")
    return 0
