"""The speed figures of the language-model and demand stages (registered with ``pricegym bench-speed``).

* ``embed_per_s_uncached`` / ``embed_per_s_cached``: texts per second through the packaged
  all-MiniLM-L6-v2, encoding and writing the embedding cache, then reading it back
  (:func:`~pricegym.encoders.bench_embedding.measure_embedding_speed`), on the synthetic world's
  product and customer texts;
* ``finetune_samples_per_s``: input texts per second through optimiser steps of the supervised
  pricer's regressor (all-MiniLM-L6-v2; a tiny random BERT under ``--quick``), batch 32;
* ``demand_decisions_per_s``: purchase decisions per second from a fitted model's simulation-time
  tables (:class:`~pricegym.encoders.demand_tables.DemandTables`), 100,000 rows with reference prices;
* ``demand_floor_decisions_per_s``: the same rows through the synthetic world's closed-form ground
  truth in numpy: the same work without any language model. The demand figure's ``time_vs_floor``
  is its time per decision over the floor's (the target: at most 3).
"""

from __future__ import annotations

import time

import numpy as np

from pricegym.agents.pricer_model import build_regressor
from pricegym.agents.pricer_training import PricerTrainingConfig, optimizer_and_schedule, training_step
from pricegym.agents.pricing_rows import pricing_rows
from pricegym.encoders.bench_embedding import measure_embedding_speed
from pricegym.encoders.text_encoder import DEFAULT_MODEL, TextEncoder, TextEncoderConfig
from pricegym.encoders.tiny_bert import TINY_BERT_NAME
from pricegym.experiments.bench_speed import BenchContext, register_figure
from pricegym.experiments.decision_speed import (
    TRUTH_TABLES_SOURCE,
    decision_rows,
    decisions_per_second,
    run_tables,
    truth_tables,
)
from pricegym.worlds.synthetic import SyntheticWorld, SyntheticWorldConfig

FULL = {"texts": 256, "finetune_steps": 6, "rows": 100_000, "repeats": 20, "exposures": 60_000}
QUICK = {"texts": 32, "finetune_steps": 2, "rows": 100_000, "repeats": 3, "exposures": 2_000}
FINETUNE_BATCH = 32
MAX_LENGTH = 64


def _sizes(context: BenchContext) -> dict[str, int]:
    return QUICK if context.quick else FULL


def _world(context: BenchContext) -> SyntheticWorld:
    """The default synthetic world (a shorter log under ``--quick``: same customers and products)."""
    exposures = _sizes(context)["exposures"]
    return context.once("synthetic_world", lambda: SyntheticWorld.build(SyntheticWorldConfig(n_exposures=exposures)))


def _embedding(context: BenchContext) -> dict:
    def measure() -> dict:
        world = _world(context)
        texts = list(dict.fromkeys([*world.products["product_text"], *world.customers["customer_text"]]))
        encoder = TextEncoder(TextEncoderConfig(device=str(context.device)))
        return measure_embedding_speed(encoder, texts[:_sizes(context)["texts"]], context.config.cache_dir)

    return context.once("embedding", measure)


def _embedding_figure(context: BenchContext, name: str, kind: str) -> dict:
    measured = _embedding(context)
    return {"name": name, "value": round(measured[f"{kind}_texts_per_s"], 1), "unit": "texts/s",
            "device": measured["device"], "model": DEFAULT_MODEL, "texts": measured["texts"],
            "batch_size": measured["batch_size"], "max_length": measured["max_length"],
            "seconds": round(measured[f"{kind}_seconds"], 4)}


@register_figure("embed_per_s_uncached")
def embed_per_s_uncached(context: BenchContext) -> dict:
    """Texts per second encoded by the base model and written to a fresh embedding cache."""
    return _embedding_figure(context, "embed_per_s_uncached", "uncached")


@register_figure("embed_per_s_cached")
def embed_per_s_cached(context: BenchContext) -> dict:
    """Texts per second read back from the embedding cache (a new cache object, as a later run would)."""
    return _embedding_figure(context, "embed_per_s_cached", "cached")


@register_figure("finetune_samples_per_s")
def finetune_samples_per_s(context: BenchContext) -> dict:
    """Input texts per second through the pricer's optimiser steps (forward, backward, clip, AdamW)."""
    model_name = TINY_BERT_NAME if context.quick else DEFAULT_MODEL
    steps = _sizes(context)["finetune_steps"]
    rows = pricing_rows(_world(context))
    groups = rows.groups(rows.rows_of("train"))
    chosen = np.random.default_rng(context.config.seed).choice(len(groups), size=FINETUNE_BATCH * (steps + 1))
    texts = rows.texts(groups.customer_text[chosen], groups.product[chosen], groups.bucket[chosen], "[SEP]")
    targets, weights = groups.log_ratio[chosen], groups.count[chosen].astype(float)
    model, tokenizer = build_regressor(TextEncoderConfig(model_name=model_name), rows.corpus(), context.config.seed)
    model.to(context.device).train()
    training = PricerTrainingConfig()
    optimizer, schedule = optimizer_and_schedule(model, training, steps + 1)
    seconds = 0.0
    for step in range(steps + 1):  # the first step (allocations, warm caches) is not timed
        batch = slice(step * FINETUNE_BATCH, (step + 1) * FINETUNE_BATCH)
        started = time.perf_counter()
        training_step(model, tokenizer, texts[batch], targets[batch], weights[batch], optimizer, schedule, training,
                      MAX_LENGTH, context.device)
        seconds += (time.perf_counter() - started) if step else 0.0
    tokens = tokenizer(texts, truncation=True, max_length=MAX_LENGTH)["input_ids"]
    return {"name": "finetune_samples_per_s", "value": round(steps * FINETUNE_BATCH / seconds, 2), "unit": "samples/s",
            "device": str(context.device), "model": model_name, "batch_size": FINETUNE_BATCH, "steps": steps,
            "mean_tokens": round(float(np.mean([len(ids) for ids in tokens])), 1),
            "what": "supervised pricer regressor: forward, backward, clipping, AdamW step"}


def _decisions(context: BenchContext):
    sizes = _sizes(context)
    return context.once("decision_rows", lambda: decision_rows(_world(context), sizes["rows"], context.config.seed))


def _floor_rate(context: BenchContext) -> float:
    return context.once("floor_rate", lambda: decisions_per_second(
        _world(context).ground_truth, _decisions(context), _sizes(context)["repeats"], context.config.seed))


@register_figure("demand_decisions_per_s")
def demand_decisions_per_s(context: BenchContext) -> dict:
    """Purchase decisions per second from the fitted model's simulation-time tables."""
    world, rows = _world(context), _decisions(context)
    run = context.config.demand_run
    tables = run_tables(run, world) if run is not None else truth_tables(world)
    rate = decisions_per_second(tables, rows, _sizes(context)["repeats"], context.config.seed)
    return {"name": "demand_decisions_per_s", "value": round(rate), "unit": "decisions/s", "device": "cpu",
            "backend": "numpy", "rows": len(rows), "repeats": _sizes(context)["repeats"],
            "source": f"fitted run {run}" if run is not None else TRUTH_TABLES_SOURCE,
            "time_vs_floor": round(_floor_rate(context) / rate, 2)}


@register_figure("demand_floor_decisions_per_s")
def demand_floor_decisions_per_s(context: BenchContext) -> dict:
    """Purchase decisions per second from the synthetic world's closed-form truth (no language model)."""
    return {"name": "demand_floor_decisions_per_s", "value": round(_floor_rate(context)), "unit": "decisions/s",
            "device": "cpu", "backend": "numpy", "rows": len(_decisions(context)),
            "repeats": _sizes(context)["repeats"], "source": "synthetic world ground truth (GroundTruthDemand.demand)"}
