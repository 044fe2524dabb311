"""``pricegym run``: the main job end to end (:mod:`pricegym.experiments.main_job`).

Registering the command imports nothing heavy; the handler imports the stages.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pricegym.cli_parsing import input_path, output_path, positive_int, quiet_libraries


def add_run_command(commands: argparse._SubParsersAction) -> None:
    """Register ``run``."""
    parser = commands.add_parser(
        "run", help="run the main job end to end: demand model, supervised pricer, agents, benchmark, plots",
        description="The main job: fit the BERT demand model on the world, fit the supervised BERT pricing baseline, "
                    "train PPO agents with the LM state on the three environments, benchmark every policy on the "
                    "same seasons, plot, and write runs/NAME/report.md. A finished stage's folder is reused.")
    parser.add_argument("--name", default=None, help="the job's folder runs/NAME (default: main, or quick)")
    parser.add_argument("--world", choices=("synthetic", "online-retail"), default="synthetic",
                        help="the world (default: %(default)s, embedded)")
    parser.add_argument("--data", type=input_path, default=None, metavar="FILE",
                        help="online-retail: the transactions file (default: the download cache)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run of about 3 minutes: tiny random BERT, short fits, few training steps")
    parser.add_argument("--model", default="all-MiniLM-L6-v2",
                        help="text encoder of both BERT models (default: %(default)s, packaged; bert-base-uncased "
                             "needs internet)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: %(default)s)")
    parser.add_argument("--train-seeds", type=int, nargs="+", default=[0, 1], metavar="S",
                        help="training seeds of every agent (default: 0 1)")
    parser.add_argument("--train-steps", type=positive_int, default=2_000_000, metavar="N",
                        help="environment steps per agent (default: %(default)s)")
    parser.add_argument("--episodes", type=positive_int, default=200, metavar="N",
                        help="benchmark seasons per environment (default: %(default)s)")
    parser.add_argument("--torch-threads", type=positive_int, default=None, metavar="N",
                        help="CPU threads of torch while training (default: torch's)")
    parser.add_argument("--root", type=output_path, default=Path("runs"), metavar="DIR",
                        help="where the job's folder goes (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars (the stage lines stay)")
    parser.set_defaults(handler=run_command)


def run_command(arguments: argparse.Namespace) -> int:
    """Build the job's config (checked before anything runs) and run it."""
    quiet_libraries(progress=not arguments.quiet)
    from pricegym.experiments.main_job import MainJobConfig, run_main_job
    from pricegym.worlds.registry import WorldConfig

    world = WorldConfig(name=arguments.world, data_path=arguments.data)
    name = arguments.name or ("quick" if arguments.quick else "main")
    config = MainJobConfig(name=name, world=world, quick=arguments.quick, model_name=arguments.model,
                           device=arguments.device, train_seeds=tuple(arguments.train_seeds),
                           train_steps=arguments.train_steps, episodes=arguments.episodes,
                           torch_threads=arguments.torch_threads)
    report = run_main_job(config, arguments.root, say=lambda message: print(f"pricegym run: {message}", flush=True),
                          progress=not arguments.quiet)
    print(f"report: {report}")
    return 0
