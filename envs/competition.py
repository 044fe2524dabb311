"""Competition-v0: sell one product against rival sellers who react to yesterday's price."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from pricegym.config_checks import checked_config
from pricegym.envs.competition_config import ENV_NAME, CompetitionConfig
from pricegym.envs.config_checks import fingerprint
from pricegym.envs.customer_stream import appeal_over_season
from pricegym.envs.embeddings import product_embedding_table
from pricegym.envs.input_checks import (
    ENDED,
    NOT_STARTED,
    RUNNING,
    check_observation_table,
    check_price_ranges,
    check_render_mode,
    check_shopper_table,
    checked_product_pool,
    checked_reset_products,
    checked_seed,
    out_of_order,
)
from pricegym.envs.market import PricingMarket, build_market, draw_customers, stacked_cdf
from pricegym.envs.observation import EMBEDDING_BOUND, MARKET_FEATURES, SCALE_CAP, FeatureLayout
from pricegym.envs.price_actions import PriceActions
from pricegym.envs.render import render_competition
from pricegym.envs.rivals import RivalRules, follow_weights, random_level_prices, rival_offsets
from pricegym.errors import ConfigError

SEASONS_PER_DRAW = 16
"""Seasons whose customers are drawn together (a fresh batch at every seeded reset)."""


class CompetitionEnv(gym.Env):
    """Price one product each period against rule-based rivals, over a season of T periods.

    ## Description
    Each reset draws a product and starts a season on the world's calendar. The agent and R rival
    sellers (``rivals``) offer the same product; every period a Poisson number of customers
    arrives (a mix of the population that drifts toward bargain hunters over the season, as in
    Markdown-v0) and each chooses one seller, or none, by a **multinomial logit** over the demand
    source's utilities at the sellers' prices (:func:`~pricegym.envs.rivals.choice_probabilities`;
    for a lone seller it would be the demand source's purchase probability). Rivals follow rules
    (:mod:`pricegym.envs.rivals`) that react to the agent's price of the **previous** period, so
    today's price sets tomorrow's competition: a price cut now is met by an undercut tomorrow.
    Inventory is unlimited.

    Common random numbers: the products, arrivals, who arrives, one Gumbel draw per customer x
    option (the logit's noise: the customer picks the option of highest utility + noise) and the
    random rivals' levels are all drawn at reset, in that order, whatever the actions, for a batch
    of seasons at a time (as in Markdown-v0), so two policies run with one seed meet identical
    customers season after season.

    ## Action space
    ``Box(-1, 1, (1,))`` mapped to the product's price range, or ``Discrete(ladder_size)`` rungs.
    Box values within 1e-6 outside [-1, 1] are clipped; actions further out, NaN, or of a wrong
    type, dtype or shape raise ``ValueError`` (:mod:`pricegym.envs.price_actions` lists what is
    accepted).

    ## Observation space
    A bounded ``Box`` laid out as ``env.unwrapped.observation_layout`` says
    (:class:`~pricegym.envs.observation.FeatureLayout`; R rivals, d = the embedding size:
    ``embedding_dim``, the encoder's size for None, 0 with ``observe_embeddings=False``):

    | part | size | bounds | meaning |
    |---|---|---|---|
    | product_embedding | d | [-5, 5] | the product's LM embedding (reduced) |
    | time_left | 1 | [0, 1] | periods left / horizon |
    | list_price | 1 | [0, 10] | list price / catalogue median list price |
    | market | 12 | [0, 1] | the period's weekday and season one-hots, holiday |
    | previous_price | 1 | [0, 1] | the agent's previous price, position in its range |
    | rival_prices | R | [0, 1] | each rival's current price, position in the range |
    | recent_sales | 1 | [0, 10] | the agent's units sold last period / arrival rate |
    | rival_recent_sales | R | [0, 10] | each rival's units sold last period / arrival rate |

    The embedding is the demand run's fine-tuned one, or the text encoder's of the product's text
    (ground truth), through ``env.unwrapped.embedding_reduction`` (:mod:`pricegym.envs.embeddings`).

    ## Rewards
    Revenue (or margin, ``reward="margin"``) of the agent's sales in the period.

    ## Episode end
    Terminated after ``horizon`` periods; never truncated. A step before ``reset()`` or after the
    end raises :class:`~pricegym.errors.EnvStateError`.

    ## Reset options
    ``products``: a list of one catalogue index (from the configured pool), the product of the
    season, instead of a random draw.

    ## Construction errors
    A bad configuration raises :class:`~pricegym.errors.ConfigError` at construction (``gym.make``),
    never at reset: among others, a world whose demand is not a purchase probability, an empty
    pool, or a ``price_range`` that leaves some product of the pool no price inside the range the
    fitted demand model saw.

    ## Info
    ``price``, ``rival_prices``, ``units_sold``, ``rival_units_sold``, ``arrivals``,
    ``price_at_bound``; at reset ``products``, ``rival_prices`` and ``customers_hash``. The best
    response to the rivals' rules is computed by :mod:`pricegym.envs.competition_oracle`.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, config: CompetitionConfig | None = None, render_mode: str | None = None, **overrides: Any):
        self.config = checked_config(ENV_NAME, CompetitionConfig, config, overrides)
        check_render_mode(ENV_NAME, render_mode, self.metadata["render_modes"])
        self.render_mode = render_mode
        config = self.config
        self.market: PricingMarket = build_market(config.world, config.demand_source, config.demand_run)
        if self.market.demand.response != "purchase_probability":
            raise ConfigError(f"{ENV_NAME} needs a world whose demand is a purchase probability per customer (the "
                              f"synthetic world); this world's demand is {self.market.demand.response}")
        self.n_rivals = len(config.rivals)
        self.embedding_reduction, self.embeddings = product_embedding_table(ENV_NAME, config, self.market)
        self.layout = FeatureLayout.of([
            ("product_embedding", self.embeddings.shape[1], -EMBEDDING_BOUND, EMBEDDING_BOUND,
             "the product's LM embedding (reduced)", True),
            ("time_left", 1, 0.0, 1.0, "periods left / horizon"),
            ("list_price", 1, 0.0, SCALE_CAP, "list price / catalogue median list price"),
            ("market", MARKET_FEATURES, 0.0, 1.0, "the period's weekday (7), season (4) one-hots and holiday (1)"),
            ("previous_price", 1, 0.0, 1.0, "the agent's previous price, position in its allowed range"),
            ("rival_prices", self.n_rivals, 0.0, 1.0, "each rival's current price, position in the range"),
            ("recent_sales", 1, 0.0, SCALE_CAP, "the agent's units sold last period / arrival rate"),
            ("rival_recent_sales", self.n_rivals, 0.0, SCALE_CAP, "each rival's units sold last period / arrival rate"),
        ], self.embeddings.shape[1])
        self.slices = self.layout.slices()
        self.observation_space = self.layout.space()
        check_observation_table(ENV_NAME, SEASONS_PER_DRAW * (config.horizon + 1), self.observation_space.shape[0],
                                "horizon or embedding_dim")
        self.price_actions = PriceActions(config.action_space, 1, config.ladder_size, ENV_NAME)
        self.action_space = self.price_actions.space
        self.catalogue_median_price = float(np.median(self.market.list_prices))
        self.pool = checked_product_pool(ENV_NAME, self.market, config.product_pool, 1, configurable=False)
        check_price_ranges(ENV_NAME, self.market, self.pool, config.price_range)
        check_shopper_table(ENV_NAME, config.horizon, self.market.customer_weights.size)
        self.period_weights = self.market.shopper_weights(config.horizon, config.shopper_mix_shift)
        self._shopper_cdf = stacked_cdf(self.period_weights)
        self._appeal = [0.0] + [config.rival_appeal] * self.n_rivals
        self._dynamic_start = self.slices["previous_price"].start
        self.rules_random_count = sum(name == "random" for name in config.rivals)
        self._follow = follow_weights(config.rivals, config.undercut_share)
        self.history: list[dict[str, object]] = []
        self._episode = NOT_STARTED

    @property
    def observation_layout(self) -> FeatureLayout:
        """The named parts of the observation (slice, size, bounds, meaning)."""
        return self.layout

    # -- episode -------------------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        seed = checked_seed(ENV_NAME, seed)
        products = checked_reset_products(ENV_NAME, options, self.pool, self.config.product_pool, 1)
        super().reset(seed=seed)
        self._draw_season(products, seed is not None)
        batch, season = self._batch, self._season
        self.list_price = batch["list_price"][season]
        self.unit_cost = batch["unit_cost"][season] if self.config.reward == "margin" else 0.0
        low, high = batch["low"][season], batch["high"][season]
        self.price_actions.set_ranges(np.array([low]), np.array([high]))
        self._rules = None
        self._low, self._high = low, high
        self._offsets = batch["offsets"][season].tolist()  # [T][R]
        self._price_scale = 1.0 / max(high - low, 1e-12)
        self.start_price = min(max(self.list_price, low), high)
        self.period = 0
        self.previous_price = self.start_price
        self.rival_prices = self._react(self.start_price)
        self.units_sold, self.rival_units_sold = 0, [0] * self.n_rivals
        self._static_rows = batch["rows"][season]
        self.history = []
        info = {"products": np.array([self.product]), "rival_prices": list(self.rival_prices),
                "customers_hash": batch["hashes"][season]}
        self._episode = RUNNING
        return self._observe(), info

    @property
    def rules(self) -> RivalRules:
        """The rivals of the current episode (built on demand: the step needs only plain numbers)."""
        if self._rules is None:
            config = self.config
            self._rules = RivalRules.build(config.rivals, config.undercut_share,
                                           config.rival_fixed_price * self.list_price, config.random_levels,
                                           self._low, self._high)
        return self._rules

    def step(self, action):
        if self._episode is not RUNNING:
            raise out_of_order(ENV_NAME, "step()", self._episode)
        config = self.config
        price = self.price_actions.to_price_list(action)[0]
        rival_prices = self.rival_prices
        # simulate the customers' choices
        sold = self._choices([price, *rival_prices])
        # update the state: rivals react to today's price tomorrow
        reward = (price - self.unit_cost) * sold[0]
        self.previous_price, self.units_sold, self.rival_units_sold = price, sold[0], sold[1:]
        self.period += 1
        if self.period < config.horizon:
            self.rival_prices = self._react(price)
        start, end = self._period_start[self.period - 1], self._period_start[self.period]
        info = {"price": price, "rival_prices": rival_prices, "units_sold": sold[0], "rival_units_sold": sold[1:],
                "arrivals": end - start, "price_at_bound": self.price_actions.at_bound_list([price])[0]}
        if self.render_mode is not None:
            self.history.append({"price": price, "rival_prices": rival_prices, "units_sold": sold[0]})
        # observe; the season ends
        if self.period >= config.horizon:
            self._episode = ENDED
        return self._observe(), reward, self.period >= config.horizon, False, info

    def render(self):
        if self.render_mode is not None and self._episode is NOT_STARTED:
            raise out_of_order(ENV_NAME, "render()", NOT_STARTED)
        if self.render_mode == "rgb_array":
            return render_competition(self.history, self.config.horizon, float(self.price_actions.low[0]),
                                      float(self.price_actions.high[0]), list(self.config.rivals))
        return None

    # -- parts ---------------------------------------------------------------------------------

    def _react(self, agent_price: float) -> list[float]:
        """The rivals' prices for the current period, from the agent's price of the period before."""
        low, high = self._low, self._high
        offsets = self._offsets[min(self.period, self.config.horizon - 1)]
        return [min(max(follow * agent_price + offset, low), high)
                for follow, offset in zip(self._follow, offsets, strict=True)]

    def _choices(self, prices: list[float]) -> list[int]:
        """Units each seller sells this period: every customer takes the option of highest utility + noise
        (the last column of a period's block is the outside option: no price, utility = its noise)."""
        effect, list_price = self.market.reference_effect, self.list_price
        relative = [price / list_price - 1.0 for price in prices]
        kink = [effect.gain * -x if x < 0 else -effect.loss * x for x in relative]
        utility_at_list, slope = self._period_blocks[self.period]
        utility = utility_at_list - np.multiply.outer(slope, relative + [0.0])
        utility += kink + [0.0]
        return np.bincount(utility.argmax(axis=1), minlength=len(prices) + 1)[:-1].tolist()

    def _observe(self) -> np.ndarray:
        observation = self._static_rows[self.period].copy()
        low, scale, sales_scale = self._low, self._price_scale, 1.0 / self.config.arrival_rate
        values = [(self.previous_price - low) * scale] + [(price - low) * scale for price in self.rival_prices]
        values += [min(units * sales_scale, SCALE_CAP) for units in (self.units_sold, *self.rival_units_sold)]
        start = self._dynamic_start
        observation[start:start + len(values)] = values
        return observation

    def period_features(self) -> np.ndarray:
        """``[T + 1, size]`` the observation parts set by the period alone (time left, market), zeros elsewhere."""
        config, parts, market = self.config, self.slices, self.market
        days = (config.season_start_day + np.minimum(np.arange(config.horizon + 1), config.horizon - 1)) % market.n_days
        rows = np.zeros((config.horizon + 1, self.observation_space.shape[0]), dtype=np.float32)
        rows[:, parts["time_left"]] = ((config.horizon - np.arange(config.horizon + 1)) / config.horizon)[:, None]
        rows[:, parts["market"]] = market.market_feature_table[days]
        return rows

    def product_features(self, products: np.ndarray, list_prices: np.ndarray) -> np.ndarray:
        """``[N, size]`` the observation parts set by each season's product (embedding, list price), zeros
        elsewhere."""
        parts = self.slices
        rows = np.zeros((products.size, self.observation_space.shape[0]), dtype=np.float32)
        rows[:, parts["product_embedding"]] = self.embeddings[products]
        rows[:, parts["list_price"]] = np.minimum(list_prices / self.catalogue_median_price, SCALE_CAP)[:, None]
        return rows

    def _observation_rows(self, products: np.ndarray, list_prices: np.ndarray) -> np.ndarray:
        """``[B, T + 1, size]`` every season's observations without the moving state (once per batch)."""
        rows = np.repeat(self.period_features()[None], products.size, axis=0)
        product_rows = self.product_features(products, list_prices)
        for part in ("product_embedding", "list_price"):
            rows[:, :, self.slices[part]] = product_rows[:, None, self.slices[part]]
        return rows

    def _season_features(self, batch: dict[str, object]) -> dict[str, object]:
        """Everything fixed for each season of a batch: prices, rivals' offsets, observation rows, fingerprints."""
        config, market, products = self.config, self.market, batch["products"]
        list_prices = market.list_prices[products]
        low, high = market.allowed_price_ranges(products, config.price_range)
        offsets = rival_offsets(config.rivals, config.rival_fixed_price * list_prices,
                                random_level_prices(low, high, config.random_levels), batch["level_draws"])
        starts = batch["period_start"][::config.horizon]
        hashes = [fingerprint(batch["customers"][first:last], batch["noise"][first:last].round(9),
                              batch["level_draws"][season])
                  for season, (first, last) in enumerate(zip(starts[:-1], starts[1:], strict=True))]
        return {"list_price": list_prices.tolist(), "unit_cost": market.unit_costs[products].tolist(),
                "low": low.tolist(), "high": high.tolist(), "offsets": offsets, "hashes": hashes,
                "rows": self._observation_rows(products, list_prices)}

    def _draw_season(self, products: np.ndarray | None, reseeded: bool) -> None:
        """Move to the next season of the batch, drawing a new batch when reseeded or spent, or a one-season
        batch of ``products`` (the checked reset option, one product) when given."""
        batch = getattr(self, "_batch", None)
        if products is not None:
            self._batch = self._draw_batch(products)
        elif reseeded or batch is None or self._season + 1 >= batch["products"].size:
            self._batch = self._draw_batch(self.np_random.choice(self.pool, size=SEASONS_PER_DRAW))
        else:
            self._season += 1
            self._select_season()
            return
        self._season = 0
        self._select_season()

    def _draw_batch(self, products: np.ndarray) -> dict[str, object]:
        """The customers of several seasons (:func:`draw_competition_seasons`) and what is fixed for each."""
        batch = draw_competition_seasons(self, products, self.np_random)
        batch.update(self._season_features(batch))
        return batch

    def _select_season(self) -> None:
        """Point the episode at season ``self._season`` of the batch: per-period blocks of its customers."""
        batch, horizon = self._batch, self.config.horizon
        self.product = int(batch["products"][self._season])
        starts = batch["period_start"][self._season * horizon:(self._season + 1) * horizon + 1]
        first, last = int(starts[0]), int(starts[-1])
        self._period_start = (starts - first).tolist()
        self.customers, self.noise = batch["customers"][first:last], batch["noise"][first:last]
        self.level_draws = batch["level_draws"][self._season]
        utility_at_list, slope = batch["utility_at_list"], batch["slope"]
        self._period_blocks = [(utility_at_list[start:end], slope[start:end])
                               for start, end in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True)]


def draw_competition_seasons(env: CompetitionEnv, products: np.ndarray, rng: np.random.Generator) -> dict[str, object]:
    """Arrivals, customers, logit noise and random rivals' levels of several seasons (one per entry of
    ``products``), drawn from ``rng`` in this order, and each customer's utilities at the list price.

    Returns a dict: ``products``, ``period_start`` (``[N * T + 1]`` row offsets of every (season, period)),
    ``customers``, ``noise`` (``[rows, R + 2]``), ``level_draws`` (``[N, T, n_random]``), ``utility_at_list``
    (``[rows, R + 2]``, :func:`_utility_at_list`) and ``slope`` (``[rows]``).
    """
    config, market = env.config, env.market
    horizon, n_seasons = config.horizon, products.size
    arrivals = rng.poisson(config.arrival_rate, size=n_seasons * horizon)
    block = np.repeat(np.arange(n_seasons * horizon), arrivals)  # (season, period) of every row
    periods = block % horizon
    customers = draw_customers(env._shopper_cdf, market.customer_weights.size, periods, rng)
    noise = rng.gumbel(size=(customers.size, env.n_rivals + 2))  # agent, rivals, outside option
    level_draws = rng.integers(0, config.random_levels, size=(n_seasons, horizon, env.rules_random_count))
    row_products = products[block // horizon]
    days = (config.season_start_day + periods) % market.n_days
    context = market.context(days, row_products)
    intercept, slope = market.demand.intercept_and_slope(customers, row_products, context)
    appeal = appeal_over_season(horizon, config.appeal_decay)[periods]
    intercept = np.broadcast_to(intercept, periods.shape) + appeal
    batch = {"products": products, "period_start": np.concatenate([[0], np.cumsum(arrivals)]),
             "customers": customers, "noise": noise, "level_draws": level_draws,
             "utility_at_list": _utility_at_list(intercept, noise, env._appeal),
             "slope": np.broadcast_to(slope, periods.shape)}

    return batch

def _utility_at_list(intercept: np.ndarray, noise: np.ndarray, appeal: list[float]) -> np.ndarray:
    """``[rows, sellers + 1]`` each customer's utility of every seller at the list price plus their logit
    noise; the last column is the outside option's (its noise alone)."""
    utility = noise.copy()
    utility[:, :-1] += intercept[:, None] + np.asarray(appeal)[None, :]
    return utility
