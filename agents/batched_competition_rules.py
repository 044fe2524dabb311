"""Competition-v0's rule baselines and its oracle, acting on whole batches of seasons.

The batched twins of :mod:`pricegym.agents.competition_baselines`: each earns, on a seeded slot, what
its single-episode twin earns on the single environment under that seed (same grid of prices, same
plans, same price-to-action map), and answers ``predict(observations) -> (actions, None)`` for all B
seasons at once, so that ``evaluate_policy(rule, vec_env)`` runs it (:class:`BatchedRule`).

* :class:`BatchedCompetitionListPriceRule` - the grid price nearest the list price (the twin of
  :class:`~pricegym.agents.competition_baselines.CompetitionListPricePolicy`; the generic
  :class:`~pricegym.agents.batched_rules.BatchedListPriceRule` prices at the list price itself, which
  on the box is not a grid price, so it matches the single rule on a ladder only).
* :class:`BatchedCompetitionFixedPriceRule` - the grid price of best exact expected season return.
* :class:`BatchedCompetitionMyopicRule` - each period, the best expected reward against the rivals'
  current prices.
* :class:`BatchedBestResponseRule` - the dynamic program's optimal policy (the ``upper_bound``).

What they read: the context of :class:`~pricegym.envs.competition_batch.CompetitionBatch`
(``vec_env.policy_context()``): each slot's product, prices, period, previous price, rivals' prices
and random rivals' levels, and the shared ``model`` (market and config) the model-based rules plan
with (:func:`~pricegym.envs.competition_oracle.season_problem`).

Caching: a plan depends on the season's product only (its list price, cost and range follow from it;
the random rivals' levels are read at each step), so each rule plans a product the first time a slot
plays it and keeps the plan in a table stacked by product (:class:`PlanTable`). Every step looks each
slot's plan up by its product (one vectorised gather), so any new episode - a reset, seeded or not, or
an autoreset - finds its plan with no need to watch ``episode_start``; the action is then a few
vectorised gathers (the myopic rule computes its choice probabilities for the whole batch, in chunks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from pricegym.agents.batched_rules import BatchedRule
from pricegym.agents.competition_baselines import MAX_MYOPIC_OPERATIONS
from pricegym.envs.competition_config import ENV_NAME
from pricegym.envs.competition_oracle import (
    CompetitionModel,
    SeasonTerms,
    best_response,
    check_season_cost,
    fixed_price_values,
    season_grid,
    season_problem,
)
from pricegym.envs.input_checks import checked_grid_size
from pricegym.envs.rivals import price_utility
from pricegym.errors import ConfigError

GRID_SIZE = 41
"""Prices of the box's range the rules compare (the single rules' default ``grid_size``); a ladder offers its rungs."""
CHUNK_VALUES = 2**22
"""Values of the ``[slots, customers, grid]`` choice shares the myopic rule computes at a time (32 MB)."""

Plan = dict[str, np.ndarray]
"""A product's plan: named arrays of the same shapes for every product (``grid``: its ``[G]`` prices)."""


class PlanTable:
    """Per-product plans, each made once, stacked by product for vectorised lookups.

    ``plan(terms)`` makes the plan of a season of :class:`~pricegym.envs.competition_oracle.SeasonTerms`;
    ``parts[name]`` stacks the plans' arrays ``name`` (``[rows, ...]``, row r the r-th product planned).
    """

    def __init__(self, n_products: int, plan: Callable[[SeasonTerms], Plan]) -> None:
        self._plan = plan
        self._row_of = np.full(n_products, -1, dtype=np.int64)
        self.parts: dict[str, np.ndarray] = {}
        self.size = 0

    def rows(self, context: dict[str, Any]) -> np.ndarray:
        """``[B]`` each slot's row in :attr:`parts`, planning first the products no slot has played yet."""
        products = context["product"]
        rows = self._row_of[products]
        if (rows < 0).any():
            new, slots = np.unique(products[rows < 0], return_index=True)
            slots = np.flatnonzero(rows < 0)[slots]
            for product, slot in zip(new.tolist(), slots.tolist(), strict=True):
                self._add(product, self._plan(season_terms(context, slot)))
            rows = self._row_of[products]
        return rows

    def _add(self, product: int, plan: Plan) -> None:
        """Store ``plan`` as the next row (growing the stacks by doubling)."""
        capacity = next(iter(self.parts.values())).shape[0] if self.parts else 0
        if self.size == capacity:
            grown = max(8, 2 * capacity)
            for name, value in plan.items():
                stack = np.empty((grown, *np.shape(value)), dtype=np.asarray(value).dtype)
                if capacity:
                    stack[:capacity] = self.parts[name]
                self.parts[name] = stack
        for name, value in plan.items():
            self.parts[name][self.size] = value
        self._row_of[product] = self.size
        self.size += 1


def season_terms(context: dict[str, Any], slot: int) -> SeasonTerms:
    """The season terms of slot ``slot`` of a Competition-v0 policy context."""
    return SeasonTerms(int(context["product"][slot]), *(float(context[key][slot]) for key in (
        "list_price", "unit_cost", "low", "high", "start_price")))


class _BatchedCompetitionRule(BatchedRule):
    """Base of the batched Competition-v0 rules: a :class:`PlanTable` of per-product plans (:meth:`plan`), and
    each step the prices of :meth:`_prices` as actions."""

    knows = "the list prices and price ranges"

    def __init__(self, vec_env: Any, grid_size: int = GRID_SIZE) -> None:
        super().__init__(vec_env)
        context = self.context()
        if "model" not in context or not isinstance(context["model"], CompetitionModel):
            raise ConfigError(f"{type(self).__name__} plays {ENV_NAME} only: its policy context has no "
                              "CompetitionModel under 'model'")
        self.model: CompetitionModel = context["model"]
        self.grid_size = checked_grid_size(ENV_NAME, grid_size)
        self.plans = PlanTable(self.model.market.list_prices.size, self.plan)

    def plan(self, terms: SeasonTerms) -> Plan:
        """The plan of a season of ``terms`` (at least its ``grid``)."""
        return {"grid": season_grid(self.model.config, terms.low, terms.high, self.grid_size)}

    def _actions(self, observations: np.ndarray) -> np.ndarray:
        context = self.context()
        rows = self.plans.rows(context)
        prices = self._prices(context, rows, self.plans.parts["grid"][rows])
        return self.actions_for_prices(prices, context["low"], context["high"])

    def _prices(self, context: dict[str, Any], rows: np.ndarray, grid: np.ndarray) -> np.ndarray:
        """``[B]`` every slot's price (``rows``: the slots' plan rows; ``grid``: ``[B, G]`` their prices)."""
        raise NotImplementedError

    def _demand_knowledge(self, rivals: str = "the rivals' rules") -> str:
        """What a model-based rule knows: the environment's demand (its source named) and ``rivals``."""
        source = "the fitted tables the environment simulates" if self.model.config.demand_source == "fitted" \
            else "the ground truth"
        return f"the true demand ({source}) and {rivals}"


class BatchedCompetitionListPriceRule(_BatchedCompetitionRule):
    """The grid price nearest the list price, every period (the single rule's grid: the ladder, or
    ``grid_size`` prices of the box's range)."""

    name = "list price"

    def plan(self, terms: SeasonTerms) -> Plan:
        grid = super().plan(terms)["grid"]
        return {"grid": grid, "price": grid[int(np.argmin(np.abs(grid - terms.list_price)))]}

    def _prices(self, context, rows, grid):
        return self.plans.parts["price"][rows]


class BatchedCompetitionFixedPriceRule(_BatchedCompetitionRule):
    """The single grid price with the best exact expected season return, every period (planned per product)."""

    name = "best fixed price"

    def __init__(self, vec_env: Any, grid_size: int = GRID_SIZE) -> None:
        super().__init__(vec_env, grid_size)
        check_season_cost(self.model.config, self.model.n_customers, self.grid_size)
        self.knows = self._demand_knowledge()

    def plan(self, terms: SeasonTerms) -> Plan:
        grid = super().plan(terms)["grid"]
        return {"grid": grid, "price": grid[np.argmax(fixed_price_values(season_problem(self.model, terms, grid)))]}

    def _prices(self, context, rows, grid):
        return self.plans.parts["price"][rows]


class BatchedBestResponseRule(_BatchedCompetitionRule):
    """The dynamic program's optimal policy: per (period, previous grid price, random rivals' levels), planned
    per product (:func:`~pricegym.envs.competition_oracle.best_response`)."""

    name = "best response (dynamic program)"

    def __init__(self, vec_env: Any, grid_size: int = GRID_SIZE) -> None:
        super().__init__(vec_env, grid_size)
        config = self.model.config
        check_season_cost(config, self.model.n_customers, self.grid_size)
        n_random = sum(name == "random" for name in config.rivals)
        self._level_weights = config.random_levels ** np.arange(n_random - 1, -1, -1)  # itertools.product order
        self.knows = self._demand_knowledge()

    def plan(self, terms: SeasonTerms) -> Plan:
        grid = super().plan(terms)["grid"]
        policy = best_response(season_problem(self.model, terms, grid)).policy[0]  # [T, G + 1, S]
        return {"grid": grid, "policy": policy.astype(np.int16 if grid.size < 2**15 else np.int64)}

    def _prices(self, context, rows, grid):
        slots, period = np.arange(rows.size), context["period"]
        now = np.minimum(period, self.model.config.horizon - 1)
        nearest = np.argmin(np.abs(grid - context["previous_price"][:, None]), axis=1)
        state = np.where(period == 0, grid.shape[1], nearest)
        level = context["level_draws"][slots, now] @ self._level_weights if self._level_weights.size else 0
        return grid[slots, self.plans.parts["policy"][rows, now, state, level]]


class BatchedCompetitionMyopicRule(_BatchedCompetitionRule):
    """Each period, the grid price of best expected reward against the rivals' current prices, blind to how they
    will react: the population's choice probabilities of the period, for the whole batch at once."""

    name = "myopic"

    def __init__(self, vec_env: Any, grid_size: int = GRID_SIZE) -> None:
        super().__init__(vec_env, grid_size)
        config = self.model.config
        grid = config.ladder_size if config.action_space == "ladder" else self.grid_size
        work = config.horizon * self.model.n_customers * grid * (len(config.rivals) + 1)
        if work > MAX_MYOPIC_OPERATIONS:
            raise ConfigError(f"{ENV_NAME}: the myopic rule would compute {work:.3g} choice probabilities per episode "
                              f"(horizon x customers x price grid x sellers), more than the "
                              f"{MAX_MYOPIC_OPERATIONS:.0e} that finish in about a minute; lower horizon, ladder_size "
                              "(or grid_size) or the rivals")
        self.knows = self._demand_knowledge("the rivals' current prices")

    def plan(self, terms: SeasonTerms) -> Plan:
        intercept, slope = self.model.utilities(terms.product)
        return {**super().plan(terms), "intercept": intercept, "slope": slope}

    def _prices(self, context, rows, grid):
        model, parts = self.model, self.plans.parts
        period = np.minimum(context["period"], model.config.horizon - 1)
        step = max(1, CHUNK_VALUES // (model.n_customers * grid.shape[1]))
        share = np.empty(grid.shape)
        for start in range(0, rows.size, step):
            chunk = slice(start, start + step)
            share[chunk] = mean_agent_shares(
                model, parts["intercept"][rows[chunk], period[chunk]], parts["slope"][rows[chunk]],
                model.period_weights[period[chunk]], grid[chunk], context["rival_prices"][chunk],
                context["list_price"][chunk])
        best = np.argmax((grid - context["unit_cost"][:, None]) * share, axis=1)
        return grid[np.arange(rows.size), best]


def mean_agent_shares(model: CompetitionModel, intercept: np.ndarray, slope: np.ndarray, weights: np.ndarray,
                      grid: np.ndarray, rival_prices: np.ndarray, list_price: np.ndarray) -> np.ndarray:
    """``[b, G]`` the population's mean probability of buying from the agent at each of its ``grid`` prices
    (``[b, G]``) against ``rival_prices`` (``[b, R]``), for b seasons: customers' utilities at list price
    ``intercept``, slopes ``slope`` and arrival weights ``weights`` (``[b, C]``), list prices ``[b]``.

    The multinomial logit of :func:`~pricegym.envs.competition_oracle.seller_choice_probabilities`, written as
    the agent's attraction over one plus every seller's (as :func:`~pricegym.envs.competition_oracle.season_problem`
    does): equal to it to rounding.
    """
    effect, appeal = model.market.reference_effect, model.config.rival_appeal
    intercept, slope = intercept[:, :, None], slope[:, :, None]
    rivals = np.exp(price_utility(intercept, slope, rival_prices[:, None, :], list_price[:, None, None], effect)
                    + appeal).sum(axis=-1, keepdims=True)  # [b, C, 1]
    relative = grid / list_price[:, None] - 1.0  # [b, G]: price_utility's terms of the price alone, then its sums
    kink = effect.gain * np.maximum(-relative, 0.0) - effect.loss * np.maximum(relative, 0.0)  # one term is 0
    agent = slope * relative[:, None, :]  # [b, C, G], in place from here
    np.subtract(intercept, agent, out=agent)
    agent += kink[:, None, :]
    np.exp(agent, out=agent)
    agent /= agent + (1.0 + rivals)
    return np.matmul(weights[:, None, :], agent)[:, 0, :]


COMPETITION_BATCHED_RULES = (BatchedCompetitionListPriceRule, BatchedCompetitionFixedPriceRule,
                             BatchedCompetitionMyopicRule, BatchedBestResponseRule)
"""The batched Competition-v0 rules (with :class:`~pricegym.agents.batched_rules.BatchedRandomRule`, shared by
every environment)."""
