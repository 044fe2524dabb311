"""The command line's default values and choices, without importing the modules that define them.

``pricegym --help`` must answer at once, so the parsers cannot import the worlds (pandas) or the
training configs (torch, transformers) to read their defaults. The values below mirror those
configs; ``tests/test_cli.py`` checks that each one equals its source, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

WORLD_NAMES: tuple[str, ...] = ("synthetic", "online-retail")
"""Mirrors :data:`pricegym.worlds.WORLD_NAMES`."""

SPLIT_NAMES: tuple[str, ...] = ("train", "validation", "test", "cold_start_test")
"""Mirrors :data:`pricegym.worlds.splits.SPLIT_NAMES`."""

CONTEXT_SCHEMES: tuple[str, ...] = ("none", "holiday", "season", "season-holiday", "weekday-season-holiday")
"""Mirrors the keys of :data:`pricegym.agents.pricing_texts.CONTEXT_SCHEMES`."""

CACHE_DIR = Path(".cache/embeddings")
"""The embedding cache of every command (mirrors ``FitDemandConfig.cache_dir``)."""


@dataclass(frozen=True)
class WorldDefaults:
    """Mirrors ``SyntheticWorldConfig`` (sizes, seed, exploration) and ``WorldConfig.unit_cost_share``."""

    seed: int = 0
    n_products: int = 160
    n_customers: int = 800
    n_exposures: int = 60_000
    n_days: int = 364
    exploration_share: float = 0.2
    unit_cost_share: float = 0.6


@dataclass(frozen=True)
class DemandFitDefaults:
    """Mirrors ``TextEncoderConfig``, ``DemandTrainingConfig`` and ``FitDemandConfig``."""

    model: str = "all-MiniLM-L6-v2"
    max_length: int = 64
    epochs: int = 3
    products_per_step: int = 24
    customer_texts_per_step: int = 16
    max_steps_per_epoch: int = 60
    encoder_lr: float = 5e-5
    bootstrap_rounds: int = 8


@dataclass(frozen=True)
class PricerFitDefaults:
    """Mirrors ``PricerTrainingConfig`` and ``FitPricerConfig`` (model and text length are the command's own)."""

    model: str = "all-MiniLM-L6-v2"
    max_length: int = 64
    context: str = "season"
    epochs: int = 3
    batch_size: int = 32
    max_train_texts: int = 1_200
    encoder_lr: float = 8e-5
    max_eval_rows: int = 2_000


WORLD = WorldDefaults()
DEMAND_LOG = WorldDefaults(n_exposures=1_000_000, exploration_share=0.4)
"""The synthetic world ``fit-demand`` fits on by default: the same world with a longer exploration log
(mirrors :func:`pricegym.worlds.synthetic.config.demand_log`)."""
DEMAND_FIT = DemandFitDefaults()
PRICER_FIT = PricerFitDefaults()

def default_run_folder(command: str, world: str, seed: int) -> Path:
    """Where ``pricegym COMMAND`` writes its run by default: ``runs/COMMAND/WORLD-seedSEED``
    (``runs/fit-demand/synthetic-seed0`` for ``pricegym fit-demand --world synthetic``)."""
    return Path("runs") / command / f"{world}-seed{seed}"
