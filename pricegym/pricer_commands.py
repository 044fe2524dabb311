"""``pricegym fit-pricer``: fine-tune the supervised BERT pricing baseline on a world and print its evaluation.

Registering the command imports nothing heavy (defaults from :mod:`pricegym.cli_defaults`); torch and
transformers are imported by the handler.
"""

from __future__ import annotations

import argparse
import sys
import time

from pricegym.cli_defaults import CACHE_DIR, CONTEXT_SCHEMES, PRICER_FIT, default_run_folder
from pricegym.cli_parsing import output_path, positive_float, positive_int, quiet_libraries, status
from pricegym.safe_writes import check_run_folder, check_target
from pricegym.world_commands import add_world_options, world_config_from_arguments


def add_fit_pricer_command(commands: argparse._SubParsersAction) -> None:
    """Register ``fit-pricer``."""
    parser = commands.add_parser(
        "fit-pricer", help="fine-tune the supervised BERT pricing baseline on a world",
        description="Fine-tune a BERT sequence regressor to predict the price charged (log of price / list price) "
                    "from customer, market and product text: the synthetic incumbent's prices, or online-retail's "
                    "lowest-tier price per product, day and customer type. Evaluate it beside ridge on frozen "
                    "embeddings and the per-product mean price on the test and cold-start splits, tabulate it per "
                    "(segment or customer type, product, context bucket) as a pricing policy, and save the run "
                    "folder.")
    add_world_options(parser)
    group = parser.add_argument_group("model and training")
    group.add_argument("--model", default=PRICER_FIT.model,
                       help="encoder: all-MiniLM-L6-v2 (packaged, default), a local folder, or tiny-random-bert")
    group.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    group.add_argument("--max-length", type=positive_int, default=PRICER_FIT.max_length,
                       help="tokens per input text (default: %(default)s)")
    group.add_argument("--context", choices=CONTEXT_SCHEMES, default=PRICER_FIT.context,
                       help="market contexts the policy tells apart, each one costs a table pass "
                            "(default: %(default)s)")
    group.add_argument("--no-unit-cost", action="store_true", help="leave unit costs out of the product text")
    group.add_argument("--epochs", type=positive_int, default=PRICER_FIT.epochs,
                       help="fine-tuning epochs, early stopping (default: %(default)s)")
    group.add_argument("--batch-size", type=positive_int, default=PRICER_FIT.batch_size,
                       help="texts per optimiser step (default: %(default)s)")
    group.add_argument("--max-train-texts", type=positive_int, default=PRICER_FIT.max_train_texts,
                       help="distinct training texts fine-tuned on, a random subsample beyond (default: %(default)s)")
    group.add_argument("--encoder-lr", type=positive_float, default=PRICER_FIT.encoder_lr,
                       help="learning rate of the encoder (default: %(default)s)")
    group.add_argument("--max-eval-rows", type=positive_int, default=PRICER_FIT.max_eval_rows,
                       help="rows evaluated per split (default: %(default)s)")
    group = parser.add_argument_group("output")
    group.add_argument("--out", type=output_path, default=None, metavar="DIR",
                       help="run folder (default: runs/fit-pricer/WORLD-seedSEED, "
                            "e.g. runs/fit-pricer/synthetic-seed0)")
    group.add_argument("--overwrite", action="store_true",
                       help="replace an existing run folder (an earlier fit-pricer run's; never another folder)")
    group.add_argument("--cache-dir", type=output_path, default=CACHE_DIR,
                       help="embedding cache (default: %(default)s)")
    group.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(handler=fit_pricer_command)


def fit_pricer_command(arguments: argparse.Namespace) -> int:
    """Run the fit and print its evaluation tables."""
    started = time.perf_counter()
    output_dir = check_run_folder(arguments.out or default_run_folder("fit-pricer", arguments.world, arguments.seed),
                                  arguments.overwrite)
    check_target(arguments.cache_dir, "folder")
    world = world_config_from_arguments(arguments)
    quiet_libraries(progress=not arguments.quiet)
    from pricegym.agents.fit_pricer import FitPricerConfig, fit_pricer
    from pricegym.agents.pricer_training import PricerTrainingConfig
    from pricegym.encoders.demand_evaluation import format_table
    from pricegym.encoders.text_encoder import TextEncoderConfig

    config = FitPricerConfig(
        world=world,
        encoder=TextEncoderConfig(model_name=arguments.model, device=arguments.device,
                                  max_length=arguments.max_length),
        training=PricerTrainingConfig(epochs=arguments.epochs, batch_size=arguments.batch_size,
                                      max_train_texts=arguments.max_train_texts,
                                      encoder_learning_rate=arguments.encoder_lr),
        context_buckets=arguments.context, state_unit_cost=not arguments.no_unit_cost,
        max_eval_rows=arguments.max_eval_rows, output_dir=output_dir, cache_dir=arguments.cache_dir,
        overwrite=arguments.overwrite, seed=arguments.seed,
    )
    status(f"fitting the pricing baseline on the {world.name} world ...")
    result = fit_pricer(config, progress=not arguments.quiet, argv=sys.argv)
    print(format_table(result.metrics, f"Price regressors on the {world.name} world (held-out splits; "
                                       "rmse in currency, mape in %)"))
    print()
    print(format_table(result.by_row, "Mean price / list price on the test split: charged vs pricing table"))
    history = result.history
    print(f"\nfine-tuned on {history.samples:,} texts in {history.seconds:.0f} s ({history.samples_per_s:.1f}/s), "
          f"best epoch {history.best_epoch + 1}; pricing table {' x '.join(map(str, result.policy.shape))}; "
          f"total {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print(f"saved to {result.output_dir}", file=sys.stderr)
    return 0
