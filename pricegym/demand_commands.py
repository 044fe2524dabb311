"""``pricegym fit-demand``: fine-tune the BERT demand model on a world and print its evaluation.

Registering the command imports nothing heavy (defaults from :mod:`pricegym.cli_defaults`); torch and
transformers are imported by the handler.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from pricegym.cli_defaults import CACHE_DIR, DEMAND_FIT, DEMAND_LOG, default_run_folder
from pricegym.cli_parsing import (
    non_negative_int,
    output_path,
    positive_float,
    positive_int,
    quiet_libraries,
    status,
)
from pricegym.safe_writes import check_run_folder, check_target
from pricegym.world_commands import add_world_options, world_config_from_arguments

if TYPE_CHECKING:
    import pandas as pd


def add_fit_demand_command(commands: argparse._SubParsersAction) -> None:
    """Register ``fit-demand``."""
    parser = commands.add_parser(
        "fit-demand", help="fine-tune the BERT demand model on a world and compare it with simpler models",
        description="Fine-tune a BERT encoder with a monotone price-response head on a world's training split, "
                    "reduce it to simulation-time tables, evaluate it beside a GLM on frozen embeddings and a "
                    "no-text model on the time and cold-start splits (and against the ground truth on the "
                    "synthetic world), and save the run folder.")
    add_world_options(parser, DEMAND_LOG)
    group = parser.add_argument_group("model and training")
    group.add_argument("--model", default=DEMAND_FIT.model,
                       help="encoder: all-MiniLM-L6-v2 (packaged, default), a local folder, a hub name such as "
                            "bert-base-uncased (needs internet), or tiny-random-bert (a tiny random model)")
    group.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    group.add_argument("--max-length", type=positive_int, default=DEMAND_FIT.max_length,
                       help="tokens per text (default: %(default)s)")
    group.add_argument("--epochs", type=positive_int, default=DEMAND_FIT.epochs,
                       help="fine-tuning epochs, early stopping (default: %(default)s)")
    group.add_argument("--products-per-step", type=positive_int, default=DEMAND_FIT.products_per_step,
                       help="products whose texts one optimiser step fine-tunes on (default: %(default)s)")
    group.add_argument("--customer-texts-per-step", type=positive_int, default=DEMAND_FIT.customer_texts_per_step,
                       help="customer profiles one optimiser step fine-tunes on (default: %(default)s)")
    group.add_argument("--max-steps-per-epoch", type=positive_int, default=DEMAND_FIT.max_steps_per_epoch,
                       help="optimiser steps per epoch at most (default: %(default)s)")
    group.add_argument("--encoder-lr", type=positive_float, default=DEMAND_FIT.encoder_lr,
                       help="learning rate of the encoder (default: %(default)s)")
    group.add_argument("--bootstrap-rounds", type=non_negative_int, default=DEMAND_FIT.bootstrap_rounds,
                       help="head refits for the slope uncertainty, 0 for none (default: %(default)s)")
    group = parser.add_argument_group("output")
    group.add_argument("--out", type=output_path, default=None, metavar="DIR",
                       help="run folder (default: runs/fit-demand/WORLD-seedSEED, "
                            "e.g. runs/fit-demand/synthetic-seed0)")
    group.add_argument("--overwrite", action="store_true",
                       help="replace an existing run folder (an earlier fit-demand run's; never another folder)")
    group.add_argument("--keep-all-checkpoints", action="store_true",
                       help="keep every epoch's checkpoint (about 91 MB each), not only the best epoch's")
    group.add_argument("--cache-dir", type=output_path, default=CACHE_DIR,
                       help="embedding cache (default: %(default)s)")
    group.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(handler=fit_demand_command)


def fit_demand_command(arguments: argparse.Namespace) -> int:
    """Run the fit and print its evaluation tables."""
    output_dir = check_run_folder(arguments.out or default_run_folder("fit-demand", arguments.world, arguments.seed),
                                  arguments.overwrite)
    check_target(arguments.cache_dir, "folder")
    world = world_config_from_arguments(arguments)
    quiet_libraries(progress=not arguments.quiet)
    from pricegym.encoders.demand_evaluation import format_table
    from pricegym.encoders.demand_training import DemandTrainingConfig
    from pricegym.encoders.fit_demand import FitDemandConfig, fit_demand
    from pricegym.encoders.text_encoder import TextEncoderConfig

    config = FitDemandConfig(
        world=world,
        encoder=TextEncoderConfig(model_name=arguments.model, device=arguments.device,
                                  max_length=arguments.max_length),
        training=DemandTrainingConfig(epochs=arguments.epochs, products_per_step=arguments.products_per_step,
                                      customer_texts_per_step=arguments.customer_texts_per_step,
                                      max_steps_per_epoch=arguments.max_steps_per_epoch,
                                      encoder_learning_rate=arguments.encoder_lr, seed=arguments.seed,
                                      keep_all_checkpoints=arguments.keep_all_checkpoints),
        bootstrap_rounds=arguments.bootstrap_rounds, output_dir=output_dir, cache_dir=arguments.cache_dir,
        overwrite=arguments.overwrite, seed=arguments.seed,
    )
    status(f"fitting the demand model on the {world.name} world ...")
    result = fit_demand(config, progress=not arguments.quiet, argv=sys.argv)
    print(format_table(result.metrics, f"Demand models on the {world.name} world (held-out splits)"))
    if result.truth_errors is not None:
        print()
        print(format_table(result.truth_errors, "Error against the ground truth (elasticity; optimal price / list)"))
    if result.calibration is not None:
        print()
        print(format_table(result.calibration, "Fine-tuned model: calibration by decile of predicted count"))
    print_monthly_metrics(result.monthly, result.card)
    print(f"\nsaved to {result.output_dir}", file=sys.stderr)
    return 0


def print_monthly_metrics(monthly: pd.DataFrame, card: dict, split: str = "test") -> None:
    """Print the test split's deviance and calibration by month, and the out-of-season warning."""
    from pricegym.encoders.demand_evaluation import format_table
    from pricegym.encoders.monthly_metrics import MONTHLY_METRICS_FILE, monthly_summary

    by_month = card.get("by_month") or {}
    print()
    print(format_table(monthly_summary(monthly, card["response"], split),
                       f"By month, {split} split (calibration = sum predicted / sum observed; every split in "
                       f"{MONTHLY_METRICS_FILE})"))
    if by_month.get("warning"):
        print(by_month["warning"])
