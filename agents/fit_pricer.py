"""Fit the supervised BERT pricing baseline on a world, compare it with simpler regressors, and save it.

``fit_pricer(config)`` runs the whole job:

1. the world's prices charged (:mod:`~pricegym.agents.pricing_rows`: the synthetic incumbent's
   prices, or online-retail's lowest-tier price per product x day x customer type), reduced per
   split to distinct input texts (:mod:`~pricegym.agents.pricing_texts`);
2. fine-tuning of a BERT sequence regressor (:mod:`~pricegym.agents.pricer_model`) on a random
   subsample of the training texts, with early stopping on validation texts;
3. the pricing table: the model run once per (segment or customer type, product, context bucket),
   served by :class:`~pricegym.agents.pricing_table.TabulatedPricingPolicy`;
4. the evaluation table on the test and cold-start rows, beside ridge regression on frozen
   embeddings (the same training texts, vectors cached on disk) and the per-product mean price;
5. the run folder: ``model/`` (``save_pretrained`` + tokenizer; it outputs ``log(price /
   list_price)``), ``pricing_table.npz`` + ``.json``, ``model_card.json`` (run id, world, data hash,
   config, metrics, training history) and ``run.json`` (command line, package versions, seed),
   written under a temporary name and renamed when complete.

:func:`load_pricer` reads a run folder back and refuses one fitted on another world or other data.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from pricegym.agents.pricer_baselines import FrozenEmbeddingRidge, ProductMeanPrice
from pricegym.agents.pricer_evaluation import by_table_row, evaluation_rows, split_metrics, table_predictor
from pricegym.agents.pricer_model import build_regressor, load_regressor, predict_log_ratios, quiet_transformers
from pricegym.agents.pricer_training import PricerHistory, PricerTrainingConfig, TextTargets, train_pricer
from pricegym.agents.pricing_rows import PricingRows, TextGroups, pricing_rows
from pricegym.agents.pricing_table import TabulatedPricingPolicy
from pricegym.agents.pricing_texts import ContextBuckets
from pricegym.config_checks import Flag, Seed, config_dataclass, integer
from pricegym.encoders.embedding_cache import CachedTextEncoder
from pricegym.encoders.text_encoder import TextEncoder, TextEncoderConfig, resolve_device
from pricegym.encoders.tiny_bert import TINY_BERT_NAME, tiny_bert
from pricegym.errors import ConfigError, DataError
from pricegym.run_records import atomic_run_folder, data_hash, jsonable, write_run_record
from pricegym.worlds import World
from pricegym.worlds.registry import WorldConfig, load_world

FINE_TUNED = "BERT fine-tuned"
TABLED = "BERT pricing table (policy)"
MODEL_DIR = "model"
CARD_FILE = "model_card.json"
TARGET = "log(price / list_price)"


@config_dataclass("fit-pricer")
class FitPricerConfig:
    """The whole configuration of one pricer fit.

    Attributes:
        world: which world, and its own configuration.
        encoder: the model to fine-tune (``tiny-random-bert`` builds a tiny random BERT), its
            ``max_length`` (tokens per input text), inference ``batch_size`` and ``device``.
        training: fine-tuning hyperparameters, including the training subsample's size.
        context_buckets: the market contexts the policy tells apart
            (:data:`~pricegym.agents.pricing_texts.CONTEXT_SCHEMES`).
        state_unit_cost: state each product's unit cost share in its text (where it varies).
        max_eval_rows: rows per evaluated split (a random subsample beyond it).
        max_table_texts: refuse a pricing table needing more model runs than this.
        output_dir: the run folder (must not exist yet, unless ``overwrite``).
        cache_dir: the embedding cache of the frozen-embedding baseline.
        seed: subsampling and initialisation.
    """

    world: WorldConfig = field(default_factory=WorldConfig)
    encoder: TextEncoderConfig = field(default_factory=lambda: TextEncoderConfig(max_length=64))
    training: PricerTrainingConfig = field(default_factory=PricerTrainingConfig)
    context_buckets: str = "season"
    state_unit_cost: Flag = True
    max_eval_rows: integer(1, 100_000_000) = 2_000
    max_table_texts: integer(1, 100_000_000) = 100_000
    output_dir: Path = Path("runs/fit-pricer/synthetic-seed0")
    cache_dir: Path = Path(".cache/embeddings")
    overwrite: Flag = False
    seed: Seed = 0

    def __post_init__(self) -> None:
        ContextBuckets(self.context_buckets)


@dataclass
class PricerFitResult:
    """What a fit produced: the policy, the evaluation tables and where they were saved."""

    policy: TabulatedPricingPolicy
    metrics: pd.DataFrame
    by_row: pd.DataFrame
    history: PricerHistory
    output_dir: Path
    card: dict = field(default_factory=dict)


@dataclass
class FittedPricer:
    """A run folder read back: the regressor, its tokenizer, the pricing table and the model card."""

    model: nn.Module
    tokenizer: Any
    policy: TabulatedPricingPolicy
    card: dict


def fit_pricer(config: FitPricerConfig, progress: bool = True, argv: list[str] | None = None) -> PricerFitResult:
    """Run the whole fit (see the module docstring) and return its result."""
    started = time.perf_counter()
    output_dir = Path(config.output_dir)
    if output_dir.exists() and not config.overwrite:
        raise ConfigError(f"run folder {output_dir} already exists; pass another --out or --overwrite")
    device = resolve_device(config.encoder.device)
    world = load_world(config.world)
    rows = pricing_rows(world, ContextBuckets(config.context_buckets), config.state_unit_cost)
    table_texts = len(rows.table_row_ids) * len(rows.product_ids) * rows.buckets.count
    if table_texts > config.max_table_texts:
        raise ConfigError(f"fit-pricer: the pricing table needs {table_texts:,} model runs ({len(rows.table_row_ids)} "
                          f"rows x {len(rows.product_ids)} products x {rows.buckets.count} context buckets), more "
                          f"than max_table_texts {config.max_table_texts:,}; choose coarser context buckets")
    model, tokenizer = build_regressor(config.encoder, rows.corpus(), config.seed)
    separator = tokenizer.sep_token or "[SEP]"
    rng = np.random.default_rng(config.seed)
    train = _text_targets(rows, "train", config.training.max_train_texts, separator, rng)
    validation = _text_targets(rows, "validation", config.training.max_validation_texts, separator, rng)
    with atomic_run_folder(output_dir) as partial:
        history = train_pricer(model, tokenizer, train, validation, config.training, config.encoder.max_length,
                               device, config.seed, progress)
        policy = tabulate(model, tokenizer, rows, separator, config.encoder, device, progress)
        models = _predictors(config, rows, model, tokenizer, separator, policy, train, validation, device)
        metrics = split_metrics(models, rows, evaluation_rows(rows, config.max_eval_rows, config.seed))
        by_row = by_table_row(policy, rows, rows.rows_of("test") if rows.rows_of("test").size else
                              rows.rows_of("train"))
        card = _model_card(config, world, rows, metrics, history, time.perf_counter() - started)
        _save(partial, model, tokenizer, policy, card, config, argv)
    return PricerFitResult(policy, metrics, by_row, history, output_dir, card)


def tabulate(model: nn.Module, tokenizer: Any, rows: PricingRows, separator: str, encoder: TextEncoderConfig,
             device, progress: bool = False) -> TabulatedPricingPolicy:
    """Run the model once per (table row, product, context bucket) and keep its price ratios."""
    texts = rows.table_texts(separator)
    log_ratios = predict_log_ratios(model, tokenizer, texts, encoder.max_length, device, encoder.batch_size,
                                    progress, description="pricing table")
    shape = (len(rows.table_row_ids), len(rows.product_ids), rows.buckets.count)
    return TabulatedPricingPolicy(np.exp(log_ratios).reshape(shape), rows.list_prices, rows.buckets,
                                  rows.table_row_ids, rows.product_ids, rows.customer_rows)


def _text_targets(rows: PricingRows, split: str, limit: int, separator: str, rng: np.random.Generator) -> TextTargets:
    groups: TextGroups = rows.groups(rows.rows_of(split))
    if len(groups) == 0:
        raise DataError(rows.world, f"no priced row falls in the {split} split; expected a log long enough for "
                                    "training, validation and test periods")
    if len(groups) > limit:
        groups = groups.take(np.sort(rng.choice(len(groups), size=limit, replace=False)))
    return TextTargets(rows.texts(groups.customer_text, groups.product, groups.bucket, separator),
                       groups.log_ratio, groups.count.astype(float))


def _predictors(config: FitPricerConfig, rows: PricingRows, model: nn.Module, tokenizer: Any, separator: str,
                policy: TabulatedPricingPolicy, train: TextTargets, validation: TextTargets, device) -> dict:
    frozen = _frozen_encoder(config, rows)
    ridge = FrozenEmbeddingRidge().fit(frozen.embed(train.texts), train.targets, train.weights,
                                       frozen.embed(validation.texts), validation.targets, validation.weights)
    train_rows = rows.rows_of("train")
    product_mean = ProductMeanPrice().fit(rows.product[train_rows], rows.log_ratio[train_rows], len(rows.product_ids))

    def row_texts(positions: np.ndarray) -> list[str]:
        return rows.texts(rows.customer_text[positions], rows.product[positions], rows.bucket[positions], separator)

    return {
        FINE_TUNED: lambda positions: predict_log_ratios(model, tokenizer, row_texts(positions),
                                                         config.encoder.max_length, device, config.encoder.batch_size),
        TABLED: table_predictor(policy, rows),
        ridge.name: lambda positions: ridge.predict(frozen.embed(row_texts(positions))),
        product_mean.name: lambda positions: product_mean.predict(rows.product[positions]),
    }


def _frozen_encoder(config: FitPricerConfig, rows: PricingRows) -> CachedTextEncoder:
    """The pre-trained (not fine-tuned) encoder behind the embedding cache."""
    if config.encoder.model_name != TINY_BERT_NAME:
        return CachedTextEncoder(TextEncoder(config.encoder), config.cache_dir)
    encoder, tokenizer = tiny_bert(rows.corpus(), seed=config.seed)
    return CachedTextEncoder(TextEncoder.from_model(encoder, tokenizer, config.encoder), config.cache_dir)


def _model_card(config: FitPricerConfig, world: World, rows: PricingRows, metrics: pd.DataFrame,
                history: PricerHistory, seconds: float) -> dict:
    digest = data_hash(world)
    return {
        "run_id": f"pricer-{world.name}-{digest[:12]}-seed{config.seed}-{time.strftime('%Y%m%dT%H%M%S')}",
        "model_name": config.encoder.model_name,
        "max_length": config.encoder.max_length,
        "world": world.name,
        "data_sha256": digest,
        "target": TARGET,
        "context_buckets": rows.buckets.scheme,
        "table_shape": [len(rows.table_row_ids), len(rows.product_ids), rows.buckets.count],
        "rows": {split: int((rows.split == split).sum()) for split in np.unique(rows.split)},
        "config": jsonable(asdict(config)),
        "metrics": metrics.to_dict(orient="records"),
        "training": {**asdict(history), "samples_per_s": history.samples_per_s},
        "seconds": round(seconds, 1),
    }


def _save(folder: Path, model: nn.Module, tokenizer: Any, policy: TabulatedPricingPolicy, card: dict,
          config: FitPricerConfig, argv: list[str] | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with quiet_transformers():
        model.save_pretrained(folder / MODEL_DIR)
        tokenizer.save_pretrained(folder / MODEL_DIR)
    policy.save(folder)
    (folder / CARD_FILE).write_text(json.dumps(card, indent=1, default=str))
    write_run_record(folder, argv, config.seed)


def load_pricer(directory: str | Path, world: World | None = None) -> FittedPricer:
    """Read a run folder written by :func:`fit_pricer`.

    Raises:
        DataError: for a folder without a readable card, model or table, or (``world`` given) one
            fitted on another world or on other data.
    """
    directory = Path(directory)
    try:
        card = json.loads((directory / CARD_FILE).read_text())
    except (OSError, ValueError) as error:
        raise DataError(directory, f"holds no readable {CARD_FILE} ({type(error).__name__}: {error}); expected a "
                                   "run folder written by `pricegym fit-pricer`") from error
    if world is not None:
        check_card_matches_world(card, world, directory)
    model, tokenizer = load_regressor(directory / MODEL_DIR)
    return FittedPricer(model, tokenizer, TabulatedPricingPolicy.load(directory), card)


def check_card_matches_world(card: dict, world: World, source: object = "model card") -> None:
    """Raise :class:`DataError` unless ``card`` was fitted on ``world``'s very transactions."""
    fitted_on = card.get("world")
    if fitted_on != world.name:
        raise DataError(source, f"the pricer was fitted on the {fitted_on!r} world, not on the {world.name!r} world "
                                "given; load it with its own world or fit one with `pricegym fit-pricer`")
    digest = data_hash(world)
    if card.get("data_sha256") != digest:
        raise DataError(source, f"the pricer was fitted on other {world.name} data (data hash "
                                f"{str(card.get('data_sha256'))[:12]}...), not on this world's transactions "
                                f"({digest[:12]}...); use the world options it was fitted with (see its "
                                "model_card.json) or refit with `pricegym fit-pricer`")
