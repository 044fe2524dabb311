"""The one typed configuration of the Markdown-v0 environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pricegym.config_checks import (
    check_choice,
    check_finite,
    check_non_negative,
    check_non_negative_int,
    check_positive_int,
)
from pricegym.envs.config_checks import ACTION_SPACES, PRODUCT_POOLS, REWARDS, check_demand_source, check_price_range
from pricegym.errors import ConfigError
from pricegym.worlds.registry import WorldConfig

ENV_NAME = "Markdown-v0"


@dataclass(frozen=True)
class MarkdownConfig:
    """A selling season of ``horizon`` periods for ``n_products`` products with finite inventory.

    Attributes:
        world: the world whose catalogue, customers and calendar the market is drawn from.
        demand_source: ``"ground_truth"`` (the synthetic world's true demand) or ``"fitted"`` (the
            simulation-time tables of a ``pricegym fit-demand`` run, given by ``demand_run``).
        demand_run: a fit-demand run folder: tables, price ranges and fine-tuned embeddings.
        n_products: products sold together (K).
        horizon: periods (days) in the season (T).
        initial_inventory: units of each product at the start of the season; None stocks each
            product by ``stock_cover`` instead.
        stock_cover: with ``initial_inventory=None``, each product starts with this share of its
            forecast season demand at list price (``arrival_rate x horizon x`` the population's mean
            purchase probability at list price), at least one unit: the buyer's stocking rule.
        arrival_rate: mean customers per period (Poisson); each sees every product.
        reward: ``"revenue"`` or ``"margin"`` (revenue minus unit costs of units sold).
        holding_cost: cost per unit of inventory left at the end of each period.
        salvage_share: share of the unit cost recovered per unsold unit at the season's end.
        action_space: ``"box"`` ([-1, 1]^K mapped affinely to each product's price range) or
            ``"ladder"`` (``Discrete(ladder_size)`` for K = 1, ``MultiDiscrete`` otherwise).
        ladder_size: prices on the ladder (evenly spaced over the price range).
        price_range: ``(low, high)`` as multiples of each product's list price; None uses the prices
            observed in the data. With a fitted demand model it can only narrow the observed range,
            since the model is not to be trusted far from the prices it was fitted on.
        product_pool: draw products from the training products or the cold-start test products.
        reference_dynamics: if True, each product's reference price moves after every period,
            ``r <- theta * r + (1 - theta) * price``; if False it stays at the list price.
        embedding_dim: size of the fixed random projection of product embeddings in the
            observation (0: no embeddings). Embeddings come from ``demand_run`` when given.
        season_start_day: the world calendar's day on which the season starts.
        appeal_decay: utility the products lose, linearly, from the first to the last period
            (novelty wears off); 0 keeps demand stationary.
        shopper_mix_shift: how strongly the mix of arriving customers moves over the season from
            the least to the most price-sensitive (early adopters pay full price, bargain hunters
            wait for the sale: the other reason markdowns exist); 0 keeps the mix fixed.
    """

    world: WorldConfig = field(default_factory=WorldConfig)
    demand_source: str = "ground_truth"
    demand_run: Path | None = None
    n_products: int = 1
    horizon: int = 30
    initial_inventory: int | None = None
    stock_cover: float = 0.4
    arrival_rate: float = 8.0
    reward: str = "revenue"
    holding_cost: float = 0.0
    salvage_share: float = 0.0
    action_space: str = "box"
    ladder_size: int = 21
    price_range: tuple[float, float] | None = None
    product_pool: str = "train"
    reference_dynamics: bool = False
    embedding_dim: int = 8
    season_start_day: int = 240
    appeal_decay: float = 1.0
    shopper_mix_shift: float = 3.0

    def __post_init__(self) -> None:
        check_demand_source(ENV_NAME, self.demand_source, self.demand_run)
        check_choice(ENV_NAME, "action_space", self.action_space, ACTION_SPACES)
        check_choice(ENV_NAME, "reward", self.reward, REWARDS)
        check_choice(ENV_NAME, "product_pool", self.product_pool, PRODUCT_POOLS)
        if self.initial_inventory is not None and (not isinstance(self.initial_inventory, int)
                                                   or self.initial_inventory <= 0):
            raise ConfigError(f"{ENV_NAME}: initial_inventory must be a positive integer or None; "
                              f"got {self.initial_inventory!r}")
        check_finite(ENV_NAME, self, "stock_cover", "arrival_rate", "shopper_mix_shift")
        if not self.stock_cover > 0:
            raise ConfigError(f"{ENV_NAME}: stock_cover must be positive; got {self.stock_cover}")
        check_positive_int(ENV_NAME, self, "n_products", "horizon", "ladder_size")
        if self.ladder_size < 2:
            raise ConfigError(f"{ENV_NAME}: ladder_size must be at least 2; got {self.ladder_size}")
        if not self.arrival_rate > 0:
            raise ConfigError(f"{ENV_NAME}: arrival_rate must be positive; got {self.arrival_rate}")
        check_non_negative(ENV_NAME, self, "holding_cost", "salvage_share", "appeal_decay")
        check_non_negative_int(ENV_NAME, self, "embedding_dim", "season_start_day")
        check_price_range(ENV_NAME, self.price_range)
