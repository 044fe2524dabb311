"""``pricegym benchmark``: every pricing policy on the same seasons (:mod:`pricegym.experiments.benchmark`).

Registering the command imports nothing heavy; the handler imports the environments and the agents.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from pricegym.cli_parsing import input_path, output_path, positive_int, status

if TYPE_CHECKING:  # imported where used, so that --help answers at once
    from pathlib import Path

    from pricegym.experiments.benchmark_config import BenchmarkConfig


def add_benchmark_command(commands: argparse._SubParsersAction) -> None:
    """Register ``benchmark``."""
    parser = commands.add_parser(
        "benchmark", help="benchmark pricing policies against the supervised baseline and the optimum",
        description="Play every policy of a benchmark config (rules, the supervised BERT pricer, Thompson "
                    "sampling, trained agents over their training seeds, the oracle) on the same seeded seasons "
                    "and write benchmark.json/.csv/.md with bootstrap intervals, uplifts over the supervised "
                    "baseline and % of the optimum. Configs: experiments/benchmarks/*.yaml.")
    parser.add_argument("--config", required=True, type=input_path, metavar="FILE",
                        help="benchmark config (YAML), e.g. experiments/benchmarks/markdown.yaml")
    parser.add_argument("--out", type=output_path, default=None, metavar="DIR",
                        help="results folder (default: runs/benchmark/<config name>)")
    parser.add_argument("--episodes", type=positive_int, default=None, metavar="N",
                        help="seasons per environment (default: the config's)")
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier results folder")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(handler=benchmark_command)


def benchmark_command(arguments: argparse.Namespace) -> int:
    """Check the config and the output folder, run the benchmark, print the table."""
    import dataclasses
    from pathlib import Path

    from pricegym.config_files import load_config
    from pricegym.experiments.benchmark import run_benchmark, write_outputs
    from pricegym.experiments.benchmark_config import BenchmarkConfig
    from pricegym.safe_writes import atomic_folder, check_run_folder

    config = load_config(BenchmarkConfig, arguments.config)
    if arguments.episodes is not None:
        config = dataclasses.replace(config, episodes=arguments.episodes)
    folder = check_run_folder(arguments.out or Path("runs/benchmark") / config.name, arguments.overwrite)
    check_runs(config, arguments.config)
    for block in config.environments:  # every agent's runs exist before anything plays
        for agent in block.agents:
            agent.run_folders()

    def progress(message: str) -> None:
        if not arguments.quiet:
            status(f"benchmark {config.name}: {message} done")

    report = run_benchmark(config, progress)
    with atomic_folder(folder) as partial:
        write_outputs(partial, config, report, sys.argv)
    print((folder / "benchmark.md").read_text(), end="")
    print(f"results in {folder}")
    return 0


def check_runs(config: BenchmarkConfig, config_path: Path) -> None:
    """The config's pricer and demand runs are folders, the demand run with its tables (ConfigError, one line)."""
    from pathlib import Path  # noqa: F811  (the annotation's import is for type checkers only)

    from pricegym.encoders.demand_tables import TABLES_FILE
    from pricegym.errors import ConfigError

    for name, run in (("pricer_run", config.pricer_run), ("demand_run", config.demand_run)):
        if run is None:
            continue
        command = "fit-pricer" if name == "pricer_run" else "fit-demand --world synthetic"
        fix = f"fit it first (`pricegym {command} --out {run}` or `make demo`) or remove {name} from {config_path}"
        if not Path(run).is_dir():
            raise ConfigError(f"benchmark {config.name}: {name} {run} is not a folder; {fix}")
        if name == "demand_run" and not (Path(run) / TABLES_FILE).is_file():
            raise ConfigError(f"benchmark {config.name}: demand_run {run} holds no demand tables (no {TABLES_FILE}); "
                              f"{fix}")
