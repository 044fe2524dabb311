"""The supervised BERT pricing baseline as a batched policy of every environment.

``pricegym fit-pricer`` fine-tunes a BERT regressor of ``price / list price`` on the prices charged in a
world's logged transactions and tabulates it (:class:`~pricegym.agents.pricing_table.TabulatedPricingPolicy`:
``price = list_price x ratios[row, product, bucket]``, rows being segments or customer types).
:class:`BatchedSupervisedPricingPolicy` serves that table with the batched rules' interface
(:class:`~pricegym.agents.batched_rules.BatchedRule`: ``predict(observations) -> (actions, None)``, ``knows``),
so a benchmark runs it like any agent; :func:`supervised_policy_factory` builds it from a run folder.

**How a table price becomes each environment's action.** The bucket is that of the calendar day being priced
(:class:`~pricegym.agents.pricing_texts.ContextBuckets` of the market's weekday, season and holiday): day
``season_start_day + period`` (Markdown-v0, Competition-v0) or ``season_start_day + visit // visits_per_day``
(PersonalizedDiscount-v0). A demand row of the environment is a world customer (synthetic world; its table row
is ``customer_rows[customer]``, its segment) or a customer type (online-retail; the table row of that id).

* **Markdown-v0**: one price per product for every arriving customer: the table's prices averaged over its
  rows, each row weighted by the market's customer weights (``market.customer_weights``, each demand row's
  share of the population the season sells to) of the demand rows it stands for; with one row per segment,
  the segments' weighted mean. It is clipped to the season's ``[low, high]`` and mapped by the shared
  price-to-action map (:meth:`~pricegym.agents.batched_rules.BatchedRule.actions_for_prices`): the box
  position that charges that very price, or the nearest rung of the ladder. The season's drift of the
  shopper mix is not followed: the pricer never saw it.
* **Competition-v0**: the same, for the season's one product (the table holds no rival prices).
* **PersonalizedDiscount-v0**: the visitor's own row and the viewed product: discount
  ``clip(1 - price / list_price, 0, max_discount)`` (a table price above the list price gives no discount:
  there are no surcharges), as the box share ``discount / max_discount`` of ``[0, max_discount]`` or the
  nearest rung. The environment then caps it by the budget left and the price floor, as for any agent.

**World check.** At construction the table must fit the environment's world: the same product ids (the
fitted market's demand tables name them, or the world is loaded), the same list prices, and a table row for
every demand row; otherwise one :class:`~pricegym.errors.DataError` names the run and the world.

PersonalizedDiscount-v0's policy context gives the visit's demand row, catalogue product and day
(``customer_row``, ``product``, ``day``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from pricegym.agents.batched_rules import BatchedRule
from pricegym.agents.pricing_table import TabulatedPricingPolicy
from pricegym.envs.competition_config import CompetitionConfig
from pricegym.envs.config import MarkdownConfig
from pricegym.envs.discount_config import PersonalizedDiscountConfig
from pricegym.errors import ConfigError, DataError
from pricegym.worlds.registry import WorldConfig

CARD_FILE = "model_card.json"
VISIT_KEYS = ("customer_row", "product", "day")
"""The PersonalizedDiscount-v0 context keys of the visit the next action answers."""


class BatchedSupervisedPricingPolicy(BatchedRule):
    """The supervised pricer's table, served as actions of a batched environment (see the module docstring).

    Args:
        vec_env: a vectorised Markdown-v0, Competition-v0 or PersonalizedDiscount-v0 (``make_vec`` or the
            Gymnasium ``VectorEnv``, wrapped or not).
        table: the pricer's :class:`~pricegym.agents.pricing_table.TabulatedPricingPolicy`.
        source: what the table is called in errors (its run folder).

    Raises :class:`~pricegym.errors.ConfigError` for another environment and
    :class:`~pricegym.errors.DataError` for a table fitted on another world.
    """

    name = "supervised BERT pricer"
    knows = "the supervised BERT pricer's price table (fit on logged transactions); no demand model"

    def __init__(self, vec_env: Any, table: TabulatedPricingPolicy, source: object = "the pricing table") -> None:
        super().__init__(vec_env)
        context = self.context()
        self.market, self.config, self.table = context["market"], context["config"], table
        if not isinstance(self.config, MarkdownConfig | CompetitionConfig | PersonalizedDiscountConfig):
            raise ConfigError(f"{type(self).__name__} prices Markdown-v0, Competition-v0 and PersonalizedDiscount-v0;"
                              f" got an environment configured by {type(self.config).__name__}")
        self.table_rows = table_rows_of_demand_rows(table, self.market, self.config.world, source)
        market = self.market
        self.day_buckets = table.buckets.index(market.weekday, market.season, market.holiday)
        """The context bucket of every calendar day."""
        weights = np.bincount(self.table_rows, weights=market.customer_weights, minlength=table.shape[0])
        self.population_prices = np.einsum("r,rpb->pb", weights / weights.sum(), table.ratios) \
            * table.list_prices[:, None]
        """``[products, buckets]`` the table's prices for the population (Markdown-v0, Competition-v0)."""

    @classmethod
    def from_run(cls, vec_env: Any, pricer_run: str | Path) -> BatchedSupervisedPricingPolicy:
        """The policy of a ``pricegym fit-pricer`` run folder (its ``pricing_table.npz``/``.json``); DataError
        for a folder without a table or fitted on another world than the environment's."""
        pricer_run = Path(pricer_run)
        table = TabulatedPricingPolicy.load(pricer_run)
        fitted_on = _card_world(pricer_run)
        world = vec_env.policy_context()["config"].world
        if fitted_on is not None and fitted_on != world.name:
            raise DataError(pricer_run, f"the pricer was fitted on the {fitted_on} world, but the environment uses "
                                        f"the {_world_label(world)}; fit one on that world (`pricegym fit-pricer`) "
                                        "or configure the environment's world as the run's model_card.json says")
        return cls(vec_env, table, pricer_run)

    def table_prices(self, context: dict[str, Any]) -> np.ndarray:
        """The table's prices for the decisions the next action answers (before clipping to the range):
        ``[B, K]`` (Markdown-v0), ``[B]`` (Competition-v0; PersonalizedDiscount-v0: the visitor's price)."""
        if isinstance(self.config, PersonalizedDiscountConfig):
            customer_rows, products, days = self._visit(context)
            buckets = self.day_buckets[days % self.market.n_days]
            return self.table.price(self.table_rows[customer_rows], products, buckets)
        days = (self.config.season_start_day + np.minimum(context["period"], self.config.horizon - 1)) \
            % self.market.n_days
        if isinstance(self.config, MarkdownConfig):
            return self.population_prices[context["products"], self.day_buckets[days][:, None]]
        return self.population_prices[context["product"], self.day_buckets[days]]

    def _actions(self, observations: np.ndarray) -> np.ndarray:
        context = self.context()
        prices = self.table_prices(context)
        if isinstance(self.config, PersonalizedDiscountConfig):
            max_discount = context["max_discount"]
            discounts = np.clip(1.0 - prices / context["list_price"], 0.0, max_discount)
            return self.actions_for_shares(discounts / max_discount)
        low, high = context["low"], context["high"]
        return self.actions_for_prices(np.clip(prices, low, high), low, high)

    def _visit(self, context: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """PersonalizedDiscount-v0: the visitor's demand row, the viewed product and the day of each slot's visit."""
        return tuple(np.asarray(context[key], dtype=np.int64) for key in VISIT_KEYS)


def supervised_policy_factory(pricer_run: str | Path) -> Callable[[Any], BatchedSupervisedPricingPolicy]:
    """``lambda vec_env: policy``: the supervised pricer of ``pricer_run`` on any environment's VecEnv (as
    :func:`~pricegym.agents.optimum_evaluation.evaluate_percent_of_optimum` and the benchmark build policies)."""
    return lambda vec_env: BatchedSupervisedPricingPolicy.from_run(vec_env, pricer_run)


def table_rows_of_demand_rows(table: TabulatedPricingPolicy, market: Any, world: WorldConfig,
                              source: object) -> np.ndarray:
    """The table row of each of the market's demand rows, after checking that the table fits the world
    (products, list prices, customers); one-line DataError otherwise."""
    product_ids, demand_row_ids = world_ids(market, world)

    def refuse(problem: str) -> DataError:
        return DataError(source, f"the supervised pricing table does not fit the environment's {_world_label(world)}:"
                                 f" {problem}; fit the pricer on that world (`pricegym fit-pricer`) or configure the"
                                 " environment's world as the pricer's")

    n_rows, n_products, _ = table.shape
    if n_products != len(product_ids) or (table.product_ids and table.product_ids != tuple(product_ids)):
        raise refuse(f"its {n_products} products ({_first(table.product_ids)}) are not the world's "
                     f"{len(product_ids)} ({_first(product_ids)})")
    differ = ~np.isclose(table.list_prices, market.list_prices, rtol=1e-9, atol=0.0)
    if differ.any():
        product = int(np.argmax(differ))
        raise refuse(f"its list price of product {product_ids[product]} is {table.list_prices[product]:.4g}, the "
                     f"world's {market.list_prices[product]:.4g} (another world's catalogue)")
    if table.row_ids and set(demand_row_ids) <= set(table.row_ids):  # customer types (online-retail)
        return np.array([table.row_ids.index(row_id) for row_id in demand_row_ids], dtype=np.int64)
    rows = table.customer_rows
    if rows is None or rows.size != len(demand_row_ids) or rows.min(initial=0) < 0 or rows.max(initial=0) >= n_rows:
        held = "no customer_rows" if rows is None else f"customer_rows for {rows.size} customers"
        raise refuse(f"its rows ({_first(table.row_ids)}, {held}) do not cover the world's {len(demand_row_ids)} "
                     f"demand rows ({_first(demand_row_ids)})")
    return rows


def world_ids(market: Any, world: WorldConfig) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The product ids and demand row ids of the environment's world: from the fitted market's demand tables
    (checked against the world when the market was built), else from the world itself."""
    demand = market.demand
    if getattr(demand, "product_ids", ()) and getattr(demand, "customer_ids", ()):
        return tuple(demand.product_ids), tuple(demand.customer_ids)
    return _loaded_world_ids(world)


@lru_cache(maxsize=4)
def _loaded_world_ids(world: WorldConfig) -> tuple[tuple[str, ...], tuple[str, ...]]:
    from pricegym.encoders.demand_rows import CUSTOMER_TYPE_PROFILES
    from pricegym.worlds.registry import load_world

    loaded = load_world(world)
    rows = tuple(loaded.customers["customer_id"]) if loaded.response == "purchase_probability" \
        else tuple(CUSTOMER_TYPE_PROFILES)
    return tuple(loaded.products["product_id"]), rows


def _card_world(run: Path) -> str | None:
    """The world a run's model card names (None when it has no readable card)."""
    try:
        return json.loads((run / CARD_FILE).read_text()).get("world")
    except (OSError, ValueError, AttributeError):
        return None


def _world_label(world: WorldConfig) -> str:
    return f"synthetic world (seed {world.synthetic.seed})" if world.name == "synthetic" else f"{world.name} world"


def _first(ids: tuple[str, ...] | list[str]) -> str:
    ids = list(ids)
    return "no ids" if not ids else ", ".join(map(str, ids[:2])) + (", ..." if len(ids) > 2 else "")
