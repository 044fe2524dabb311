"""The one typed configuration of the PersonalizedDiscount-v0 environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pricegym.config_checks import check_choice, check_non_negative, check_non_negative_int, check_positive_int
from pricegym.envs.config_checks import ACTION_SPACES, PRODUCT_POOLS, check_demand_source
from pricegym.errors import ConfigError
from pricegym.worlds.registry import WorldConfig

ENV_NAME = "PersonalizedDiscount-v0"


@dataclass(frozen=True)
class PersonalizedDiscountConfig:
    """One customer per step from a pool of returning customers; a discount budget per window of visits.

    Attributes:
        world: the world whose catalogue, customers and calendar the episode is drawn from. Its
            demand must be a purchase probability per exposure (the synthetic world).
        demand_source: ``"ground_truth"`` or ``"fitted"`` (the tables of ``demand_run``).
        demand_run: a ``pricegym fit-demand`` run: fitted tables, and the LM embeddings of
            customers and products for the observation (with either demand source).
        n_customers: M, the persistent customers of an episode, drawn from the population by its
            activity weights; each keeps a reference price per product across visits.
        n_products: products on offer in an episode; each visit views one of them, uniformly.
        horizon: visits (steps) per episode; the visitor of each step is uniform over the pool.
        budget_window: N, visits after which the discount budget is refilled.
        discount_budget: the budget of each window, as the average discount per visit it affords,
            in shares of the mean list price: ``budget = discount_budget x N x mean list price``.
        max_discount: the largest discount, as a share of the list price (there are no surcharges:
            prices never exceed the list price). With a fitted demand model prices also stay at or
            above the lowest price it saw in the data.
        action_space: ``"box"`` (``[-1, 1]`` mapped to ``[0, max_discount]``) or ``"ladder"``
            (``Discrete(ladder_size)`` evenly spaced discounts over ``[0, max_discount]``).
        ladder_size: discounts on the ladder.
        visits_per_day: visits per calendar day (market conditions change daily).
        product_pool: ``"train"`` or ``"cold_start"`` products.
        embedding_dim: size of the fixed random projections of customer and product embeddings
            in the observation (0: none).
        season_start_day: the world calendar's day of the first visit.
    """

    world: WorldConfig = field(default_factory=WorldConfig)
    demand_source: str = "ground_truth"
    demand_run: Path | None = None
    n_customers: int = 20
    n_products: int = 2
    horizon: int = 400
    budget_window: int = 50
    discount_budget: float = 0.05
    max_discount: float = 0.5
    action_space: str = "box"
    ladder_size: int = 11
    visits_per_day: int = 20
    product_pool: str = "train"
    embedding_dim: int = 8
    season_start_day: int = 240

    def __post_init__(self) -> None:
        check_demand_source(ENV_NAME, self.demand_source, self.demand_run)
        check_choice(ENV_NAME, "action_space", self.action_space, ACTION_SPACES)
        check_choice(ENV_NAME, "product_pool", self.product_pool, PRODUCT_POOLS)
        check_positive_int(ENV_NAME, self, "n_customers", "n_products", "horizon", "budget_window", "ladder_size",
                           "visits_per_day")
        if self.ladder_size < 2:
            raise ConfigError(f"{ENV_NAME}: ladder_size must be at least 2; got {self.ladder_size}")
        check_non_negative(ENV_NAME, self, "discount_budget")
        check_non_negative_int(ENV_NAME, self, "embedding_dim", "season_start_day")
        if not (isinstance(self.max_discount, int | float) and 0.0 < self.max_discount < 1.0):
            raise ConfigError(f"{ENV_NAME}: max_discount is a share of the list price and must lie in (0, 1); "
                              f"got {self.max_discount!r}")
