"""PersonalizedDiscount-v0: one customer per step, a discount budget, and customers who remember prices."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from scipy.special import logit

from pricegym.config_checks import checked_config
from pricegym.envs.config_checks import fingerprint
from pricegym.envs.discount_config import ENV_NAME, PersonalizedDiscountConfig
from pricegym.envs.discount_scenarios import DiscountScenario
from pricegym.envs.embeddings import observed_embeddings
from pricegym.envs.input_checks import (
    ENDED,
    NOT_STARTED,
    RUNNING,
    check_observation_table,
    check_render_mode,
    checked_product_pool,
    checked_reset_products,
    checked_seed,
    out_of_order,
)
from pricegym.envs.market import PricingMarket, build_market
from pricegym.envs.observation import EMBEDDING_BOUND, MARKET_FEATURES, SCALE_CAP, FeatureLayout
from pricegym.envs.price_actions import PriceActions
from pricegym.envs.render import render_discounts
from pricegym.errors import ConfigError


class PersonalizedDiscountEnv(gym.Env):
    """Offer each arriving customer a personal discount, within a budget, knowing they will return.

    ## Description
    An episode draws ``n_products`` products and a pool of M = ``n_customers`` persistent
    customers from the world's population (by activity). Each step one customer of the pool, drawn
    uniformly, views one of the products, drawn uniformly; the agent offers a discount off the
    list price and the customer buys or not by the demand source, whose utility includes the
    customer's own **reference price** for that product (:class:`~pricegym.worlds.demand.
    ReferencePriceEffect`): a price below it is a gain, above it a loss. After every offer, bought
    or not, that reference price moves toward the price seen, ``r <- theta r + (1 - theta) price``,
    exactly as the world documents it, starting from the list price. Over-discounting today
    therefore makes the same customer harder to sell to at full price when they return.

    A **discount budget** (``discount_budget x budget_window x`` the mean list price) is spent by
    the discount of every purchase and refilled every ``budget_window`` visits. A discount beyond
    the budget left is capped to it before the customer sees the price (``info["discount_capped"]``);
    a price below the lowest price a fitted demand model saw in the data is raised to it
    (``info["price_at_floor"]``).

    All exogenous randomness is drawn at reset in a fixed order that no action touches: the
    products, the pool, who visits at each step and what they view, and one uniform per visit
    (the customer buys iff the uniform falls below the purchase probability at the price offered).
    Two policies run with one seed therefore meet identical customers with identical willingness
    to pay.

    ## Action space
    ``Box(-1, 1, (1,))`` mapped affinely to a discount share in ``[0, max_discount]``, or
    ``Discrete(ladder_size)`` evenly spaced discount shares. Box values within 1e-6 outside [-1, 1]
    are clipped; actions further out, NaN, or of a wrong type, dtype or shape raise ``ValueError``
    (:mod:`pricegym.envs.price_actions` lists what is accepted).

    ## Observation space
    A bounded ``Box`` laid out as ``env.unwrapped.observation_layout`` says
    (:class:`~pricegym.envs.observation.FeatureLayout`; d = the embedding size: ``embedding_dim``,
    the encoder's size for None, 0 with ``observe_embeddings=False``):

    | part | size | bounds | meaning |
    |---|---|---|---|
    | customer_embedding | d | [-5, 5] | the visitor's profile's LM embedding (reduced) |
    | product_embedding | d | [-5, 5] | the viewed product's LM embedding (reduced) |
    | reference_gap | 1 | [-1, 1] | the visitor's reference price for the product / list price - 1 |
    | purchase_rate | 1 | [0, 1] | the visitor's (purchases + 1) / (visits + 2) |
    | visits_so_far | 1 | [0, 10] | the visitor's visits so far / expected visits per customer |
    | budget_left | 1 | [0, 1] | discount budget left / budget |
    | window_left | 1 | [0, 1] | visits left in the budget window / window |
    | time_left | 1 | [0, 1] | visits left / horizon |
    | list_price | 1 | [0, 10] | the viewed product's list price / catalogue median list price |
    | unit_cost_share | 1 | [0, 10] | the viewed product's unit cost in the reward / list price (0: revenue) |
    | market | 12 | [0, 1] | the day's weekday and season one-hots, holiday |

    Both embeddings go through one reduction (``env.unwrapped.embedding_reduction``, fitted on the
    catalogue and the population): the demand run's fine-tuned vectors, or the text encoder's of
    the customer's profile and the product's text (ground truth; :mod:`pricegym.envs.embeddings`).

    ## Rewards
    When the customer buys, the margin (price - unit cost) or, with ``reward="revenue"``, the
    price; else 0. The scenario (``config.economics``, :mod:`pricegym.envs.discount_scenarios`)
    sets the reward, the unit costs (the world's, scaled) and the budget: by default
    ``"high-margin"``, unit costs of 17.5-30% of list price and a 3% budget.

    ## Episode end
    Terminated after ``horizon`` visits; never truncated. A step before ``reset()`` or after the
    end raises :class:`~pricegym.errors.EnvStateError`.

    ## Reset options
    ``products``: the ``n_products`` distinct catalogue indices (from the configured pool) on offer,
    instead of a random draw; the random stream is consumed alike either way.

    ## Construction errors
    A bad configuration raises :class:`~pricegym.errors.ConfigError` at construction (``gym.make``),
    never at reset: among others, a world whose demand is not a purchase probability, a pool
    smaller than ``n_products``, or fewer customers than ``n_customers``.

    ## Info
    ``price``, ``discount`` (share given), ``requested_discount``, ``discount_capped``,
    ``price_at_floor``, ``bought``,
    ``customer`` (index in the pool), ``reference_price`` (after the update), ``budget_left``; at
    reset ``products``, ``customers`` (demand rows of the pool) and ``customers_hash``. The best
    possible score is bounded by :mod:`pricegym.envs.discount_bounds` (``upper_bound``).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, config: PersonalizedDiscountConfig | None = None, render_mode: str | None = None,
                 **overrides: Any):
        self.config = checked_config(ENV_NAME, PersonalizedDiscountConfig, config, overrides)
        check_render_mode(ENV_NAME, render_mode, self.metadata["render_modes"])
        self.render_mode = render_mode
        self.market: PricingMarket = build_market(self.config.world, self.config.demand_source,
                                                  self.config.demand_run)
        self._check_market()
        config = self.config
        self.economics = config.economics
        self._embedding_tables()
        bound = EMBEDDING_BOUND
        self.layout = FeatureLayout.of([
            ("customer_embedding", self.customer_embeddings.shape[1], -bound, bound,
             "the visitor's profile's LM embedding (reduced)", True),
            ("product_embedding", self.product_embeddings.shape[1], -bound, bound,
             "the viewed product's LM embedding (reduced)", True),
            ("reference_gap", 1, -1.0, 1.0, "the visitor's reference price for the product / list price - 1"),
            ("purchase_rate", 1, 0.0, 1.0, "the visitor's (purchases + 1) / (visits + 2)"),
            ("visits_so_far", 1, 0.0, SCALE_CAP, "the visitor's visits so far / expected visits per customer"),
            ("budget_left", 1, 0.0, 1.0, "discount budget left / budget"),
            ("window_left", 1, 0.0, 1.0, "visits left in the budget window / window"),
            ("time_left", 1, 0.0, 1.0, "visits left / horizon"),
            ("list_price", 1, 0.0, SCALE_CAP, "the viewed product's list price / catalogue median list price"),
            ("unit_cost_share", 1, 0.0, SCALE_CAP,
             "the viewed product's unit cost in the reward / list price (0: revenue)"),
            ("market", MARKET_FEATURES, 0.0, 1.0, "the day's weekday (7), season (4) one-hots and holiday (1)"),
        ], self.product_embeddings.shape[1])
        self.slices = self.layout.slices()
        self.observation_space = self.layout.space()
        check_observation_table(ENV_NAME, config.horizon + 1, self.observation_space.shape[0],
                                "horizon or embedding_dim")
        self.discount_actions = PriceActions(config.action_space, 1, config.ladder_size, ENV_NAME)
        self.discount_actions.set_ranges(np.zeros(1), np.full(1, config.max_discount))
        self.action_space = self.discount_actions.space
        self.catalogue_median_price = float(np.median(self.market.list_prices))
        self._expected_visits = config.horizon / config.n_customers
        self._dynamic = [self.slices[name].start for name in ("reference_gap", "purchase_rate", "visits_so_far",
                                                              "budget_left")]
        self.history: list[dict[str, float]] = []
        self._episode = NOT_STARTED

    @property
    def observation_layout(self) -> FeatureLayout:
        """The named parts of the observation (slice, size, bounds, meaning)."""
        return self.layout

    def _embedding_tables(self) -> None:
        """The reduction and the reduced embeddings of every demand row and product (none when ablated)."""
        config, market = self.config, self.market
        self.embedding_reduction = None
        self.customer_embeddings = np.zeros((market.customer_weights.size, 0), np.float32)
        self.product_embeddings = np.zeros((market.list_prices.size, 0), np.float32)
        if config.observe_embeddings:
            observed = observed_embeddings(market, ENV_NAME, config.demand_run, config.text_encoder,
                                           config.embedding_cache_dir, config.embedding_dim)
            self.embedding_reduction = observed.reduction
            self.customer_embeddings, self.product_embeddings = observed.customers, observed.products
            if self.customer_embeddings.shape[1] != self.product_embeddings.shape[1]:
                raise ConfigError(f"{ENV_NAME}: the demand run holds product embeddings but none of the "
                                  "customers; refit it, or set observe_embeddings=False")

    # -- episode -------------------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        seed = checked_seed(ENV_NAME, seed)
        products = checked_reset_products(ENV_NAME, options, self.pool, self.config.product_pool,
                                          self.config.n_products)
        super().reset(seed=seed)
        self._draw_episode(products)
        market, config = self.market, self.config
        self.list_prices = market.list_prices[self.products]
        self.unit_costs = self._counted_unit_costs()
        self.lowest_prices = self._lowest_prices()
        self.budget = self.economics.discount_budget * config.budget_window * float(self.list_prices.mean())
        self.budget_left = self.budget
        self.visit = 0
        self.reference_prices = [self.list_prices.tolist() for _ in range(config.n_customers)]
        self.purchases = [0] * config.n_customers
        self.visits = [0] * config.n_customers
        self._list_price_list, self._unit_cost_list = self.list_prices.tolist(), self.unit_costs.tolist()
        self._lowest_price_list = self.lowest_prices.tolist()
        self._static_rows = self._observation_rows()
        self.history = []
        info = {"products": self.products.copy(), "customers": self.customer_rows.copy(),
                "customers_hash": fingerprint(self.customer_rows, self.visitors, self.viewed, self.threshold.round(9))}
        self._episode = RUNNING
        return self._observe(), info

    def step(self, action):
        if self._episode is not RUNNING:
            raise out_of_order(ENV_NAME, "step()", self._episode)
        config, effect = self.config, self.market.reference_effect
        requested_share = self.discount_actions.to_price_list(action)[0]
        visit = self.visit
        customer, slot = self._visitor_list[visit], self._viewed_list[visit]
        list_price = self._list_price_list[slot]
        # simulate the customer's response to the price after the budget cap
        requested = requested_share * list_price
        affordable = min(requested, self.budget_left)
        price = max(list_price - affordable, self._lowest_price_list[slot])
        given = list_price - price
        tolerance = 1e-9 * list_price
        reference = self.reference_prices[customer][slot]
        gap = (reference - price) / list_price
        index = self._threshold_list[visit] - self._slope_list[visit] * (price / list_price - 1.0) \
            + (effect.gain * gap if gap > 0 else effect.loss * gap)
        bought = index > 0.0
        # update the state
        reward = price - self._unit_cost_list[slot] if bought else 0.0
        if bought:
            self.budget_left = max(self.budget_left - given, 0.0)  # rounding never leaves it negative
            self.purchases[customer] += 1
        self.visits[customer] += 1
        self.reference_prices[customer][slot] = effect.theta * reference + (1.0 - effect.theta) * price
        self.visit = visit = visit + 1
        if visit % config.budget_window == 0:
            self.budget_left = self.budget
        info = {"price": price, "discount": given / list_price, "requested_discount": requested_share,
                "discount_capped": affordable < requested - tolerance,  # by the budget left
                "price_at_floor": list_price - affordable < self._lowest_price_list[slot] - tolerance,  # raised
                "bought": bought,
                "customer": customer, "reference_price": self.reference_prices[customer][slot],
                "budget_left": self.budget_left}
        if self.render_mode is not None:
            self.history.append({"discount": given / list_price, "bought": bought, "budget_left": self.budget_left,
                                 "reference_share": self._mean_reference_share()})
        # observe; the episode ends after its visits
        if visit >= config.horizon:
            self._episode = ENDED
        return self._observe(), reward, visit >= config.horizon, False, info

    def render(self):
        if self.render_mode is not None and self._episode is NOT_STARTED:
            raise out_of_order(ENV_NAME, "render()", NOT_STARTED)
        if self.render_mode == "rgb_array":
            return render_discounts(self.history, self.config.horizon, self.config.max_discount, self.budget)
        return None

    # -- what the current step shows ------------------------------------------------------------

    def current_visit(self) -> dict[str, float]:
        """The visit the next action answers: what a seller knows of it (for rule-based policies).

        ``intercept`` and ``slope`` are the demand source's utility at list price and price
        sensitivity for this customer, product and day (no noise): a model-based rule may use them.
        Raises EnvStateError before the first ``reset()``.
        """
        if self._episode is NOT_STARTED:
            raise out_of_order(ENV_NAME, "current_visit()", NOT_STARTED)
        visit = min(self.visit, self.config.horizon - 1)
        customer, slot = self._visitor_list[visit], self._viewed_list[visit]
        return {"customer": customer, "slot": slot, "list_price": self._list_price_list[slot],
                "lowest_price": self._lowest_price_list[slot],
                "unit_cost": self._unit_cost_list[slot], "reference_price": self.reference_prices[customer][slot],
                "intercept": float(self.intercept[visit]), "slope": float(self.slope[visit]),
                "budget_left": self.budget_left}

    def _observe(self) -> np.ndarray:
        visit = min(self.visit, self.config.horizon - 1)
        observation = self._static_rows[self.visit].copy()
        customer, slot = self._visitor_list[visit], self._viewed_list[visit]
        gap, rate, visits, budget = self._dynamic
        observation[gap] = self.reference_prices[customer][slot] / self._list_price_list[slot] - 1.0
        observation[rate] = (self.purchases[customer] + 1.0) / (self.visits[customer] + 2.0)
        observation[visits] = min(self.visits[customer] / self._expected_visits, SCALE_CAP)
        observation[budget] = self.budget_left / self.budget if self.budget > 0 else 0.0
        return observation

    def _observation_rows(self) -> np.ndarray:
        """``[horizon + 1, size]`` every visit's observation without the moving state (computed at reset)."""
        config, parts, market = self.config, self.slices, self.market
        visits = np.minimum(np.arange(config.horizon + 1), config.horizon - 1)
        viewed = self.products[self.viewed[visits]]
        rows = np.zeros((config.horizon + 1, self.observation_space.shape[0]), dtype=np.float32)
        rows[:, parts["customer_embedding"]] = self.customer_embeddings[self.customer_rows[self.visitors[visits]]]
        rows[:, parts["product_embedding"]] = self.product_embeddings[viewed]
        window_left, time_left = schedule_shares(config)
        rows[:, parts["window_left"]] = window_left[:, None]
        rows[:, parts["time_left"]] = time_left[:, None]
        rows[:, parts["list_price"]] = np.minimum(market.list_prices[viewed] / self.catalogue_median_price,
                                                  SCALE_CAP)[:, None]
        slots = self.viewed[visits]
        rows[:, parts["unit_cost_share"]] = np.minimum(self.unit_costs[slots] / self.list_prices[slots],
                                                       SCALE_CAP)[:, None]
        rows[:, parts["market"]] = market.market_feature_table[self._days(visits)]
        return rows

    def _counted_unit_costs(self) -> np.ndarray:
        """The unit cost each sale of the episode's products takes off the reward: the world's, scaled by the
        scenario's ``unit_cost_scale``; none when the reward is revenue."""
        return counted_unit_costs(self.economics, self.market.unit_costs[self.products])

    def _lowest_prices(self) -> np.ndarray:
        """Each product's lowest price: ``max_discount`` off its list price and, with a fitted demand model,
        never below the lowest price seen in the data (the model is not to be trusted beyond it)."""
        return lowest_prices(self.config.max_discount, self.market, self.products, self.list_prices)

    def _mean_reference_share(self) -> float:
        return float(np.mean(np.asarray(self.reference_prices) / self.list_prices[None, :]))

    # -- the episode's draws (common random numbers) ---------------------------------------------

    def _draw_episode(self, products: np.ndarray | None) -> None:
        """Products (drawn even when given, ``products``, so the stream is the same), pool, visitors, viewed
        products and one uniform per visit, in this order."""
        config, market, rng = self.config, self.market, self.np_random
        drawn = np.sort(rng.choice(self.pool, size=config.n_products, replace=False))
        self.products = products = drawn if products is None else products
        self.customer_rows = rng.choice(market.customer_weights.size, size=config.n_customers, replace=False,
                                        p=market.customer_weights)
        self.visitors = rng.integers(0, config.n_customers, size=config.horizon)
        self.viewed = rng.integers(0, config.n_products, size=config.horizon)
        uniforms = rng.random(config.horizon)
        rows, viewed_products = self.customer_rows[self.visitors], products[self.viewed]
        days = self._days(np.arange(config.horizon))
        intercept, slope = market.demand.intercept_and_slope(rows, viewed_products, market.context(days,
                                                                                                viewed_products))
        self.intercept = np.broadcast_to(intercept, (config.horizon,)).astype(float)
        self.slope = np.broadcast_to(slope, (config.horizon,)).astype(float)
        self.threshold = self.intercept - logit(np.clip(uniforms, 1e-12, 1 - 1e-12))
        self._visitor_list, self._viewed_list = self.visitors.tolist(), self.viewed.tolist()
        self._threshold_list, self._slope_list = self.threshold.tolist(), self.slope.tolist()

    def _days(self, visits: np.ndarray) -> np.ndarray:
        return visit_days(self.config, self.market.n_days, visits)

    def _check_market(self) -> None:
        """Refuse (at construction) a world this environment cannot simulate with the config."""
        config, market = self.config, self.market
        if market.demand.response != "purchase_probability":
            raise ConfigError(f"{ENV_NAME} needs a world whose demand is a purchase probability per visit (the "
                              f"synthetic world); this world's demand is {market.demand.response}")
        self.pool = checked_product_pool(ENV_NAME, market, config.product_pool, config.n_products)
        customers = int(np.count_nonzero(market.customer_weights))
        if customers < config.n_customers:
            raise ConfigError(f"{ENV_NAME}: n_customers={config.n_customers} but the world has {customers} "
                              f"customers; lower n_customers")


# -- what the single environment and its batched core (:mod:`pricegym.envs.discount_batch`) share ------

def counted_unit_costs(economics: DiscountScenario, world_unit_costs: np.ndarray) -> np.ndarray:
    """The unit cost each sale takes off the reward, for the world's unit costs of the products (any shape): the
    world's, scaled by the scenario's ``unit_cost_scale``; none when the reward is revenue."""
    if economics.reward == "revenue":
        return np.zeros(np.shape(world_unit_costs))
    return economics.unit_cost_scale * world_unit_costs


def lowest_prices(max_discount: float, market: PricingMarket, products: np.ndarray,
                  list_prices: np.ndarray) -> np.ndarray:
    """Each product's lowest price (``products`` and ``list_prices`` of any one shape): ``max_discount`` off its
    list price and, with a fitted demand model, never below the lowest price seen in the data."""
    lowest = (1.0 - max_discount) * list_prices
    if market.source == "fitted":
        lowest = np.fmax(lowest, market.price_ranges[products, 0])  # a NaN range: no floor
    return np.minimum(lowest, list_prices)


def visit_days(config: PersonalizedDiscountConfig, n_days: int, visits: np.ndarray) -> np.ndarray:
    """The calendar day of each visit (``visits_per_day`` visits a day from ``season_start_day``)."""
    return (config.season_start_day + visits // config.visits_per_day) % n_days


def schedule_shares(config: PersonalizedDiscountConfig) -> tuple[np.ndarray, np.ndarray]:
    """``[horizon + 1]`` the observed ``window_left`` and ``time_left`` before each visit (and after the last)."""
    steps = np.arange(config.horizon + 1)
    window_left = np.minimum(config.budget_window - steps % config.budget_window, config.horizon - steps)
    return window_left / config.budget_window, (config.horizon - steps) / config.horizon
