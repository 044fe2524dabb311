"""The command line shared by the headroom experiments: episodes, seed, an optional fitted demand run.

Each experiment runs as ``python -m pricegym.experiments.NAME`` and names itself so in every error
line, which is one line on stderr with exit status 1, like ``pricegym``'s. Like this module, the
experiments' modules import numpy, pandas and the environments only inside their functions, so that
``--help`` answers at once::

    python -m pricegym.experiments.markdown_headroom: error: argument --episodes: expected a positive integer ...
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from pricegym.cli_defaults import HEADROOM_EPISODES, default_run_folder
from pricegym.cli_parsing import CommandLineParser, input_path, positive_int, run_command_line, seed
from pricegym.errors import DataError

RowsFunction = Callable[[str, Path | None, int, int], dict | list[dict]]
"""(demand source, demand run, episodes, seed) -> one row of the headroom table, or several (one per scenario)."""


def headroom_parser(module: str, description: str) -> CommandLineParser:
    """The parser of ``python -m module``."""
    parser = CommandLineParser(prog=f"python -m {module}", description=description)
    parser.add_argument("--episodes", type=positive_int, default=HEADROOM_EPISODES,
                        help="episodes (seasons) pooled (default: %(default)s)")
    parser.add_argument("--seed", type=seed, default=0, help="seed of the first episode (default: 0)")
    parser.add_argument("--demand-run", type=input_path, default=None, metavar="DIR",
                        help="also evaluate with the fitted demand of this fit-demand run on the default synthetic "
                             f"world, e.g. {default_run_folder('fit-demand', 'synthetic', 0)} (what `pricegym "
                             "fit-demand --world synthetic` writes) or runs/demo/demand (what `make demo` writes)")
    return parser


DEFAULT_WORLD_RUN = (f"the headroom experiments run the default synthetic world: pass a run of `pricegym "
                     f"fit-demand --world synthetic` with default sizes and seed, e.g. "
                     f"{default_run_folder('fit-demand', 'synthetic', 0)}")
"""What every error about ``--demand-run`` adds: which runs fit these experiments."""


def check_demand_run(demand_run: Path) -> None:
    """``demand_run`` must be a folder holding a fit-demand run's tables (their content is checked on load)."""
    from pricegym.encoders.demand_tables import TABLES_FILE

    if (demand_run / TABLES_FILE).is_file():
        return
    if not demand_run.exists():
        why = "no such folder"
    elif not demand_run.is_dir():
        why = "it is a file, not a run folder"
    else:
        why = f"the folder has no {TABLES_FILE}"
    raise DataError(demand_run, f"holds no demand tables ({why}); {DEFAULT_WORLD_RUN}")


def headroom_table(arguments: argparse.Namespace, headroom_row: RowsFunction) -> str:
    """One row per demand source (the ground truth, and the fitted run if given) and scenario, printed as
    columns."""
    import pandas as pd

    demand_run = arguments.demand_run
    if demand_run is not None:
        check_demand_run(demand_run)
    sources = ["ground_truth"] if demand_run is None else ["ground_truth", "fitted"]
    try:
        rows = []
        for source in sources:
            row = headroom_row(source, demand_run, arguments.episodes, arguments.seed)
            rows.extend(row if isinstance(row, list) else [row])
    except DataError as error:
        if demand_run is None or not error.source.startswith(str(demand_run)):
            raise
        raise DataError(error.source, f"{error.problem} ({DEFAULT_WORLD_RUN})") from error
    return pd.DataFrame(rows).T.to_string(header=False, float_format=lambda value: f"{value:.1f}")


def headroom_main(argv: Sequence[str] | None, module: str, description: str, headroom_row: RowsFunction) -> int:
    """Parse the arguments, print one row per demand source (columns as rows), and return 0; bad input is one
    error line and exit status 1, whether the parser or the experiment finds it (returned, never raised)."""
    parser = headroom_parser(module, description)
    return run_command_line(parser, argv, lambda arguments: print(headroom_table(arguments, headroom_row)))
