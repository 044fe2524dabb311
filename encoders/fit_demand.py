"""Fit the BERT demand model on a world, compare it with simpler models, and save it.

``fit_demand(config)`` runs the whole job:

1. the world's rows (:mod:`~pricegym.encoders.demand_rows`) and their time / cold-start splits;
2. frozen embeddings of every distinct text by the pre-trained encoder (cached on disk), for the
   GLM baseline;
3. fine-tuning of the encoder with the monotone price-response head on the training split, with
   early stopping on the validation split; then (``head_refit``) a refit of the head alone on the
   frozen encoder's embeddings over every training row (:mod:`~pricegym.encoders.head_refit`);
4. the simulation-time tables, and a bootstrap of the head for the slopes' uncertainty;
5. the evaluation table of the three models on the test and cold-start splits (and, on the
   synthetic world, the errors against the ground truth), and their deviance and calibration by
   calendar month of every split, with the test months whose season training never saw
   (:mod:`~pricegym.encoders.monthly_metrics`, ``metrics_by_month.csv``, the card's ``by_month``);
6. the run folder: ``encoder/`` (``save_pretrained`` + tokenizer), ``head.pt``, the tables, the
   fine-tuned embeddings of every product and table row (``embeddings.npz``),
   ``model_card.json`` (run id, world, data hash, config, metrics, training history per epoch;
   load the fine-tuned encoder with ``TextEncoder(TextEncoderConfig(model_name=run/"encoder"),
   run_id=card["run_id"])`` so its cached embeddings never mix with the base model's),
   ``run.json`` (command line, package versions, seed) and the best epoch's checkpoint (every
   epoch's with ``keep_all_checkpoints``). It is written under a temporary name and renamed when
   complete, so a failed run leaves nothing half-written.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pricegym.config_checks import Flag, Seed, config_dataclass, integer
from pricegym.encoders.demand_baselines import FrozenEmbeddingDemand, ProductIdDemand
from pricegym.encoders.demand_bootstrap import bootstrap_slope_std
from pricegym.encoders.demand_evaluation import decile_calibration, split_metrics, tables_predictor, truth_metrics
from pricegym.encoders.demand_model import MIN_SLOPE, BertDemandModel
from pricegym.encoders.demand_reduction import tables_from_vectors
from pricegym.encoders.demand_rows import WorldRows, world_rows
from pricegym.encoders.demand_tables import EMBEDDINGS_FILE, DemandTables
from pricegym.encoders.demand_training import DemandTrainingConfig, TrainingHistory, embed_texts, train_demand_model
from pricegym.encoders.embedding_cache import EmbeddingCache
from pricegym.encoders.head_refit import HeadRefitConfig, HeadRefitHistory, refit_head
from pricegym.encoders.monthly_metrics import MONTHLY_METRICS_FILE, monthly_card, run_monthly_metrics
from pricegym.encoders.orthogonal_stage import (
    OrthogonalStageConfig,
    SlopeAnchors,
    fitted_reference_effect,
    fitted_slope_summary,
    orthogonal_anchors,
)
from pricegym.encoders.text_encoder import TextEncoder, TextEncoderConfig
from pricegym.encoders.tiny_bert import TINY_BERT_NAME, tiny_bert
from pricegym.errors import ConfigError
from pricegym.run_records import atomic_run_folder, data_hash, jsonable, write_run_record
from pricegym.worlds import World
from pricegym.worlds.demand import ReferencePriceEffect
from pricegym.worlds.registry import WorldConfig, load_world

FINE_TUNED = "BERT fine-tuned (monotone head)"
VALIDATION_METRICS = {"purchase_probability": "log-loss (validation split)",
                      "expected_quantity": "Poisson deviance up to a constant (validation split)"}


@config_dataclass("fit-demand")
class FitDemandConfig:
    """The whole configuration of one demand fit.

    Attributes:
        world: which world, and its own configuration.
        encoder: the text encoder to fine-tune (``model_name="tiny-random-bert"`` builds a tiny
            random BERT in code, for smoke runs).
        training: fine-tuning hyperparameters.
        head_refit: the second stage, a refit of the price-response head on the fine-tuned
            encoder's cached embeddings over every training row (``epochs=0``: none).
        orthogonal: the orthogonalised stage (:mod:`~pricegym.encoders.orthogonal_stage`): on
            online-retail, group price slopes identified by double machine learning on the training
            period, which the head refit's slopes are pulled toward.
        reference_effect: the documented reference-price parameters of the fitted model.
        bootstrap_rounds: refits of the head for the slope uncertainty (0 or 1: none).
        max_baseline_rows: training rows given to the baselines (a random subsample beyond it).
        max_truth_pairs: customer x product pairs per split compared with the ground truth.
        output_dir: the run folder (must not exist yet, unless ``overwrite``).
        cache_dir: the embedding cache.
        overwrite: replace an existing run folder.
        seed: subsampling, initialisation and bootstrap.
    """

    world: WorldConfig = field(default_factory=WorldConfig)
    encoder: TextEncoderConfig = field(default_factory=TextEncoderConfig)
    training: DemandTrainingConfig = field(default_factory=DemandTrainingConfig)
    head_refit: HeadRefitConfig = field(default_factory=HeadRefitConfig)
    orthogonal: OrthogonalStageConfig = field(default_factory=OrthogonalStageConfig)
    reference_effect: ReferencePriceEffect = field(default_factory=ReferencePriceEffect)
    bootstrap_rounds: integer(0, 1_000) = 8
    max_baseline_rows: integer(1, 100_000_000) = 100_000
    max_truth_pairs: integer(1, 10_000_000) = 2_000
    output_dir: Path = Path("runs/fit-demand/synthetic-seed0")
    cache_dir: Path = Path(".cache/embeddings")
    overwrite: Flag = False
    seed: Seed = 0


@dataclass
class DemandFitResult:
    """What a fit produced: the tables, the evaluation tables and where they were saved."""

    tables: DemandTables
    metrics: pd.DataFrame
    truth_errors: pd.DataFrame | None
    calibration: pd.DataFrame | None
    output_dir: Path
    card: dict = field(default_factory=dict)
    monthly: pd.DataFrame = field(default_factory=pd.DataFrame)


def fit_demand(config: FitDemandConfig, progress: bool = True, argv: list[str] | None = None) -> DemandFitResult:
    """Run the whole fit (see the module docstring) and return its result."""
    output_dir = Path(config.output_dir)
    if output_dir.exists() and not config.overwrite:
        raise ConfigError(f"run folder {output_dir} already exists; pass another --out or --overwrite")
    world = load_world(config.world)
    rows = world_rows(world)
    text_encoder = _load_text_encoder(config, rows)
    frozen = _frozen_embeddings(text_encoder, rows, config.cache_dir)
    with atomic_run_folder(output_dir) as partial:
        reference = fitted_reference_effect(config.orthogonal, world.name, config.reference_effect)
        anchors = orthogonal_anchors(world, rows, frozen[1], config.orthogonal, MIN_SLOPE, config.seed, reference)
        model, history = _fine_tune(config, world, rows, text_encoder, partial / "checkpoints", progress, reference)
        fine_tuned = (embed_texts(text_encoder, rows.data.customer_texts),  # the encoder is frozen from here on
                      embed_texts(text_encoder, rows.data.product_texts))
        refit_history = _refit_head(model, fine_tuned, rows, config.head_refit, anchors)
        text_level = _text_level_tables(model, fine_tuned, rows, config, anchors)
        models = {FINE_TUNED: tables_predictor(text_level),
                  **_fit_baselines(config, world, rows, frozen)}
        metrics = split_metrics(models, rows, world.response)
        truth_errors, calibration = None, None
        if world.response == "expected_quantity":
            calibration = decile_calibration(models[FINE_TUNED], rows)
        if world.ground_truth is not None:
            truth_errors = truth_metrics(models, rows, world.ground_truth, config.max_truth_pairs, config.seed)
        tables = _world_tables(text_level, rows, world.name)
        card = _model_card(config, world, rows, metrics, truth_errors, history, refit_history)
        if anchors is not None:
            card["orthogonal_stage"] = _orthogonal_card(anchors, tables, model.head.min_slope, config.head_refit)
            _save_estimates(partial, anchors)
        monthly, coverage = run_monthly_metrics(models, rows.data, rows.split, rows.timestamp, world.response)
        monthly.to_csv(partial / MONTHLY_METRICS_FILE, index=False)
        card["by_month"] = monthly_card(monthly, coverage)
        _save(partial, model, text_encoder, tables, card, config, argv)
        np.savez(partial / EMBEDDINGS_FILE, product_ids=np.array(rows.product_ids),
                 customer_ids=np.array(rows.customer_ids), product_vectors=fine_tuned[1].cpu().numpy(),
                 customer_vectors=fine_tuned[0].cpu().numpy()[rows.customer_rows])
    return DemandFitResult(tables, metrics, truth_errors, calibration, output_dir, card, monthly)


def _load_text_encoder(config: FitDemandConfig, rows: WorldRows) -> TextEncoder:
    if config.encoder.model_name != TINY_BERT_NAME:
        return TextEncoder(config.encoder)
    model, tokenizer = tiny_bert(rows.data.customer_texts + rows.data.product_texts, seed=config.seed)
    return TextEncoder.from_model(model, tokenizer, config.encoder)


def _frozen_embeddings(text_encoder: TextEncoder, rows: WorldRows, cache_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    cache = EmbeddingCache(cache_dir)
    return (cache.get_or_encode(text_encoder, list(rows.data.customer_texts)),
            cache.get_or_encode(text_encoder, list(rows.data.product_texts)))


def _fine_tune(config: FitDemandConfig, world: World, rows: WorldRows, text_encoder: TextEncoder,
               checkpoint_dir: Path, progress: bool,
               reference: ReferencePriceEffect) -> tuple[BertDemandModel, TrainingHistory]:
    train = rows.rows_of("train")
    base_rate = float(np.clip(train.outcome.mean(), 1e-3, None))
    initial = float(np.log(base_rate / (1 - base_rate))) if world.response == "purchase_probability" \
        else float(np.log(base_rate))
    torch.manual_seed(config.seed)
    model = BertDemandModel(text_encoder.model, text_encoder.config.pooling, reference,
                            world.response, initial_intercept=initial)
    history = train_demand_model(model, text_encoder, train, rows.rows_of("validation"), config.training,
                                 checkpoint_dir, progress)
    return model.eval(), history


def _refit_head(model: BertDemandModel, fine_tuned: tuple[torch.Tensor, torch.Tensor], rows: WorldRows,
                config: HeadRefitConfig, anchors: SlopeAnchors | None) -> HeadRefitHistory:
    """The second stage (:mod:`~pricegym.encoders.head_refit`) on the fine-tuned embeddings (customer texts,
    products), its slopes pulled toward the orthogonalised stage's anchors where there are some."""
    if config.epochs == 0:
        return HeadRefitHistory()
    return refit_head(model, *fine_tuned, rows.rows_of("train"), rows.rows_of("validation"),
                      config, *((anchors.slope, anchors.weight) if anchors is not None else (None, None)))


def _orthogonal_card(anchors: SlopeAnchors, tables: DemandTables, floor: float, refit: HeadRefitConfig) -> dict:
    """The card's ``orthogonal_stage``: the identification's summary, the anchors, and the fitted slopes."""
    return {"summary": anchors.summary, "anchors": anchors.anchors.to_dict(orient="records"),
            "anchor_strength": refit.anchor_strength, "anchors_used": refit.epochs > 0,
            "fitted_slopes": fitted_slope_summary(tables.slope, tables.slope_std, tables.customer_ids, floor)}


def _save_estimates(folder: Path, anchors: SlopeAnchors) -> None:
    """The orthogonalised stage's tables: group and product elasticities, and the anchors."""
    anchors.groups.to_csv(folder / "elasticities.csv", index=False)
    anchors.products.to_csv(folder / "product_elasticities.csv", index=False)
    anchors.anchors.to_csv(folder / "slope_anchors.csv", index=False)


def _text_level_tables(model: BertDemandModel, fine_tuned: tuple[torch.Tensor, torch.Tensor], rows: WorldRows,
                       config: FitDemandConfig, anchors: SlopeAnchors | None = None) -> DemandTables:
    """Tables over customer texts x products from the fine-tuned embeddings (customer texts, products)."""
    customer_vectors, product_vectors = fine_tuned
    anchored = {} if anchors is None or config.head_refit.epochs == 0 else {
        "anchor_slope": anchors.slope, "anchor_weight": anchors.weight,
        "anchor_strength": config.head_refit.anchor_strength}
    slope_std = bootstrap_slope_std(model, customer_vectors, product_vectors, rows.rows_of("train"),
                                    rounds=config.bootstrap_rounds, seed=config.seed, **anchored)
    return tables_from_vectors(model, customer_vectors, product_vectors, rows.list_prices,
                               price_ranges=rows.observed_range * rows.list_prices[:, None], slope_std=slope_std,
                               product_ids=rows.product_ids)


def _world_tables(text_level: DemandTables, rows: WorldRows, world_name: str) -> DemandTables:
    return DemandTables(
        intercept=text_level.intercept[rows.customer_rows], slope=text_level.slope[rows.customer_rows],
        list_prices=text_level.list_prices, context_weights=text_level.context_weights,
        reference_effect=text_level.reference_effect, response=text_level.response,
        price_ranges=text_level.price_ranges, slope_std=text_level.slope_std[rows.customer_rows],
        customer_ids=rows.customer_ids, product_ids=rows.product_ids, world=world_name,
    )


def _fit_baselines(config: FitDemandConfig, world: World, rows: WorldRows,
                   frozen: tuple[np.ndarray, np.ndarray]) -> dict:
    train = rows.rows_of("train")
    if len(train) > config.max_baseline_rows:
        chosen = np.random.default_rng(config.seed).choice(len(train), config.max_baseline_rows, replace=False)
        train = train.take(np.sort(chosen))
    frozen_model = FrozenEmbeddingDemand(frozen[0], frozen[1], world.response).fit(train)
    product_model = ProductIdDemand(world.response).fit(train)
    return {frozen_model.name: frozen_model.predict, product_model.name: product_model.predict}


def _model_card(config: FitDemandConfig, world: World, rows: WorldRows, metrics: pd.DataFrame,
                truth_errors: pd.DataFrame | None, history: TrainingHistory,
                refit_history: HeadRefitHistory | None = None) -> dict:
    digest = data_hash(world)
    return {
        "run_id": f"{world.name}-{digest[:12]}-seed{config.seed}-{time.strftime('%Y%m%dT%H%M%S')}",
        "model_name": config.encoder.model_name,
        "pooling": config.encoder.pooling,
        "max_length": config.encoder.max_length,
        "world": world.name,
        "response": world.response,
        "data_sha256": digest,
        "rows": {split: int((rows.split == split).sum()) for split in np.unique(rows.split)},
        "config": jsonable(asdict(config)),
        "metrics": metrics.to_dict(orient="records"),
        "truth_errors": None if truth_errors is None else truth_errors.to_dict(orient="records"),
        "training": training_card(history, world.response, refit_history),
    }


def training_card(history: TrainingHistory, response: str, head_refit: HeadRefitHistory | None = None) -> dict:
    """The fine-tuning history as the model card records it: per-epoch training and validation loss
    (log-loss for exposures, Poisson deviance up to a constant for counts), the epoch kept (0-based,
    as in the pricer's card; ``best_epoch_number`` counts from 1), optimiser steps, seconds, and the
    checkpoint kept; ``head_refit``: the second stage's losses per epoch (entry 0: before it), the
    epoch kept (0: none), steps and seconds."""
    return {
        **asdict(history),
        "validation_metric": VALIDATION_METRICS[response],
        "epochs_run": len(history.validation_loss),
        "best_epoch_number": history.best_epoch + 1,
        "seconds": round(history.seconds, 1),
        "head_refit": None if head_refit is None else {**asdict(head_refit), "seconds": round(head_refit.seconds, 1)},
    }


def _save(folder: Path, model: BertDemandModel, text_encoder: TextEncoder, tables: DemandTables, card: dict,
          config: FitDemandConfig, argv: list[str] | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    model.encoder.save_pretrained(folder / "encoder")
    text_encoder.tokenizer.save_pretrained(folder / "encoder")
    head_state = {name: value for name, value in model.state_dict().items() if not name.startswith("encoder.")}
    torch.save(head_state, folder / "head.pt")
    tables.save(folder)
    (folder / "model_card.json").write_text(json.dumps(card, indent=1, default=str))
    write_run_record(folder, argv, config.seed)
