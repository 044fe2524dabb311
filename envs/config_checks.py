"""Checks and choices specific to the environments' typed configs (the generic checks live in
:mod:`pricegym.config_checks`), and the fingerprint of an episode's draws."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BeforeValidator

from pricegym.config_checks import integer, number, optional
from pricegym.encoders.text_encoder import TextEncoderConfig
from pricegym.errors import ConfigError
from pricegym.worlds.registry import WorldConfig

DemandSource = Literal["ground_truth", "fitted"]
ActionSpace = Literal["box", "ladder"]
Reward = Literal["revenue", "margin"]
ProductPool = Literal["train", "cold_start"]

PriceMultiple = number(0.01, 100.0)
"""A price as a multiple of the list price: within [0.01, 100], utilities stay finite."""


def _ordered_price_range(price_range: tuple[float, float]) -> tuple[float, float]:
    if not price_range[0] < price_range[1]:
        raise ValueError(f"must be (low, high) multiples of the list price with low < high; got {price_range!r}")
    return price_range


PriceRange = optional(Annotated[tuple[PriceMultiple, PriceMultiple], AfterValidator(_ordered_price_range)],
                      "None or (low, high) multiples of the list price with 0.01 <= low < high <= 100")
Horizon = integer(1, 10_000)
ArrivalRate = number(0.01, 1_000.0)
LadderSize = integer(2, 1_001)
EmbeddingDim = optional(integer(1, 4_096), "None (the full vector) or an integer in [1, 4096] (principal components)")
DEFAULT_EMBEDDING_CACHE_DIR = Path(".cache/embeddings")


def env_text_encoder() -> TextEncoderConfig:
    """The environments' default text encoder: all-MiniLM-L6-v2 on the CPU (a few hundred short texts, once;
    environment worker processes never touch a GPU)."""
    return TextEncoderConfig(device="cpu")
"""Where the text encoder's embeddings of a world's texts are cached (as for ``fit-pricer`` and
``bench-speed``)."""
SeasonStartDay = integer(0, 100_000)
AppealDecay = number(0.0, 50.0)
ShopperMixShift = number(-20.0, 20.0)

MAX_CUSTOMER_ROWS_PER_SEASON = 250_000
"""Expected customers x products drawn per season (``arrival_rate x horizon x products``): 16 seasons
are drawn at a time, so this bounds the memory of a draw to a few hundred MB."""


def _world_from_name(value: Any) -> Any:
    """``world="online-retail"`` is short for ``WorldConfig(name="online-retail")``."""
    return WorldConfig(name=value) if isinstance(value, str) else value


World = Annotated[WorldConfig, BeforeValidator(_world_from_name)]


def check_demand_source(env_name: str, demand_source: str, demand_run: object) -> None:
    if demand_source == "fitted" and demand_run is None:
        raise ConfigError(f"{env_name}: demand_source='fitted' needs demand_run, the folder of a "
                          "`pricegym fit-demand` run; or use demand_source='ground_truth'")


def check_customer_rows(env_name: str, arrival_rate: float, horizon: int, n_products: int) -> None:
    """The customers drawn per season must fit in memory."""
    rows = arrival_rate * horizon * n_products
    if rows > MAX_CUSTOMER_ROWS_PER_SEASON:
        raise ConfigError(f"{env_name}: arrival_rate x horizon x products = {arrival_rate:g} x {horizon} x "
                          f"{n_products} = {rows:,.0f} customer rows per season, more than the "
                          f"{MAX_CUSTOMER_ROWS_PER_SEASON:,} that fit in memory; lower one of them")


def fingerprint(*arrays: np.ndarray) -> str:
    """A stable digest of arrays (equal across processes and runs, unlike ``hash``)."""
    digest = hashlib.blake2b(digest_size=12)
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
