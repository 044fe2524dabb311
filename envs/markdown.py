"""Markdown-v0: sell a finite inventory over a selling season."""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

import gymnasium as gym
import numpy as np

from pricegym.config_checks import checked_config
from pricegym.envs.config import ENV_NAME, MarkdownConfig
from pricegym.envs.config_checks import fingerprint
from pricegym.envs.customer_stream import SeasonBatch, buyers_with_memory, draw_seasons
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
from pricegym.envs.market import PricingMarket, build_market, stacked_cdf
from pricegym.envs.observation import FeatureLayout, markdown_layout
from pricegym.envs.price_actions import PriceActions
from pricegym.envs.render import render_season

SEASONS_PER_DRAW = 16
"""Seasons whose customers are drawn together (a fresh batch at every seeded reset)."""


class MarkdownEnv(gym.Env):
    """Sell K products with finite starting inventory over a season of T periods.

    ## Description
    Each reset draws K products from the world's catalogue (its training products, or its
    cold-start test products with ``product_pool="cold_start"``) and starts a season of
    ``horizon`` days on the world's calendar. Every period, a Poisson number of customers arrives
    (a mix of the population's segments or customer types, in that day's market conditions); each
    sees the current prices and buys each product according to the demand source, while stock
    lasts. Over the season the products' appeal fades (``appeal_decay``) and the shoppers drift
    from early adopters to bargain hunters (``shopper_mix_shift``). Today's price changes
    tomorrow through inventory: a unit sold cheaply now cannot be sold dearly later. With
    ``reference_dynamics=True`` customers' reference prices also sink after discounts.

    All exogenous randomness (products, arrivals, who arrives, one uniform per customer x product)
    is drawn at reset, for a batch of seasons at a time, in an order that does not depend on
    actions (:mod:`pricegym.envs.customer_stream`), so two policies run with one seed meet
    identical customers, season after season.

    ## Action space
    ``Box(-1, 1, (K,))`` mapped affinely to each product's price range, or a price ladder
    (``Discrete(L)`` for K = 1, ``MultiDiscrete([L] * K)``). Price ranges are the prices observed
    in the data (in training, for a fitted demand model). Box values within 1e-6 outside [-1, 1] are
    clipped; actions further out, NaN, or of a wrong type, dtype or shape raise ``ValueError``
    (:mod:`pricegym.envs.price_actions` lists what is accepted).

    ## Observation space
    A bounded ``Box`` laid out as ``env.unwrapped.observation_layout`` says
    (:class:`~pricegym.envs.observation.FeatureLayout`; K products, d = the embedding size:
    ``embedding_dim``, the encoder's size for None, 0 with ``observe_embeddings=False``):

    | part | size | bounds | meaning |
    |---|---|---|---|
    | product_embeddings | K x d | [-5, 5] | each product's LM embedding (reduced), in slot order |
    | inventory_left | K | [0, 1] | units left / initial units |
    | time_left | 1 | [0, 1] | periods left / horizon |
    | price_position | K | [0, 1] | current price's position in its allowed range |
    | list_price | K | [0, 10] | list price / catalogue median list price |
    | recent_sales | K | [0, 10] | last period's units sold / arrival rate |
    | market | 12 | [0, 1] | next period's weekday and season one-hots, holiday |
    | competitor_gap | K | [-1, 1] | competitor price / list price - 1, clipped (0: unknown) |

    The embeddings are the demand run's fine-tuned ones, or the text encoder's of the products'
    texts (ground truth), through ``env.unwrapped.embedding_reduction``
    (:mod:`pricegym.envs.embeddings`).

    ## Rewards
    Revenue (or margin, ``reward="margin"``) of the period's sales, minus ``holding_cost`` per
    unit left at the period's end; at the season's end, plus ``salvage_share`` x unit cost per
    unsold unit.

    ## Episode end
    Terminated when the season ends or every product is sold out; never truncated. A step before
    ``reset()`` or after the end raises :class:`~pricegym.errors.EnvStateError`.

    ## Reset options
    ``products``: the K distinct catalogue indices (from the configured pool) of the season's
    products, in slot order, instead of a random draw (:mod:`pricegym.envs.input_checks`).

    ## Construction errors
    A bad configuration raises :class:`~pricegym.errors.ConfigError` at construction (``gym.make``),
    never at reset: among others, a pool smaller than ``n_products``, or a ``price_range`` that
    leaves some product of the pool no price inside the range the fitted demand model saw.

    ## Info
    ``prices``, ``units_sold``, ``units_lost_to_stockout``, ``price_at_bound``, ``arrivals``,
    ``revenue``; at reset ``products`` and ``customers_hash`` (a fingerprint of the season's
    customers, equal for equal seeds).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, config: MarkdownConfig | None = None, render_mode: str | None = None, **overrides: Any):
        self.config = checked_config(ENV_NAME, MarkdownConfig, config, overrides)
        check_render_mode(ENV_NAME, render_mode, self.metadata["render_modes"])
        self.render_mode = render_mode
        self.market: PricingMarket = build_market(self.config.world, self.config.demand_source,
                                                  self.config.demand_run)
        self.pool = pool = checked_product_pool(ENV_NAME, self.market, self.config.product_pool,
                                                self.config.n_products)
        check_price_ranges(ENV_NAME, self.market, pool, self.config.price_range)
        self.embedding_reduction, self.embeddings = product_embedding_table(ENV_NAME, self.config, self.market)
        self.layout = markdown_layout(self.config.n_products, self.embeddings.shape[1])
        self.slices = self.layout.slices()
        self.observation_space = self.layout.space()
        check_observation_table(ENV_NAME, SEASONS_PER_DRAW * (self.config.horizon + 1), self.observation_space.shape[0],
                                "horizon, n_products or embedding_dim")
        self.price_actions = PriceActions(self.config.action_space, self.config.n_products, self.config.ladder_size,
                                          ENV_NAME)
        self.action_space = self.price_actions.space
        self.catalogue_median_price = float(np.median(self.market.list_prices))
        self.products = pool[: self.config.n_products]
        check_shopper_table(ENV_NAME, self.config.horizon, self.market.customer_weights.size)
        self._shopper_cdf = stacked_cdf(self.market.shopper_weights(self.config.horizon,
                                                                    self.config.shopper_mix_shift))
        self.seasons: SeasonBatch | None = None
        self.season = 0
        self._inventory_offset = self.slices["inventory_left"].start
        self._price_offset, self._sales_offset = self.slices["price_position"].start, self.slices["recent_sales"].start
        self._sales_scale = 1.0 / self.config.arrival_rate
        self.history: list[dict[str, np.ndarray]] = []
        self._episode = NOT_STARTED

    @property
    def observation_layout(self) -> FeatureLayout:
        """The named parts of the observation (slice, size, bounds, meaning)."""
        return self.layout

    # -- episode -------------------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        seed = checked_seed(ENV_NAME, seed)
        products = checked_reset_products(ENV_NAME, options, self.pool, self.config.product_pool,
                                          self.config.n_products)
        super().reset(seed=seed)
        config, market = self.config, self.market
        self._next_season(seed is not None, products)
        season, batch = self.season, self._batch
        self.products = self.seasons.products[season]
        self.list_prices, self.unit_costs = market.list_prices[self.products], market.unit_costs[self.products]
        self.price_actions.set_ranges(batch["low"][season], batch["high"][season])
        self.initial_inventory = batch["inventory"][season]
        self.period = 0
        self.inventory_left = self.initial_inventory.tolist()
        self.prices = batch["start_prices"][season].tolist()
        self.reference_prices = self.list_prices.copy()
        self.units_sold = [0] * config.n_products
        self._period_rows = batch["rows"][season]
        self._period_start = self.seasons.offsets(season)
        self._inventory_scale = batch["inventory_scale"][season].tolist()
        self._price_scale = batch["price_scale"][season].tolist()
        self._low_list = self.price_actions._low_list
        self._unit_cost_list = self.unit_costs.tolist()
        self.history = []
        self._episode = RUNNING
        return self._observe(), {"products": self.products.copy(), "customers_hash": batch["hashes"][season]}

    def step(self, action):
        if self._episode is not RUNNING:
            raise out_of_order(ENV_NAME, "step()", self._episode)
        config = self.config
        prices = self.price_actions.to_price_list(action)
        # simulate the customers' response
        wanted = self._buyers(prices)
        sold = [min(want, left) for want, left in zip(wanted, self.inventory_left, strict=True)]
        # update the state
        self.inventory_left = [left - units for left, units in zip(self.inventory_left, sold, strict=True)]
        revenue = sum(price * units for price, units in zip(prices, sold, strict=True))
        reward = revenue - config.holding_cost * sum(self.inventory_left)
        if config.reward == "margin":
            reward -= sum(cost * units for cost, units in zip(self._unit_cost_list, sold, strict=True))
        if config.reference_dynamics:
            self.reference_prices = self.market.reference_effect.update(self.reference_prices, np.asarray(prices))
        self.prices, self.units_sold = prices, sold
        self.period += 1
        season_over = self.period >= config.horizon
        sold_out = not any(self.inventory_left)
        if (season_over or sold_out) and config.salvage_share:
            reward += config.salvage_share * sum(
                cost * left for cost, left in zip(self._unit_cost_list, self.inventory_left, strict=True))
        info = {"prices": prices, "units_sold": sold, "revenue": revenue,
                "units_lost_to_stockout": [want - units for want, units in zip(wanted, sold, strict=True)],
                "price_at_bound": self.price_actions.at_bound_list(prices),
                "arrivals": self._period_start[self.period] - self._period_start[self.period - 1]}
        if self.render_mode is not None:
            self.history.append({"prices": np.asarray(prices), "inventory_left": np.asarray(self.inventory_left),
                                 "units_sold": np.asarray(sold)})
        # observe; the season ends
        if season_over or sold_out:
            self._episode = ENDED
        return self._observe(), reward, season_over or sold_out, False, info

    def render(self):
        if self.render_mode is not None and self._episode is NOT_STARTED:
            raise out_of_order(ENV_NAME, "render()", NOT_STARTED)
        if self.render_mode == "rgb_array":
            return render_season(self.history, self.config.horizon, int(self.initial_inventory.max()),
                                 self.price_actions.low, self.price_actions.high)
        return None

    # -- parts ---------------------------------------------------------------------------------

    def _buyers(self, prices: list[float]) -> list[int]:
        """Customers of this period who would buy each product at ``prices`` (stock aside)."""
        start, end = self._period_start[self.period], self._period_start[self.period + 1]
        if not self.config.reference_dynamics:  # count reservation prices above the price, by bisection
            return [end - bisect_right(reservations, price, start, end)
                    for reservations, price in zip(self.seasons.sorted_reservations, prices, strict=True)]
        rows = slice(start, end)
        return buyers_with_memory(self.seasons.threshold[rows], self.seasons.slope[rows], np.asarray(prices),
                                  self.list_prices, self.reference_prices, self.market.reference_effect).tolist()

    def _observe(self) -> np.ndarray:
        """The period's precomputed row (time, market, embeddings...) with the moving state written in."""
        observation = self._period_rows[self.period].copy()
        inventory, price, sales = self._inventory_offset, self._price_offset, self._sales_offset
        for product in range(self.config.n_products):
            observation[inventory + product] = self.inventory_left[product] * self._inventory_scale[product]
            observation[price + product] = (self.prices[product] - self._low_list[product]) * self._price_scale[product]
            observation[sales + product] = min(self.units_sold[product] * self._sales_scale, 10.0)
        return observation

    def season_features(self, products: np.ndarray) -> dict[str, np.ndarray]:
        """Everything fixed for each season of ``products`` (``[B, K]``) but its observations and customers,
        computed together: price ranges, starting stock and prices, and the scales of the observation."""
        market = self.market
        list_prices = market.list_prices[products]
        low, high = market.allowed_price_ranges(products, self.config.price_range)  # non-empty: checked at construction
        inventory = self._initial_inventory(products)
        return {"low": low, "high": high, "inventory": inventory, "start_prices": np.clip(list_prices, low, high),
                "inventory_scale": 1.0 / inventory, "price_scale": 1.0 / np.maximum(high - low, 1e-12)}

    def observation_parts(self, products: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The fixed parts of the observations of the seasons of ``products`` (``[B, K]``), whose sum is the
        observation of period t with the moving state (inventory, prices, sales) and competitor gaps left out:
        ``[B, D]`` each season's own (embeddings, list prices), ``[T + 1, D]`` each period's own (time left,
        market) and ``[B, T + 1, K]`` the competitor gaps, all float32."""
        market, parts, config = self.market, self.slices, self.config
        days = (config.season_start_day + np.arange(config.horizon + 1)) % market.n_days
        season_rows = np.zeros((products.shape[0], self.observation_space.shape[0]), dtype=np.float32)
        season_rows[:, parts["product_embeddings"]] = self.embeddings[products].reshape(products.shape[0], -1)
        season_rows[:, parts["list_price"]] = np.minimum(market.list_prices[products] / self.catalogue_median_price,
                                                         10.0)
        period_rows = np.zeros((config.horizon + 1, self.observation_space.shape[0]), dtype=np.float32)
        periods_left = config.horizon - np.arange(config.horizon + 1)
        period_rows[:, parts["time_left"]] = (periods_left / config.horizon)[:, None]
        period_rows[:, parts["market"]] = market.market_feature_table[days]
        gaps = np.moveaxis(market.competitor_gap_table[days[:, None, None], products[None, :, :]], 0, 1)
        return season_rows, period_rows, gaps

    def draw_season_batch(self, products: np.ndarray, rng: np.random.Generator) -> SeasonBatch:
        """The customers of the seasons of ``products`` (``[B, K]``), drawn from ``rng``."""
        config = self.config
        return draw_seasons(self.market, products, config.season_start_day, config.horizon, config.arrival_rate,
                            config.appeal_decay, self._shopper_cdf, rng)

    def _batch_features(self, products: np.ndarray) -> dict[str, object]:
        """Everything fixed for each season of a batch (``products`` is ``[B, K]``), computed together:
        :meth:`season_features`, observation rows per period, customer fingerprints."""
        season_rows, period_rows, gaps = self.observation_parts(products)
        rows = season_rows[:, None, :] + period_rows[None, :, :]
        rows[:, :, self.slices["competitor_gap"]] = gaps
        offsets = self.seasons.period_start[::self.config.horizon]
        seasons = self.seasons
        hashes = [fingerprint(seasons.customers[start:end], seasons.threshold[start:end].round(9))
                  for start, end in zip(offsets[:-1], offsets[1:], strict=True)]
        return {**self.season_features(products), "rows": rows, "hashes": hashes}

    def _initial_inventory(self, products: np.ndarray) -> np.ndarray:
        """Units per product: fixed, or the stock-cover share of the forecast season demand at list price."""
        config = self.config
        if config.initial_inventory is not None:
            return np.full(products.shape, config.initial_inventory, dtype=np.int64)
        forecast = config.arrival_rate * config.horizon * self.market.list_price_conversion[products]
        return np.maximum(1, np.rint(config.stock_cover * forecast)).astype(np.int64)

    def _next_season(self, reseeded: bool, products: np.ndarray | None) -> None:
        """Move to the next season of the current batch, drawing a new batch when reseeded or spent, or a
        one-season batch of ``products`` (the checked reset option) when given."""
        if products is not None:
            self._draw_batch(products.reshape(1, -1))
        elif reseeded or self.seasons is None or self.season + 1 >= self.seasons.size:
            self._draw_batch(draw_products(self.np_random, self.pool, self.config.n_products, SEASONS_PER_DRAW))
        else:
            self.season += 1

    def _draw_batch(self, products: np.ndarray) -> None:
        self.seasons: SeasonBatch = self.draw_season_batch(products, self.np_random)
        self._batch = self._batch_features(products)
        self.season = 0


def draw_products(rng: np.random.Generator, pool: np.ndarray, n_products: int, n_seasons: int) -> np.ndarray:
    """``[n_seasons, n_products]`` the products of each season: distinct, from ``pool``, sorted, drawn one
    season after the other from ``rng``."""
    return np.sort(np.stack([rng.choice(pool, size=n_products, replace=False) for _ in range(n_seasons)]), axis=1)
