"""The ``pricegym`` command line: one subcommand per job, ``--help`` on each.

Bad input ends with one line on stderr (``pricegym: error: ...``) and exit status 1, whether the
parser or the command finds it; nothing is left half-written (:mod:`pricegym.safe_writes`).
Building the parser imports no heavy library, so ``--help`` and ``--version`` answer at once: each
command imports torch, pandas or the worlds in its handler.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from pricegym import __version__
from pricegym.bench_commands import add_bench_speed_command
from pricegym.benchmark_commands import add_benchmark_command
from pricegym.cli_parsing import CommandLineParser, run_command_line
from pricegym.demand_commands import add_fit_demand_command
from pricegym.errors import PricegymError
from pricegym.evaluate_demand_commands import add_evaluate_demand_command
from pricegym.plot_commands import add_plot_command
from pricegym.pricer_commands import add_fit_pricer_command
from pricegym.run_commands import add_run_command
from pricegym.train_commands import add_train_command
from pricegym.tune_commands import add_tune_command
from pricegym.world_commands import add_world_command

PROGRAM = "pricegym"

RESERVED_COMMANDS: dict[str, str] = {
    "sweep": "run an experiment over several seeds or settings",
}
"""Commands whose names are reserved for the jobs that later parts of the pipeline add."""


def not_available_notice(name: str) -> str:
    """What a reserved command says about itself: that it does not exist yet, and what to use meanwhile."""
    return (f"not available yet in pricegym {__version__}: `pricegym {name}` is reserved for a later stage; "
            f"see `pricegym --help` for the commands that are")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand."""
    parser = CommandLineParser(
        prog=PROGRAM,
        description="A reinforcement-learning simulator for dynamic and personalized e-commerce pricing.",
    )
    parser.add_argument("--version", action="version", version=f"pricegym {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_world_command(commands)
    add_fit_demand_command(commands)
    add_evaluate_demand_command(commands)
    add_fit_pricer_command(commands)
    add_bench_speed_command(commands)
    add_train_command(commands)
    add_tune_command(commands)
    add_benchmark_command(commands)
    add_plot_command(commands)
    add_run_command(commands)
    for name, purpose in RESERVED_COMMANDS.items():
        reserved = commands.add_parser(name, help=f"(not available yet) {purpose}",
                                       description=f"{not_available_notice(name)}. Planned: {purpose}.")
        reserved.set_defaults(handler=_not_yet_available(name))
    return parser


def _not_yet_available(name: str) -> Callable[[argparse.Namespace], int]:
    def handler(_arguments: argparse.Namespace) -> int:
        raise PricegymError(not_available_notice(name))

    return handler


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command: its exit status, or 1 with one line on stderr for bad input,
    whether the parser or the command finds it (returned, never raised)."""
    return run_command_line(build_parser(), argv, lambda arguments: arguments.handler(arguments))


if __name__ == "__main__":
    sys.exit(main())
