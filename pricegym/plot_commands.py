"""``pricegym plot``: figures of finished runs (:mod:`pricegym.experiments.plots`), read from their result files.

Registering the command imports nothing heavy; the handler imports matplotlib, pandas and the readers.
"""

from __future__ import annotations

import argparse

from pricegym.cli_parsing import input_path, output_path

FORMATS: tuple[str, ...] = ("png", "svg")
"""Mirrors :data:`pricegym.experiments.plots.FORMATS`."""


def add_plot_command(commands: argparse._SubParsersAction) -> None:
    """Register ``plot``."""
    parser = commands.add_parser(
        "plot", help="draw figures (PNG and SVG) of benchmark results, training runs and a demand fit",
        description="Read the result files under RUN_DIR and draw what they allow: benchmark (each policy's "
                    "% of the optimum with 95% intervals), learning_curves (% of the optimum against training "
                    "steps, across seeds), cumulative_revenue and trajectories (one season step by step) and "
                    "demand_fit (fitted against true demand). RUN_DIR may be a benchmark folder, a training "
                    "run, a folder of training runs, a main-job folder or runs/ itself: result folders are "
                    "found up to 3 levels down. Nothing is trained or played again.")
    parser.add_argument("run_dir", type=input_path, metavar="RUN_DIR",
                        help="a folder holding benchmark results, training runs and/or a fit-demand run")
    parser.add_argument("--out", type=output_path, default=None, metavar="DIR",
                        help="folder for the figures (default: RUN_DIR/plots); existing figures are replaced")
    parser.add_argument("--demand-run", type=input_path, default=None, metavar="DIR",
                        help="the fit-demand run of the demand_fit figure (default: the first one under RUN_DIR)")
    parser.add_argument("--format", nargs="+", choices=FORMATS, default=list(FORMATS), dest="formats",
                        metavar="FORMAT", help=f"file formats: {', '.join(FORMATS)} (default: both)")
    parser.set_defaults(handler=plot_command)


def plot_command(arguments: argparse.Namespace) -> int:
    """Find the results, check the output folder, draw; one line per figure written or skipped."""
    from pricegym.experiments.plot_data import OUTPUT_FOLDER, find_inputs
    from pricegym.experiments.plots import draw_figures
    from pricegym.safe_writes import check_target

    folder = arguments.out if arguments.out is not None else arguments.run_dir / OUTPUT_FOLDER
    inputs = find_inputs(arguments.run_dir, arguments.demand_run, skip=folder)
    check_target(folder, "folder")
    written, skipped = draw_figures(inputs, folder, dict.fromkeys(arguments.formats))
    for line in written:
        print(f"wrote {line}")
    for line in skipped:
        print(f"skipped {line}")
    return 0
