"""The one typed configuration of the Markdown-v0 environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pricegym.errors import ConfigError
from pricegym.worlds.registry import WorldConfig

DEMAND_SOURCES = ("ground_truth", "fitted")
ACTION_SPACES = ("box", "ladder")
REWARDS = ("revenue", "margin")
PRODUCT_POOLS = ("train", "cold_start")


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
        _choice("demand_source", self.demand_source, DEMAND_SOURCES)
        _choice("action_space", self.action_space, ACTION_SPACES)
        _choice("reward", self.reward, REWARDS)
        _choice("product_pool", self.product_pool, PRODUCT_POOLS)
        if self.initial_inventory is not None and (not isinstance(self.initial_inventory, int)
                                                   or self.initial_inventory <= 0):
            raise ConfigError(f"Markdown-v0: initial_inventory must be a positive integer or None; "
                              f"got {self.initial_inventory!r}")
        if not self.stock_cover > 0:
            raise ConfigError(f"Markdown-v0: stock_cover must be positive; got {self.stock_cover}")
        for name in ("n_products", "horizon", "ladder_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ConfigError(f"Markdown-v0: {name} must be a positive integer; got {value!r}")
        if self.ladder_size < 2:
            raise ConfigError(f"Markdown-v0: ladder_size must be at least 2; got {self.ladder_size}")
        if not self.arrival_rate > 0:
            raise ConfigError(f"Markdown-v0: arrival_rate must be positive; got {self.arrival_rate}")
        for name in ("holding_cost", "salvage_share", "embedding_dim", "season_start_day", "appeal_decay"):
            if getattr(self, name) < 0:
                raise ConfigError(f"Markdown-v0: {name} must be >= 0; got {getattr(self, name)}")
        if self.price_range is not None and not (len(self.price_range) == 2
                                                 and 0 < self.price_range[0] < self.price_range[1]):
            raise ConfigError(f"Markdown-v0: price_range must be (low, high) multiples of list price with "
                              f"0 < low < high; got {self.price_range!r}")
        if self.demand_source == "fitted" and self.demand_run is None:
            raise ConfigError("Markdown-v0: demand_source='fitted' needs demand_run, the folder of a "
                              "`pricegym fit-demand` run; or use demand_source='ground_truth'")


def _choice(name: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ConfigError(f"Markdown-v0: unknown {name} {value!r}; choose one of {', '.join(valid)}")
