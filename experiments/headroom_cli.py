"""The command line shared by the headroom experiments: episodes, seed, an optional fitted demand run."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from pricegym.encoders.demand_tables import TABLES_FILE
from pricegym.errors import PricegymError

RowsFunction = Callable[[str, Path | None, int, int], dict]
"""(demand source, demand run, episodes, seed) -> one row of the headroom table."""


def headroom_main(argv: list[str] | None, module: str, description: str, headroom_row: RowsFunction) -> int:
    """Parse the arguments, print one row per demand source (columns as rows), and exit 0; or 1 with one
    error line for bad input."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description)
    parser.add_argument("--episodes", type=int, default=20, help="episodes (seasons) pooled (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode")
    parser.add_argument("--demand-run", type=Path, default=None,
                        help="also evaluate with the fitted demand of this fit-demand run (default synthetic world)")
    arguments = parser.parse_args(argv)
    if arguments.episodes <= 0:
        parser.error(f"--episodes must be positive; got {arguments.episodes}")
    if arguments.demand_run is not None and not (arguments.demand_run / TABLES_FILE).is_file():
        print(f"pricegym: error: {arguments.demand_run}: holds no demand tables; pass the folder of a "
              "`pricegym fit-demand --world synthetic` run", file=sys.stderr)
        return 1
    try:
        rows = [headroom_row("ground_truth", arguments.demand_run, arguments.episodes, arguments.seed)]
        if arguments.demand_run is not None:
            rows.append(headroom_row("fitted", arguments.demand_run, arguments.episodes, arguments.seed))
    except PricegymError as error:
        print(f"pricegym: error: {error}", file=sys.stderr)
        return 1
    print(pd.DataFrame(rows).T.to_string(header=False, float_format=lambda value: f"{value:.1f}"))
    return 0
