"""``pricegym world describe`` and ``pricegym world sample``.

Registering the commands imports nothing heavy (see :mod:`pricegym.cli_defaults`); the worlds are
imported by the handlers that build one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pricegym.cli_defaults import SPLIT_NAMES, WORLD, WORLD_NAMES, WorldDefaults
from pricegym.cli_parsing import fraction, input_path, output_file, positive_int, seed, status
from pricegym.errors import ConfigError, DataError
from pricegym.safe_writes import check_replaceable, check_target

if TYPE_CHECKING:
    from pricegym.worlds import World
    from pricegym.worlds.registry import WorldConfig


def add_world_command(commands: argparse._SubParsersAction) -> None:
    """Register ``world`` and its subcommands."""
    world = commands.add_parser("world", help="build or load a world and describe or sample its transactions",
                                description="Build or load a world of customers, products and transactions.")
    actions = world.add_subparsers(dest="world_command", metavar="ACTION", required=True)

    describe = actions.add_parser("describe", help="print a world's products, customers, dates and prices",
                                  description="Print a summary of a world: products, customers, date range, "
                                              "panel size, within-product price variation and, for the "
                                              "synthetic world, its true elasticities.")
    add_world_options(describe)
    describe.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    describe.set_defaults(handler=describe_world)

    sample = actions.add_parser("sample", help="write a world's transactions to CSV or Parquet",
                                description="Write a world's transactions (with a `split` column) to FILE; "
                                            "the format follows the extension: .csv, .csv.gz or .parquet. "
                                            "Missing folders are created; the file appears complete or not at all.")
    add_world_options(sample)
    sample.add_argument("--out", required=True, type=output_file, metavar="FILE",
                        help="output file (.csv, .csv.gz, .parquet)")
    sample.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")
    sample.add_argument("--split", choices=("all", *SPLIT_NAMES), default="all", help="write only one split")
    sample.set_defaults(handler=sample_world)


def add_world_options(parser: argparse.ArgumentParser, defaults: WorldDefaults = WORLD) -> None:
    """The options that choose and configure a world (shared by every command that builds one), with the
    synthetic world's ``defaults`` (``fit-demand`` passes :data:`~pricegym.cli_defaults.DEMAND_LOG`: a longer log)."""
    parser.set_defaults(world_defaults=defaults)
    parser.add_argument("--world", choices=WORLD_NAMES, default="synthetic", help="which world (default: synthetic)")
    group = parser.add_argument_group("online-retail world")
    group.add_argument("--data", type=input_path, default=None, metavar="PATH",
                       help="the UCI Online Retail CSV (.csv or .csv.gz); default: download it to the cache")
    group.add_argument("--unit-cost-share", type=fraction, default=defaults.unit_cost_share,
                       help="unit cost as a share of list price (default: %(default)s)")
    group = parser.add_argument_group("synthetic world")
    group.add_argument("--seed", type=seed, default=defaults.seed,
                       help="seed of the world and its splits (default: %(default)s)")
    group.add_argument("--n-products", type=positive_int, default=defaults.n_products,
                       help="products in the catalogue (default: %(default)s)")
    group.add_argument("--n-customers", type=positive_int, default=defaults.n_customers,
                       help="persistent customers (default: %(default)s)")
    group.add_argument("--n-exposures", type=positive_int, default=defaults.n_exposures,
                       help="logged exposures (default: %(default)s)")
    group.add_argument("--n-days", type=positive_int, default=defaults.n_days,
                       help="days in the log (default: %(default)s)")
    group.add_argument("--exploration-share", type=fraction, default=defaults.exploration_share,
                       help="share of exposures at randomised prices (default: %(default)s)")


def only_for_world(defaults: WorldDefaults) -> dict[str, dict[str, object]]:
    """The options that only one world reads, with their ``defaults`` (``--seed`` is read by both)."""
    return {
        "online-retail": {"data": None, "unit_cost_share": defaults.unit_cost_share},
        "synthetic": {name: getattr(defaults, name)
                      for name in ("n_products", "n_customers", "n_exposures", "n_days", "exploration_share")},
    }


def check_world_options(arguments: argparse.Namespace) -> None:
    """An option of the other world is a mistake (a forgotten ``--world``), not something to ignore.

    Raises:
        ConfigError: naming the options, the world they belong to, and the fix.
    """
    for world, defaults in only_for_world(getattr(arguments, "world_defaults", WORLD)).items():
        given = [f"--{name.replace('_', '-')}" for name, default in defaults.items()
                 if getattr(arguments, name) != default]
        if world != arguments.world and given:
            several = len(given) > 1
            options, verb, pronoun = (", ".join(given), "apply", "them") if several else (given[0], "applies", "it")
            raise ConfigError(f"{options} only {verb} to --world {world}, not to the {arguments.world} world; "
                              f"add --world {world}, or drop {pronoun}")


def check_data_file(path: Path | None) -> None:
    """``--data``, when given, must be an existing file (checked before the slow load; its content is the
    loader's to check).

    Raises:
        DataError: for a missing path, a folder or something else that is not a regular file.
    """
    if path is None or path.is_file():
        return
    expected = "expected the UCI Online Retail CSV (.csv or .csv.gz), e.g. ../shared/data/online_retail.csv.gz"
    if path.is_dir():
        raise DataError(path, f"is a folder; {expected}")
    if path.exists():
        raise DataError(path, f"is not a regular file; {expected}")
    raise DataError(path, f"no such file; {expected}, or leave --data out to download it")


def world_config_from_arguments(arguments: argparse.Namespace) -> WorldConfig:
    """The :class:`WorldConfig` that the command-line options describe, after :func:`check_world_options`
    and :func:`check_data_file`."""
    check_world_options(arguments)
    check_data_file(arguments.data)
    from pricegym.worlds.registry import WorldConfig
    from pricegym.worlds.synthetic.config import SyntheticWorldConfig

    synthetic = SyntheticWorldConfig(
        seed=arguments.seed,
        n_products=arguments.n_products,
        n_customers=arguments.n_customers,
        n_exposures=arguments.n_exposures,
        n_days=arguments.n_days,
        exploration_share=arguments.exploration_share,
    )
    return WorldConfig(name=arguments.world, synthetic=synthetic, data_path=arguments.data,
                       unit_cost_share=arguments.unit_cost_share, seed=arguments.seed)


def _load(arguments: argparse.Namespace) -> World:
    from pricegym.worlds.registry import load_world

    config = world_config_from_arguments(arguments)
    status(f"building the {config.name} world ...")
    return load_world(config)


def describe_world(arguments: argparse.Namespace) -> int:
    """Print the world's summary (and, where the truth is known, its true elasticities)."""
    from pricegym.worlds.summary import format_summary

    world = _load(arguments)
    summary = world.summary()
    if arguments.json:
        print(json.dumps(summary, default=str))
        return 0
    print(format_summary(f"World: {world.name}", summary))
    if world.ground_truth is not None and hasattr(world, "true_elasticity_table"):
        print("\nTrue price elasticity at list price (median), price attitude x category:")
        print(world.true_elasticity_table().to_string())
    return 0


def sample_world(arguments: argparse.Namespace) -> int:
    """Write the world's transactions, with their split, to ``--out``."""
    from pricegym.worlds.schema import write_table, writer_for

    writer_for(arguments.out)  # refuse an unknown format, or an unwritable target, before the (slow) build
    check_target(arguments.out, "file")
    check_replaceable(arguments.out, arguments.overwrite)
    world = _load(arguments)
    frame = world.transactions.assign(split=world.splits.assign(world.transactions))
    if arguments.split != "all":
        frame = frame[frame["split"] == arguments.split]
    path = write_table(frame, arguments.out)
    print(f"wrote {len(frame):,} transactions to {path}", file=sys.stderr)
    return 0
