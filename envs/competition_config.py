"""The one typed configuration of the Competition-v0 environment."""

from __future__ import annotations

from dataclasses import field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from pricegym.config_checks import Flag, config_dataclass, integer, number
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
    PriceMultiple,
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
from pricegym.errors import ConfigError
from pricegym.worlds.registry import WorldConfig

ENV_NAME = "Competition-v0"
RivalStrategy = Literal["undercut", "match", "fixed", "random"]
RIVAL_STRATEGIES = RivalStrategy.__args__
MAX_RIVALS = 8
RIVALS_DESCRIPTION = f"a tuple of 1 to {MAX_RIVALS} rival strategies, each one of {', '.join(RIVAL_STRATEGIES)}"


@config_dataclass(ENV_NAME)
class CompetitionConfig:
    """One product sold against rule-based rivals over a season; customers choose by multinomial logit.

    Attributes:
        world: the world whose catalogue, customers and calendar the market is drawn from.
        demand_source: ``"ground_truth"`` or ``"fitted"`` (the tables of ``demand_run``).
        demand_run: a ``pricegym fit-demand`` run: fitted tables and the products' LM embeddings.
        rivals: one strategy per rival seller, each reacting to the agent's price of the previous
            period: ``"undercut"`` (``(1 - undercut_share) x`` that price), ``"match"`` (that price),
            ``"fixed"`` (``rival_fixed_price x`` list price, always) or ``"random"`` (uniform over
            ``random_levels`` evenly spaced prices of the range, drawn at reset).
        undercut_share: how far an undercutting rival goes below the agent's last price.
        rival_fixed_price: the fixed rival's price, as a multiple of the list price.
        random_levels: prices a random rival picks among.
        rival_appeal: utility of buying from a rival rather than from the agent at equal prices
            (by default the rivals are the established sellers and the agent the newcomer).
        horizon: periods (days) in the season.
        arrival_rate: mean customers per period (Poisson).
        reward: ``"revenue"`` or ``"margin"``.
        action_space, ladder_size, price_range, product_pool, observe_embeddings, embedding_dim,
        text_encoder, embedding_cache_dir, season_start_day, appeal_decay, shopper_mix_shift: as for
            Markdown-v0 (:class:`~pricegym.envs.MarkdownConfig`); rivals' prices are kept in the same
            range as the agent's.
    """

    world: World = field(default_factory=WorldConfig)
    demand_source: DemandSource = "ground_truth"
    demand_run: Path | None = None
    rivals: Annotated[tuple[RivalStrategy, ...], Field(description=RIVALS_DESCRIPTION)] = ("undercut", "match")
    undercut_share: number(0.0, 0.99) = 0.1
    rival_fixed_price: PriceMultiple = 1.0
    random_levels: integer(1, 1_001) = 5
    rival_appeal: number(-20.0, 20.0) = 1.0
    horizon: Horizon = 30
    arrival_rate: ArrivalRate = 8.0
    reward: Reward = "revenue"
    action_space: ActionSpace = "box"
    ladder_size: LadderSize = 21
    price_range: PriceRange = None
    product_pool: ProductPool = "train"
    observe_embeddings: Flag = True
    embedding_dim: EmbeddingDim = DEFAULT_EMBEDDING_DIM
    text_encoder: TextEncoderConfig = field(default_factory=env_text_encoder)
    embedding_cache_dir: Path = DEFAULT_EMBEDDING_CACHE_DIR
    season_start_day: SeasonStartDay = 240
    appeal_decay: AppealDecay = 1.0
    shopper_mix_shift: ShopperMixShift = 3.0

    def __post_init__(self) -> None:
        check_demand_source(ENV_NAME, self.demand_source, self.demand_run)
        if not 1 <= len(self.rivals) <= MAX_RIVALS:
            raise ConfigError(f"{ENV_NAME}: rivals must be {RIVALS_DESCRIPTION}; got {self.rivals!r}")
        check_customer_rows(ENV_NAME, self.arrival_rate, self.horizon, 1 + len(self.rivals))
