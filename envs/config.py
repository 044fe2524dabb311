"""The one typed configuration of the Markdown-v0 environment."""

from __future__ import annotations

from dataclasses import field
from pathlib import Path

from pricegym.config_checks import Flag, config_dataclass, integer, number, optional
from pricegym.encoders.text_encoder import TextEncoderConfig
from pricegym.envs.config_checks import (
    DEFAULT_EMBEDDING_CACHE_DIR,
    ActionSpace,
    AppealDecay,
    ArrivalRate,
    DemandSource,
    EmbeddingDim,
    Horizon,
    LadderSize,
    PriceRange,
    ProductPool,
    Reward,
    SeasonStartDay,
    ShopperMixShift,
    World,
    check_customer_rows,
    check_demand_source,
    env_text_encoder,
)
from pricegym.envs.embeddings import DEFAULT_EMBEDDING_DIM
from pricegym.worlds.registry import WorldConfig

ENV_NAME = "Markdown-v0"


@config_dataclass(ENV_NAME)
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
        observe_embeddings: if True (default), the observation holds the LM embeddings of what each
            decision is about; False removes them (for ablations; no encoder is loaded).
        embedding_dim: None keeps each full embedding (standardised); an integer k keeps the first k
            principal components of a PCA fitted once per world and encoder on the catalogue's and
            the population's embeddings (:mod:`pricegym.envs.embeddings`; the default, 48, keeps 95%
            of the variance on the default world with all-MiniLM-L6-v2); at most the encoder's size.
            The share of variance kept is ``env.unwrapped.embedding_reduction.explained_variance``.
        text_encoder: the encoder of the world's product and customer texts when ``demand_run`` does
            not supply fine-tuned embeddings (ground truth): by default all-MiniLM-L6-v2 on the CPU;
            ``model_name="tiny-random-bert"`` builds a tiny random BERT in code (tests).
        embedding_cache_dir: the on-disk embedding cache of ``text_encoder`` (computed once).
        season_start_day: the world calendar's day on which the season starts.
        appeal_decay: utility the products lose, linearly, from the first to the last period
            (novelty wears off); 0 keeps demand stationary.
        shopper_mix_shift: how strongly the mix of arriving customers moves over the season from
            the least to the most price-sensitive (early adopters pay full price, bargain hunters
            wait for the sale: the other reason markdowns exist); 0 keeps the mix fixed.
    """

    world: World = field(default_factory=WorldConfig)
    demand_source: DemandSource = "ground_truth"
    demand_run: Path | None = None
    n_products: integer(1, 100) = 1
    horizon: Horizon = 30
    initial_inventory: optional(integer(1, 10**9)) = None
    stock_cover: number(0.001, 100.0) = 0.4
    arrival_rate: ArrivalRate = 8.0
    reward: Reward = "revenue"
    holding_cost: number(0.0, 1e6) = 0.0
    salvage_share: number(0.0, 1.0) = 0.0
    action_space: ActionSpace = "box"
    ladder_size: LadderSize = 21
    price_range: PriceRange = None
    product_pool: ProductPool = "train"
    reference_dynamics: Flag = False
    observe_embeddings: Flag = True
    embedding_dim: EmbeddingDim = DEFAULT_EMBEDDING_DIM
    text_encoder: TextEncoderConfig = field(default_factory=env_text_encoder)
    embedding_cache_dir: Path = DEFAULT_EMBEDDING_CACHE_DIR
    season_start_day: SeasonStartDay = 240
    appeal_decay: AppealDecay = 1.0
    shopper_mix_shift: ShopperMixShift = 3.0

    def __post_init__(self) -> None:
        check_demand_source(ENV_NAME, self.demand_source, self.demand_run)
        check_customer_rows(ENV_NAME, self.arrival_rate, self.horizon, self.n_products)
