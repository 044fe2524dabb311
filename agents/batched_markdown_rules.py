"""Markdown-v0's planning rules and its oracle, acting on whole batches of seasons.

The batched twins of :mod:`pricegym.agents.baselines` (the list-price and random rules are
generic: :class:`~pricegym.agents.batched_rules.BatchedListPriceRule`,
:class:`~pricegym.agents.batched_rules.BatchedRandomRule`):

* :class:`BatchedBestFixedPriceRule` - per product, the one grid price with the best expected season
  return (:class:`~pricegym.agents.baselines.BestFixedPricePolicy`).
* :class:`BatchedMyopicRule` - each period, the price with the best expected reward this period given
  the stock left (:class:`~pricegym.agents.baselines.MyopicPolicy`).
* :class:`BatchedDynamicProgramRule` - the oracle's optimal policy with fixed reference prices
  (:class:`~pricegym.agents.baselines.DynamicProgramPolicy`).

Everything a rule reads comes from ``vec_env.policy_context()``
(:class:`~pricegym.envs.markdown_batch.MarkdownBatch` documents it): the shared ``market`` (the
demand source, true or fitted) and ``config`` once, at construction; per step each slot's
``products``, ``initial_inventory``, ``low``, ``high``, ``period`` and ``inventory_left``.

Plans: a product's plan depends only on the product and its starting stock (its price range, costs
and demand follow from the product and the config), so it is made once per (product, stock), when a
slot first plays that product (a slot whose products or stock changed started a new season), with
the oracle's own functions (:func:`~pricegym.envs.oracle.product_season`, ...), and kept. Every plan
is a table of prices by period and stock left, laid end to end in one flat array, so that each step
looks up the prices of all slots and products at once. Seasons too large to plan exactly are refused
with a :class:`~pricegym.errors.ConfigError`, as the single rules refuse them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pricegym.agents.batched_rules import BatchedRule
from pricegym.envs.config import ENV_NAME, MarkdownConfig
from pricegym.envs.input_checks import checked_grid_size
from pricegym.envs.oracle import (
    ProductSeason,
    check_exact_cost,
    check_planning_cost,
    evaluate,
    fixed_price_values,
    myopic_choice,
    product_season,
)
from pricegym.errors import ConfigError

PlanKey = tuple[int, int]
"""(catalogue index, starting units): what a product's plan depends on, the config aside."""


class PlanBook:
    """Price tables by period and stock left, one per :data:`PlanKey`, laid end to end in one flat array.

    A table ``[rows, width]`` answers period t and stock x with its entry ``[min(t, rows - 1),
    min(x, width - 1)]``: a fixed price is a ``[1, 1]`` table.
    """

    def __init__(self) -> None:
        self.ids: dict[PlanKey, int] = {}
        self.prices = np.zeros(0)
        self.offsets = np.zeros(0, dtype=np.int64)
        self.rows = np.zeros(0, dtype=np.int64)
        self.widths = np.zeros(0, dtype=np.int64)

    def add(self, tables: dict[PlanKey, np.ndarray]) -> None:
        """Append new tables (one concatenation for all of them)."""
        if not tables:
            return
        shapes = np.array([table.shape for table in tables.values()], dtype=np.int64)
        sizes = shapes[:, 0] * shapes[:, 1]
        offsets = self.prices.size + np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self.ids.update({key: self.offsets.size + index for index, key in enumerate(tables)})
        self.prices = np.concatenate([self.prices, *(table.ravel() for table in tables.values())])
        self.offsets = np.concatenate([self.offsets, offsets])
        self.rows, self.widths = np.concatenate([self.rows, shapes[:, 0]]), np.concatenate([self.widths, shapes[:, 1]])

    def lookup(self, plans: np.ndarray, period: np.ndarray, stock: np.ndarray) -> np.ndarray:
        """``[B, K]`` prices of the plans ``plans`` (``[B, K]`` ids) in ``period`` (``[B]``) with ``stock`` left."""
        rows, widths = self.rows[plans], self.widths[plans]
        cells = (self.offsets[plans] + np.minimum(period[:, None], rows - 1) * widths
                 + np.minimum(stock, widths - 1))
        return self.prices[cells]


class BatchedPlanRule(BatchedRule):
    """Base of the rules that plan each product's season from the demand model (see the module docstring).

    Args:
        vec_env: a vectorised Markdown-v0 (``make_vec("pricegym/Markdown-v0", ...)`` or its Gymnasium
            ``VectorEnv``), wrapped or not.
        grid_size: prices searched between a box action's bounds (a ladder searches its rungs).

    Raises :class:`~pricegym.errors.ConfigError` at construction for another environment, a bad
    ``grid_size`` or a config whose mean buyers would take minutes to compute, and in ``predict`` for a
    season too large to plan exactly (as the single rules do in ``begin_episode``).
    """

    knows = "the demand model"  # each rule says which: "the true demand" or "the fitted model"
    evaluations = 1
    """Exact policy evaluations a season's plan costs (for :func:`~pricegym.envs.oracle.check_exact_cost`)."""

    def __init__(self, vec_env: Any, grid_size: int = 101) -> None:
        super().__init__(vec_env)
        context = self.context()
        if not isinstance(context.get("config"), MarkdownConfig):
            raise ConfigError(f"{type(self).__name__} plans {ENV_NAME} seasons; build it on "
                              "make_vec('pricegym/Markdown-v0', ...), not on another environment")
        self.market, self.config = context["market"], context["config"]
        self.grid_size = checked_grid_size(ENV_NAME, grid_size)
        self.grid_points = self.config.ladder_size if self.config.action_space == "ladder" else self.grid_size
        check_planning_cost(self.config, self.market.customer_weights.size, [], self.grid_size, evaluations=0)
        self.knows = "the true demand" if self.config.demand_source == "ground_truth" else "the fitted model"
        self.book = PlanBook()
        shape = (self.num_envs, self.config.n_products)
        self._products, self._stock = np.full(shape, -1, dtype=np.int64), np.zeros(shape, dtype=np.int64)
        self._plans = np.zeros(shape, dtype=np.int64)
        self.problems: dict[PlanKey, ProductSeason] = {}
        self._checked: set[tuple[PlanKey, ...]] = set()

    def _actions(self, observations: np.ndarray) -> np.ndarray:
        context = self.context()
        self._follow_seasons(context)
        prices = self.book.lookup(self._plans, context["period"], context["inventory_left"])
        return self.actions_for_prices(prices, context["low"], context["high"])

    def _follow_seasons(self, context: dict[str, np.ndarray]) -> None:
        """Give the slots that started a season with other products or stock the plans of their products,
        planning the (product, stock) pairs met for the first time."""
        products, stock = context["products"], context["initial_inventory"]
        changed = np.flatnonzero(((products != self._products) | (stock != self._stock)).any(axis=1))
        if changed.size == 0:
            return
        keys = {slot: tuple(zip(products[slot].tolist(), stock[slot].tolist(), strict=True))
                for slot in changed.tolist()}
        problems = self._new_problems(keys, context)
        known = {**self.problems, **problems} if problems else self.problems
        for season in set(keys.values()) - self._checked:  # refuse what the single rule refuses
            check_exact_cost([known[key] for key in season], self.evaluations)
            self._checked.add(season)
        self.problems = known
        self.book.add({key: self.price_table(problem) for key, problem in problems.items()})
        ids = self.book.ids
        for slot, season in keys.items():
            self._plans[slot] = [ids[key] for key in season]
        self._products[changed], self._stock[changed] = products[changed], stock[changed]

    def _new_problems(self, keys: dict[int, tuple[PlanKey, ...]],
                      context: dict[str, np.ndarray]) -> dict[PlanKey, ProductSeason]:
        """The problems of the (product, stock) pairs of ``keys`` not planned yet (one per pair)."""
        problems: dict[PlanKey, ProductSeason] = {}
        for slot, season in keys.items():
            for k, key in enumerate(season):
                if key not in self.problems and key not in problems:
                    problems[key] = product_season(self.market, self.config, key[0], context["low"][slot, k],
                                                   context["high"][slot, k], key[1], self.grid_size)
        return problems

    def price_table(self, problem: ProductSeason) -> np.ndarray:
        """The product's prices by period and stock left (``[rows, width]``, see :class:`PlanBook`)."""
        raise NotImplementedError


class BatchedBestFixedPriceRule(BatchedPlanRule):
    """Per product, the grid price with the best exact expected season return, all season long."""

    name = "best fixed price"

    @property
    def evaluations(self) -> int:  # every grid price
        return self.grid_points

    def price_table(self, problem):
        return np.array([[problem.price_grid[np.argmax(fixed_price_values(problem))]]])


class BatchedMyopicRule(BatchedPlanRule):
    """Each period, the price with the best expected reward this period given the stock left."""

    name = "myopic"
    evaluations = 2  # the recursion, and the myopic rule's own per period

    def price_table(self, problem):
        return problem.price_grid[evaluate(problem, myopic_choice(problem))[1]]


class BatchedDynamicProgramRule(BatchedPlanRule):
    """The oracle: the optimal price by period and stock left (dynamic program, fixed reference prices)."""

    name = "oracle (dynamic program)"

    def price_table(self, problem):
        return problem.price_grid[evaluate(problem)[1]]


BATCHED_MARKDOWN_PLANS = (BatchedBestFixedPriceRule, BatchedMyopicRule, BatchedDynamicProgramRule)
"""The planning rules, in the order of :data:`pricegym.agents.baselines.BASELINES` (the oracle last)."""
