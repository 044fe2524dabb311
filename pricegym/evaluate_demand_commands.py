"""``pricegym evaluate-demand``: score a finished fit-demand run on another transactions file, by month.

Registering the command imports nothing heavy; the handler imports pandas and the world's readers
(:mod:`pricegym.encoders.held_out_scoring`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pricegym.cli_parsing import input_path, output_file, status
from pricegym.errors import DataError
from pricegym.safe_writes import atomic_file, check_target


def add_evaluate_demand_command(commands: argparse._SubParsersAction) -> None:
    """Register ``evaluate-demand``."""
    parser = commands.add_parser(
        "evaluate-demand", help="score a finished fit-demand run on another transactions file, by month",
        description="Clean a transactions file in the online_retail.csv.gz layout (e.g. a later year of the same "
                    "shop) as the online-retail world does, build its demand panel on the run's catalogue, and "
                    "write the fitted model's Poisson deviance and calibration by calendar month, each month "
                    "flagged when its season is outside those the run trained on. Products the run never saw "
                    "are skipped and counted.")
    parser.add_argument("--run", type=input_path, required=True, metavar="DIR", help="a fit-demand run folder")
    parser.add_argument("--data", type=input_path, required=True, metavar="FILE", help="the transactions to score")
    parser.add_argument("--out", type=output_file, default=None, metavar="FILE",
                        help="the per-month CSV (default: DIR/metrics_by_month-held-out-NAME.csv, NAME the data "
                             "file's name up to its first dot); an existing file is replaced")
    parser.set_defaults(handler=evaluate_demand_command)


def default_output(run_dir: Path, data_path: Path) -> Path:
    """``RUN/metrics_by_month-held-out-NAME.csv``."""
    return run_dir / f"metrics_by_month-held-out-{data_path.name.split('.')[0]}.csv"


def evaluate_demand_command(arguments: argparse.Namespace) -> int:
    """Score the run, write the CSV and print it with the coverage warning and what was skipped."""
    if not arguments.run.is_dir():
        raise DataError(arguments.run, "no such run folder; pass the folder pricegym fit-demand wrote (--out)")
    out = check_target(arguments.out or default_output(arguments.run, arguments.data), "file")
    from pricegym.encoders.demand_evaluation import format_table
    from pricegym.encoders.held_out_scoring import score_run_on_file

    status(f"scoring {arguments.run} on {arguments.data} ...")
    score = score_run_on_file(arguments.run, arguments.data)
    with atomic_file(out) as partial:
        score.metrics.to_csv(partial, index=False)
    print(format_table(score.metrics.drop(columns="split"), f"{arguments.run} on {arguments.data}, by month "
                       "(calibration_ratio = sum predicted / sum observed)"))
    for line in [score.warning, *score.notes]:
        if line:
            print(line)
    print(f"\nsaved to {out}", file=sys.stderr)
    return 0
