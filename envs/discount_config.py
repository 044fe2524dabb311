"""The one typed configuration of the PersonalizedDiscount-v0 environment."""

from __future__ import annotations

from dataclasses import field
from pathlib import Path

from pricegym.config_checks import Flag, config_dataclass, integer, number, optional
from pricegym.encoders.text_encoder import TextEncoderConfig
from pricegym.envs.config_checks import (
    DEFAULT_EMBEDDING_CACHE_DIR,
    ActionSpace,
    DemandSource,
    EmbeddingDim,
    LadderSize,
    ProductPool,
    Reward,
    SeasonStartDay,
    World,
    check_demand_source,
    env_text_encoder,
)
from pricegym.envs.discount_scenarios import DEFAULT_SCENARIO, SCENARIOS, DiscountScenario, ScenarioName
from pricegym.envs.embeddings import DEFAULT_EMBEDDING_DIM
from pricegym.worlds.registry import WorldConfig

ENV_NAME = "PersonalizedDiscount-v0"


@config_dataclass(ENV_NAME)
class PersonalizedDiscountConfig:
    """One customer per step from a pool of returning customers; a discount budget per window of visits.

    Attributes:
        scenario: the retail economics (:mod:`pricegym.envs.discount_scenarios`): ``"high-margin"``
            (unit costs 17.5-30% of list, a 3% budget, margin), ``"promotion-budget"`` (revenue, a 3%
            budget) or ``"mid-margin"`` (the world's unit costs, 35-60% of list, a 5% budget).
            ``unit_cost_scale``, ``discount_budget`` and ``reward`` left at None take its values;
            ``config.economics`` holds the values in force.
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
            in shares of the mean list price: ``budget = discount_budget x N x mean list price``
            (None: the scenario's).
        unit_cost_scale: multiplies the world's unit costs (None: the scenario's).
        reward: ``"margin"`` (price - unit cost of a sale) or ``"revenue"`` (None: the scenario's).
        max_discount: the largest discount, as a share of the list price (there are no surcharges:
            prices never exceed the list price). With a fitted demand model prices also stay at or
            above the lowest price it saw in the data.
        action_space: ``"box"`` (``[-1, 1]`` mapped to ``[0, max_discount]``) or ``"ladder"``
            (``Discrete(ladder_size)`` evenly spaced discounts over ``[0, max_discount]``).
        ladder_size: discounts on the ladder.
        visits_per_day: visits per calendar day (market conditions change daily).
        product_pool: ``"train"`` or ``"cold_start"`` products.
        observe_embeddings, embedding_dim, text_encoder, embedding_cache_dir: as for Markdown-v0
            (:class:`~pricegym.envs.MarkdownConfig`), for the visitor's profile and the viewed product.
        season_start_day: the world calendar's day of the first visit.
    """

    world: World = field(default_factory=WorldConfig)
    demand_source: DemandSource = "ground_truth"
    demand_run: Path | None = None
    n_customers: integer(1, 100_000) = 20
    n_products: integer(1, 100) = 2
    horizon: integer(1, 1_000_000) = 400
    budget_window: integer(1, 1_000_000) = 50
    scenario: ScenarioName = DEFAULT_SCENARIO
    discount_budget: optional(number(0.0, 1_000.0)) = None
    unit_cost_scale: optional(number(0.0, 10.0)) = None
    reward: optional(Reward, "None (the scenario's) or one of 'revenue', 'margin'") = None
    max_discount: number(0.01, 0.99) = 0.5
    action_space: ActionSpace = "box"
    ladder_size: LadderSize = 11
    visits_per_day: integer(1, 1_000_000) = 20
    product_pool: ProductPool = "train"
    observe_embeddings: Flag = True
    embedding_dim: EmbeddingDim = DEFAULT_EMBEDDING_DIM
    text_encoder: TextEncoderConfig = field(default_factory=env_text_encoder)
    embedding_cache_dir: Path = DEFAULT_EMBEDDING_CACHE_DIR
    season_start_day: SeasonStartDay = 240

    def __post_init__(self) -> None:
        check_demand_source(ENV_NAME, self.demand_source, self.demand_run)

    @property
    def economics(self) -> DiscountScenario:
        """The scenario's unit-cost scale, budget and reward, with the values set in this config instead."""
        scenario = SCENARIOS[self.scenario]
        return DiscountScenario(
            name=scenario.name,
            unit_cost_scale=scenario.unit_cost_scale if self.unit_cost_scale is None else self.unit_cost_scale,
            discount_budget=scenario.discount_budget if self.discount_budget is None else self.discount_budget,
            reward=scenario.reward if self.reward is None else self.reward)
