"""The command line shared by the headroom experiments: episodes, seed, an optional fitted demand run.

Each experiment runs as ``python -m pricegym.experiments.NAME`` and names itself so in every error
line, which is one line on stderr with exit status 1, like ``pricegym``'s::

    python -m pricegym.experiments.markdown_headroom: error: argument --episodes: expected a positive integer ...
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from pricegym.cli_defaults import HEADROOM_EPISODES, default_run_folder
from pricegym.cli_parsing import CommandLineParser, non_negative_int, positive_int, run_command_line
from pricegym.errors import DataError

RowsFunction = Callable[[str, Path | None, int, int], dict]
"""(demand source, demand run, episodes, seed) -> one row of the headroom table."""


def headroom_parser(module: str, description: str) -> CommandLineParser:
    """The parser of ``python -m module``."""
    parser = CommandLineParser(prog=f"python -m {module}", description=description)
    parser.add_argument("--episodes", type=positive_int, default=HEADROOM_EPISODES,
                        help="episodes (seasons) pooled (default: %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of the first episode (default: 0)")
    parser.add_argument("--demand-run", type=Path, default=None, metavar="DIR",
                        help="also evaluate with the fitted demand of this fit-demand run on the default synthetic "
                             f"world, e.g. {default_run_folder('fit-demand', 'synthetic', 0)} (what `pricegym "
                             "fit-demand --world synthetic` writes) or runs/demo/demand (what `make demo` writes)")
    return parser


def check_demand_run(demand_run: Path) -> None:
    """``demand_run`` must hold a fit-demand run's tables."""
    from pricegym.encoders.demand_tables import TABLES_FILE

    if not (demand_run / TABLES_FILE).is_file():
        raise DataError(demand_run, f"holds no demand tables ({TABLES_FILE}); pass the folder of a `pricegym "
                                    "fit-demand --world synthetic` run, e.g. "
                                    f"{default_run_folder('fit-demand', 'synthetic', 0)}")


def headroom_table(arguments: argparse.Namespace, headroom_row: RowsFunction) -> str:
    """One row per demand source (the ground truth, and the fitted run if given), printed as columns."""
    import pandas as pd

    if arguments.demand_run is not None:
        check_demand_run(arguments.demand_run)
    rows = [headroom_row("ground_truth", arguments.demand_run, arguments.episodes, arguments.seed)]
    if arguments.demand_run is not None:
        rows.append(headroom_row("fitted", arguments.demand_run, arguments.episodes, arguments.seed))
    return pd.DataFrame(rows).T.to_string(header=False, float_format=lambda value: f"{value:.1f}")


def headroom_main(argv: Sequence[str] | None, module: str, description: str, headroom_row: RowsFunction) -> int:
    """Parse the arguments, print one row per demand source (columns as rows), and return 0; bad input is one
    error line and exit status 1, whether the parser or the experiment finds it (returned, never raised)."""
    parser = headroom_parser(module, description)
    return run_command_line(parser, argv, lambda arguments: print(headroom_table(arguments, headroom_row)))
