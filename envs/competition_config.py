"""The one typed configuration of the Competition-v0 environment."""

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

ENV_NAME = "Competition-v0"
RIVAL_STRATEGIES = ("undercut", "match", "fixed", "random")


@dataclass(frozen=True)
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
        action_space, ladder_size, price_range, product_pool, embedding_dim, season_start_day,
        appeal_decay, shopper_mix_shift: as for Markdown-v0 (:class:`~pricegym.envs.MarkdownConfig`);
            rivals' prices are kept in the same range as the agent's.
    """

    world: WorldConfig = field(default_factory=WorldConfig)
    demand_source: str = "ground_truth"
    demand_run: Path | None = None
    rivals: tuple[str, ...] = ("undercut", "match")
    undercut_share: float = 0.1
    rival_fixed_price: float = 1.0
    random_levels: int = 5
    rival_appeal: float = 1.0
    horizon: int = 30
    arrival_rate: float = 8.0
    reward: str = "revenue"
    action_space: str = "box"
    ladder_size: int = 21
    price_range: tuple[float, float] | None = None
    product_pool: str = "train"
    embedding_dim: int = 8
    season_start_day: int = 240
    appeal_decay: float = 1.0
    shopper_mix_shift: float = 3.0

    def __post_init__(self) -> None:
        check_demand_source(ENV_NAME, self.demand_source, self.demand_run)
        check_choice(ENV_NAME, "action_space", self.action_space, ACTION_SPACES)
        check_choice(ENV_NAME, "reward", self.reward, REWARDS)
        check_choice(ENV_NAME, "product_pool", self.product_pool, PRODUCT_POOLS)
        if isinstance(self.rivals, str) or not isinstance(self.rivals, tuple | list) or not self.rivals:
            raise ConfigError(f"{ENV_NAME}: rivals must be a non-empty tuple of strategies, each one of "
                              f"{', '.join(RIVAL_STRATEGIES)}; got {self.rivals!r}")
        for strategy in self.rivals:
            check_choice(ENV_NAME, "rival strategy", strategy, RIVAL_STRATEGIES)
        object.__setattr__(self, "rivals", tuple(self.rivals))
        check_positive_int(ENV_NAME, self, "horizon", "ladder_size", "random_levels")
        if self.ladder_size < 2:
            raise ConfigError(f"{ENV_NAME}: ladder_size must be at least 2; got {self.ladder_size}")
        check_finite(ENV_NAME, self, "undercut_share", "rival_fixed_price", "rival_appeal", "arrival_rate",
                     "shopper_mix_shift")
        if not self.arrival_rate > 0:
            raise ConfigError(f"{ENV_NAME}: arrival_rate must be positive; got {self.arrival_rate}")
        if not 0.0 <= self.undercut_share < 1.0:
            raise ConfigError(f"{ENV_NAME}: undercut_share must lie in [0, 1); got {self.undercut_share!r}")
        if not self.rival_fixed_price > 0:
            raise ConfigError(f"{ENV_NAME}: rival_fixed_price must be a positive multiple of the list price; "
                              f"got {self.rival_fixed_price!r}")
        check_non_negative(ENV_NAME, self, "appeal_decay")
        check_non_negative_int(ENV_NAME, self, "embedding_dim", "season_start_day")
        check_price_range(ENV_NAME, self.price_range)
