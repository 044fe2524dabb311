"""The ``pricegym`` command line: one subcommand per job, ``--help`` on each.

Bad input ends with one line on stderr (``pricegym: error: ...``) and exit status 1; nothing is
left half-written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pricegym import __version__
from pricegym.bench_commands import add_bench_speed_command
from pricegym.demand_commands import add_fit_demand_command
from pricegym.errors import PricegymError
from pricegym.pricer_commands import add_fit_pricer_command
from pricegym.world_commands import add_world_command

RESERVED_COMMANDS: dict[str, str] = {
    "train": "train an RL pricing agent in an environment",
    "benchmark": "benchmark pricing policies against baselines and the oracle",
    "plot": "plot revenue curves of benchmarked runs",
    "run": "run the main job end to end",
    "sweep": "run an experiment over several seeds or settings",
}
"""Commands whose names are reserved for the jobs that later parts of the pipeline add."""


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="pricegym",
        description="A reinforcement-learning simulator for dynamic and personalized e-commerce pricing.",
    )
    parser.add_argument("--version", action="version", version=f"pricegym {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_world_command(commands)
    add_fit_demand_command(commands)
    add_fit_pricer_command(commands)
    add_bench_speed_command(commands)
    for name, purpose in RESERVED_COMMANDS.items():
        reserved = commands.add_parser(name, help=f"(not yet available) {purpose}", description=purpose)
        reserved.set_defaults(handler=_not_yet_available(name))
    return parser


def _not_yet_available(name: str):
    def handler(_arguments: argparse.Namespace) -> int:
        raise PricegymError(
            f"'pricegym {name}' is not available in pricegym {__version__} yet; "
            "see `pricegym --help` for the commands that are"
        )

    return handler


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, run the chosen command, and turn user errors into one line and exit 1."""
    arguments = build_parser().parse_args(argv)
    try:
        return int(arguments.handler(arguments) or 0)
    except PricegymError as error:
        print(f"pricegym: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pricegym: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
