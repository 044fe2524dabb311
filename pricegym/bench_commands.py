"""``pricegym bench-speed``: print every speed figure as one JSON object per line.

Registering the command imports nothing heavy; the figures (torch, the worlds, the environments) are
imported by the handler.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import closing

from pricegym.cli_defaults import CACHE_DIR
from pricegym.cli_parsing import input_path, output_path, quiet_libraries
from pricegym.safe_writes import check_target


def add_bench_speed_command(commands: argparse._SubParsersAction) -> None:
    """Register ``bench-speed``."""
    parser = commands.add_parser(
        "bench-speed", help="measure embedding, fine-tuning, demand, environment and world-loading speeds",
        description="Measure the project's speed figures and print one JSON object per line: "
                    '{"name": ..., "value": ..., "unit": ..., "device": ..., ...}. A benchmark, not a test: '
                    "the machine's load changes the numbers (note it beside them). Scratch files are removed "
                    "when it ends.")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N for the language-model figures")
    parser.add_argument("--quick", action="store_true",
                        help="a short run (seconds): fewer texts and repeats, a tiny random BERT for fine-tuning")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="measure only this figure (or every figure under this prefix); repeatable")
    parser.add_argument("--demand-run", type=input_path, default=None, metavar="DIR",
                        help="a fit-demand run folder on the default synthetic world whose tables to time, e.g. "
                             "runs/fit-demand/synthetic-seed0 (default: tables derived from the ground truth)")
    parser.add_argument("--data", type=input_path, default=None, metavar="PATH",
                        help="the UCI Online Retail CSV whose loading world_load_s/online-retail times "
                             "(default: a downloaded copy in the cache; without one that figure is skipped)")
    parser.add_argument("--cache-dir", type=output_path, default=CACHE_DIR,
                        help="where the embedding figures make (and remove) a scratch cache (default: %(default)s)")
    parser.add_argument("--list", action="store_true", help="list the figure names and exit")
    parser.set_defaults(handler=bench_speed_command)


def bench_speed_command(arguments: argparse.Namespace) -> int:
    """Print the selected figures as JSON lines, each as soon as it is measured."""
    if not arguments.list:
        check_target(arguments.cache_dir, "folder")
    quiet_libraries(progress=False)
    from pricegym.experiments.bench_speed import BenchSpeedConfig, load_figures, run_bench_speed

    if arguments.list:
        print("\n".join(load_figures()))
        return 0
    config = BenchSpeedConfig(device=arguments.device, quick=arguments.quick, only=tuple(arguments.only),
                              demand_run=arguments.demand_run, cache_dir=arguments.cache_dir, data=arguments.data)
    with closing(run_bench_speed(config)) as figures:  # scratch folders go as soon as the run ends
        for figure in figures:
            print(json.dumps(figure), flush=True)
    print("pricegym: bench-speed done", file=sys.stderr)
    return 0
