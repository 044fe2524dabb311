"""Competition-v0's batched core: B seasons against rule-based rivals, stepped at once.

:class:`CompetitionBatch` holds B independent episodes of
:class:`~pricegym.envs.competition.CompetitionEnv` as arrays (the contract is
:mod:`pricegym.envs.batched`'s). Everything random is drawn at reset, as in the single environment:
each slot's arriving customers, their utilities at the list price plus their logit noise (one Gumbel
draw per customer x option) and the random rivals' levels. A step is then arithmetic on arrays:

* the agent's prices come from :class:`~pricegym.envs.batched_actions.BatchedPriceActions`;
* every customer of every slot's current period takes the option of highest utility + noise (an
  ``argmax`` over the sellers and the outside option per customer row, on a flat layout of the
  period's rows, :class:`SeasonRows`), and ``np.bincount`` counts each slot's buyers per seller;
* each rival rule is a weight on the agent's previous price plus an offset drawn at reset
  (:func:`~pricegym.envs.rivals.rival_offsets`), clipped to the range: one expression for all rivals
  of all slots.

A seeded slot replays the single environment's episode under that seed: the same draw function
(:func:`~pricegym.envs.competition.draw_competition_seasons`) on a generator made as Gymnasium
makes it, keeping the first of the :data:`~pricegym.envs.competition.SEASONS_PER_DRAW` seasons drawn.
The seasons of all unseeded slots of a reset are drawn together from the core's generator, from the
same distributions, by :class:`FreshSeasons`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.utils import seeding

from pricegym.envs.batched import BatchedEnv, checked_mask, checked_seeds
from pricegym.envs.batched_actions import BatchedPriceActions
from pricegym.envs.competition import SEASONS_PER_DRAW, CompetitionEnv, draw_competition_seasons
from pricegym.envs.competition_config import ENV_NAME
from pricegym.envs.competition_oracle import CompetitionModel
from pricegym.envs.customer_stream import appeal_over_season
from pricegym.envs.market import stacked_cdf
from pricegym.envs.observation import SCALE_CAP
from pricegym.envs.rivals import follow_weights, random_level_prices, rival_offsets
from pricegym.errors import EnvStateError

NOT_STARTED, RUNNING, ENDED = 0, 1, 2
"""A slot's episode state (``CompetitionBatch`` keeps one per slot)."""

GUIDE_BUCKETS = 2
"""Guide-table slices of each period's customer CDF per customer (:class:`FreshSeasons`)."""
MAX_GUIDE_ENTRIES = 2**22
"""Guide-table entries at most (32 MiB); fewer slices per period beyond."""
MAX_UTILITY_TABLE_BYTES = 2**28
"""Memory the utility tables of :class:`FreshSeasons` may take (256 MiB); beyond it utilities are computed
per draw, as the single environment does."""


class SeasonRows:
    """The customers of B seasons, one region of ``capacity`` rows per slot.

    Slot ``b``'s period ``t`` holds rows ``period_start[b, t]:period_start[b, t + 1]`` of ``utility``
    (``[S + 1, B * capacity]``: each customer's utility of every seller at the list price plus their logit
    noise, one row per option, the last the outside option's) and ``slope`` (``[B * capacity]``: their
    price sensitivity). The capacity grows when a season holds more customers than it.
    """

    def __init__(self, num_envs: int, horizon: int, options: int, capacity: int) -> None:
        self.num_envs, self.horizon, self.options, self.capacity = num_envs, horizon, options, capacity
        self.utility = np.zeros((options, num_envs * capacity))
        self.slope = np.zeros(num_envs * capacity)
        self.period_start = np.zeros((num_envs, horizon + 1), dtype=np.int64)
        self._slots = np.arange(num_envs)

    def install(self, slots: np.ndarray, period_start: np.ndarray, utility: np.ndarray, slope: np.ndarray) -> None:
        """Hold new seasons in ``slots``: ``period_start`` (``[n, T + 1]``) each season's row offsets from its
        first row, ``utility`` (``[S + 1, rows]``) and ``slope`` (``[rows]``) their rows, season after season."""
        counts = period_start[:, -1]
        self._fit(int(counts.max()))
        bases = slots * self.capacity
        target = np.repeat(bases - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())
        for option in range(self.options):
            self.utility[option, target] = utility[option]
        self.slope[target] = slope
        self.period_start[slots] = period_start + bases[:, None]

    def sales(self, periods: np.ndarray, relative: np.ndarray, kink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``[B, S]`` units each seller sells in every slot's period ``periods`` and ``[B]`` the arrivals, at
        prices ``relative`` to the list price (``[B, S]``) with reference-price terms ``kink`` (``[B, S]``).

        Every customer takes the option of highest ``utility - slope x relative + kink`` (the single env's
        arithmetic), the first one on ties as ``argmax`` does: options are scanned from the outside option
        down, each taking the lead when at least as good.
        """
        first = self.period_start[self._slots, periods]
        counts = self.period_start[self._slots, periods + 1] - first
        ends = np.cumsum(counts)
        row_slot = np.repeat(self._slots, counts)
        rows = np.arange(ends[-1]) + np.repeat(first - (ends - counts), counts)
        slope = self.slope[rows]
        best = self.utility[-1, rows]
        choice = np.full(rows.size, self.options - 1)
        for seller in range(self.options - 2, -1, -1):
            utility = self.utility[seller, rows]
            utility -= slope * relative[:, seller][row_slot]
            utility += kink[:, seller][row_slot]
            choice[utility >= best] = seller
            np.maximum(utility, best, out=best)
        sold = np.bincount(row_slot * self.options + choice, minlength=self.num_envs * self.options)
        return sold.reshape(self.num_envs, self.options)[:, :-1], counts

    def _fit(self, rows: int) -> None:
        """Grow every slot's region to hold ``rows`` rows (keeping the rows held)."""
        if rows <= self.capacity:
            return
        old, new = self.capacity, max(rows, int(1.1 * self.capacity))
        utility = np.zeros((self.options, self.num_envs, new))
        utility[:, :, :old] = self.utility.reshape(self.options, self.num_envs, old)
        slope = np.zeros((self.num_envs, new))
        slope[:, :old] = self.slope.reshape(self.num_envs, old)
        self.utility, self.slope = utility.reshape(self.options, -1), slope.reshape(-1)
        self.period_start += (self._slots * (new - old))[:, None]
        self.capacity = new


class FreshSeasons:
    """Draws many seasons at once from the single environment's distributions (not its random stream).

    The same draws as :func:`~pricegym.envs.competition.draw_competition_seasons`, made faster:

    * each arriving customer by inversion of the same per-period CDF (the same customer for the same
      uniform), started from a guide table of ``buckets`` equal slices of each period's CDF rather than
      by a binary search;
    * the logit noise as ``-log`` of standard exponentials (a standard Gumbel draw);
    * the utilities at the list price read from a table of every (pool product, period, customer) made
      at construction, when it holds at most :data:`MAX_UTILITY_TABLE_BYTES` (computed per draw otherwise).
    """

    def __init__(self, env: CompetitionEnv) -> None:
        config, market = env.config, env.market
        self.env, self.pool, self.horizon = env, env.pool, config.horizon
        self.n_customers = market.customer_weights.size
        self.appeal = [0.0] + [config.rival_appeal] * env.n_rivals
        cdf = stacked_cdf(env.period_weights)
        self._cdf = np.append(cdf, np.inf)
        self._buckets = max(1, min(GUIDE_BUCKETS * self.n_customers, MAX_GUIDE_ENTRIES // self.horizon))
        marks = (np.arange(self.horizon * self._buckets + 1) - 1e-6) / self._buckets
        self._guide = np.searchsorted(cdf, marks, side="right")  # a start at or before every answer
        self._tables = self._utility_tables()

    def draw(self, seasons: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """``products [n]``, ``level_draws [n, T, n_random]``, ``period_start [n, T + 1]`` (row offsets from
        each season's first), ``utility [S + 1, rows]`` and ``slope [rows]`` of ``seasons`` new seasons."""
        config, horizon = self.env.config, self.horizon
        products = rng.choice(self.pool, size=seasons)
        arrivals = rng.poisson(config.arrival_rate, size=(seasons, horizon))
        periods = np.repeat(np.tile(np.arange(horizon), seasons), arrivals.ravel())
        customers = self._customers(periods, rng)
        level_draws = rng.integers(0, config.random_levels, size=(seasons, horizon, self.env.rules_random_count))
        intercept, slope = self._intercept_and_slope(products, arrivals, periods, customers)
        utility = rng.standard_exponential((len(self.appeal) + 1, customers.size))
        np.log(utility, out=utility)  # -log(exponential) is a Gumbel draw
        for option, appeal in enumerate(self.appeal):
            np.subtract(intercept + appeal, utility[option], out=utility[option])
        np.negative(utility[-1], out=utility[-1])
        period_start = np.zeros((seasons, horizon + 1), dtype=np.int64)
        np.cumsum(arrivals, axis=1, out=period_start[:, 1:])
        return products, level_draws, period_start, utility, slope

    def _customers(self, periods: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The demand row of every arrival (``draw_customers``' inversion: first CDF entry above the uniform)."""
        target = rng.random(periods.size) + periods
        index = self._guide[(target * self._buckets).astype(np.int64)]
        ahead = np.flatnonzero(self._cdf[index] <= target)
        while ahead.size:
            index[ahead] += 1
            ahead = ahead[self._cdf[index[ahead]] <= target[ahead]]
        return np.minimum(index - periods * self.n_customers, self.n_customers - 1)

    def _intercept_and_slope(self, products: np.ndarray, arrivals: np.ndarray, periods: np.ndarray,
                             customers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every arrival's utility at the list price (before the sellers' appeal) and price sensitivity."""
        horizon = self.horizon
        if self._tables is not None:
            position, intercept, slope = self._tables
            places = position[products]
            bases = (places[:, None] * horizon + np.arange(horizon)) * self.n_customers
            cells = np.repeat(bases.ravel(), arrivals.ravel()) + customers
            return intercept[cells], slope[np.repeat(places, arrivals.sum(axis=1)), periods, customers]
        config, market = self.env.config, self.env.market
        row_products = np.repeat(products, arrivals.sum(axis=1))
        context = market.context((config.season_start_day + periods) % market.n_days, row_products)
        intercept, slope = market.demand.intercept_and_slope(customers, row_products, context)
        intercept = np.broadcast_to(intercept, periods.shape) + self._season_appeal()[periods]
        return intercept, np.broadcast_to(slope, periods.shape)

    def _utility_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Each catalogue product's place in the pool, the flat ``[pool, T, customers]`` intercept table (with
        the season's appeal) and the slope table, ``[pool, T, customers]`` (a broadcast view, small when the
        slope does not vary with the day); None when they would take too much memory."""
        config, market, horizon = self.env.config, self.env.market, self.horizon
        shape = (self.pool.size, horizon, self.n_customers)
        if 2 * 8 * np.prod(shape, dtype=float) > MAX_UTILITY_TABLE_BYTES:
            return None
        products = self.pool[:, None, None]
        days = (config.season_start_day + np.arange(horizon))[None, :, None] % market.n_days
        intercept, slope = market.demand.intercept_and_slope(np.arange(self.n_customers)[None, None, :], products,
                                                             market.context(days, products))
        intercept = np.broadcast_to(intercept, shape) + self._season_appeal()[None, :, None]
        position = np.zeros(market.list_prices.size, dtype=np.int64)
        position[self.pool] = np.arange(self.pool.size)
        return position, intercept.ravel(), np.broadcast_to(slope, shape)

    def _season_appeal(self) -> np.ndarray:
        return appeal_over_season(self.horizon, self.env.config.appeal_decay)


class CompetitionBatch(BatchedEnv):
    """B episodes of Competition-v0 (see the module docstring; the arguments are :class:`BatchedEnv`'s).

    ## Policy context
    :meth:`policy_context` returns, per slot (``[B]`` unless said otherwise), what the rule baselines
    of :mod:`pricegym.agents.competition_baselines` read from the single environment:

    | key | meaning |
    |---|---|
    | ``product`` | the season's product (catalogue index) |
    | ``list_price`` | its list price |
    | ``unit_cost`` | the unit cost the reward subtracts (0 with ``reward="revenue"``, as the single env's) |
    | ``low``, ``high`` | the price range of the agent and its rivals |
    | ``start_price`` | the list price clipped to the range: the rivals' reference before the first period |
    | ``period`` | periods played; ``periods_left``: ``horizon - period`` |
    | ``previous_price`` | the agent's price of the previous period (``start_price`` at first) |
    | ``units_sold`` | the agent's units sold in the previous period (0 at first) |
    | ``rival_prices`` | ``[B, R]`` the rivals' prices of the current period |
    | ``level_draws`` | ``[B, T, n_random]`` the random rivals' level index in every period |
    | ``model`` | not an array: the :class:`~pricegym.envs.competition_oracle.CompetitionModel` of all slots |

    ``model`` is the one entry shared by every slot (read-only): the market (the demand source and the
    calendar) and the config, with which model-based rules plan a product's season
    (:func:`~pricegym.envs.competition_oracle.season_problem`); as per-slot arrays the customers'
    utilities would take ``[B, T, customers]`` floats at every call.

    ## Infos
    Step: ``price``, ``rival_prices``, ``units_sold``, ``rival_units_sold``, ``arrivals``, ``price_at_bound``
    (the single env's keys, ``[B]``-leading). Reset: ``products`` and ``rival_prices`` of every slot (the
    single env's ``customers_hash`` is not computed).
    """

    env_name = ENV_NAME
    env_class = CompetitionEnv

    def __init__(self, num_envs: int, config: Any = None, seed: int | None = None, **overrides: Any) -> None:
        super().__init__(num_envs, config, seed, **overrides)
        env, config = self.single_env, self.config
        batch, horizon, rivals = self.num_envs, config.horizon, env.n_rivals
        self.price_actions = BatchedPriceActions(config.action_space, 1, config.ladder_size, ENV_NAME)
        self._follow = np.array(follow_weights(config.rivals, config.undercut_share))
        self._effect = env.market.reference_effect
        self._period_features = env.period_features()
        self._product_parts = [env.slices["product_embedding"], env.slices["list_price"]]
        self._dynamic = slice(env.slices["previous_price"].start, env.slices["rival_recent_sales"].stop)
        expected = config.arrival_rate * horizon
        self._rows = SeasonRows(batch, horizon, rivals + 2, int(expected + 5.0 * np.sqrt(expected)) + 8)
        self._fresh = FreshSeasons(env)
        self._model = CompetitionModel.of(env)
        self._slots = np.arange(batch)
        self._status = np.full(batch, NOT_STARTED, dtype=np.int8)
        self._product = np.zeros(batch, dtype=np.int64)
        self._list_price, self._unit_cost, self._start_price = np.ones(batch), np.zeros(batch), np.ones(batch)
        self._low, self._high, self._price_scale = np.zeros(batch), np.ones(batch), np.ones(batch)
        self._offsets = np.zeros((batch, horizon, rivals))
        self._level_draws = np.zeros((batch, horizon, env.rules_random_count), dtype=np.int64)
        self._period = np.zeros(batch, dtype=np.int64)
        self._previous_price, self._rival_prices = np.ones(batch), np.ones((batch, rivals))
        self._units_sold, self._rival_units_sold = np.zeros(batch, np.int64), np.zeros((batch, rivals), np.int64)
        self._product_rows = np.zeros((batch, self.single_observation_space.shape[0]), dtype=np.float32)
        self._observations = self._observe(self._slots)

    # -- episodes ------------------------------------------------------------------------------

    def reset(self, seeds: Sequence[int | None] | None = None,
              mask: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Start new seasons in the slots of ``mask`` (all when None); see :meth:`BatchedEnv.reset`.

        Seeds of slots outside ``mask`` are ignored.
        """
        seed_list = checked_seeds(ENV_NAME, seeds, self.num_envs)
        slots = np.flatnonzero(checked_mask(ENV_NAME, mask, self.num_envs))
        if slots.size:
            seeded = [] if seeds is None else [int(slot) for slot in slots if seed_list[slot] is not None]
            fresh = np.setdiff1d(slots, seeded, assume_unique=True) if seeded else slots
            if fresh.size:
                self._start(fresh, *self._fresh.draw(fresh.size, self.np_random))
            for slot in seeded:
                self._start(np.array([slot]), *self._seeded_season(seed_list[slot]))
            self._observations = self._observations.copy()  # never change an array handed out
            self._observations[slots] = self._observe(slots)
        return self._observations, {"products": self._product.copy(), "rival_prices": self._rival_prices.copy()}

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Every slot's season moves one period; see :meth:`BatchedEnv.step` and the single env's ``step``."""
        self._check_running()
        low, high, horizon = self._low, self._high, self.config.horizon
        price = self.price_actions.to_prices(actions, low[:, None], high[:, None])[:, 0]
        rival_prices = self._rival_prices
        relative = np.concatenate([price[:, None], rival_prices], axis=1) / self._list_price[:, None] - 1.0
        kink = np.where(relative < 0, self._effect.gain * -relative, -self._effect.loss * relative)
        sold, arrivals = self._rows.sales(self._period, relative, kink)
        units_sold, rival_units_sold = sold[:, 0], sold[:, 1:]
        reward = (price - self._unit_cost) * units_sold
        # the state keeps its own copies: a reset writes into them, never into what the infos handed out
        self._previous_price, self._units_sold = price.copy(), units_sold.copy()
        self._rival_units_sold = rival_units_sold.copy()
        self._period = self._period + 1
        terminated = self._period >= horizon
        offsets = self._offsets[self._slots, np.minimum(self._period, horizon - 1)]
        self._rival_prices = np.where(terminated[:, None], rival_prices, self._react(price, offsets, low, high))
        self._status[terminated] = ENDED
        tolerance = 1e-6 * np.maximum(high - low, 1e-12)
        info = {"price": price, "rival_prices": rival_prices, "units_sold": units_sold,
                "rival_units_sold": rival_units_sold, "arrivals": arrivals,
                "price_at_bound": (price <= low + tolerance) | (price >= high - tolerance)}
        self._observations = self._observe(self._slots)
        return self._observations, reward, terminated, np.zeros(self.num_envs, dtype=bool), info

    def policy_context(self) -> dict[str, Any]:
        """Per-slot arrays a rule may read beyond the observation, and the shared ``model`` (keys in the class
        docstring)."""
        return {"product": self._product.copy(), "list_price": self._list_price.copy(),
                "unit_cost": self._unit_cost.copy(), "low": self._low.copy(), "high": self._high.copy(),
                "start_price": self._start_price.copy(), "period": self._period.copy(),
                "periods_left": self.config.horizon - self._period, "previous_price": self._previous_price.copy(),
                "units_sold": self._units_sold.copy(),
                "rival_prices": self._rival_prices.copy(), "level_draws": self._level_draws.copy(),
                "model": self._model, **self.shared_context()}

    # -- parts ---------------------------------------------------------------------------------

    def _seeded_season(self, seed: int) -> tuple[np.ndarray, ...]:
        """The season the single env plays after ``reset(seed=seed)``, as :meth:`FreshSeasons.draw` returns."""
        rng = seeding.np_random(seed)[0]  # the generator Gymnasium's reset makes
        horizon = self.config.horizon
        batch = draw_competition_seasons(self.single_env, rng.choice(self.single_env.pool, size=SEASONS_PER_DRAW),
                                         rng)
        period_start = batch["period_start"][:horizon + 1]  # the first season's rows start at 0
        rows = slice(0, int(period_start[-1]))
        return (batch["products"][:1], batch["level_draws"][:1], period_start[None, :],
                batch["utility_at_list"][rows].T, batch["slope"][rows])

    def _start(self, slots: np.ndarray, products: np.ndarray, level_draws: np.ndarray, period_start: np.ndarray,
               utility: np.ndarray, slope: np.ndarray) -> None:
        """Start new seasons in ``slots`` (their draws as :meth:`FreshSeasons.draw` returns them)."""
        config, market = self.config, self.single_env.market
        self._rows.install(slots, period_start, utility, slope)
        list_price = market.list_prices[products]
        low, high = market.allowed_price_ranges(products, config.price_range)
        offsets = rival_offsets(config.rivals, config.rival_fixed_price * list_price,
                                random_level_prices(low, high, config.random_levels), level_draws)
        start_price = np.minimum(np.maximum(list_price, low), high)
        self._product[slots], self._list_price[slots], self._start_price[slots] = products, list_price, start_price
        self._unit_cost[slots] = market.unit_costs[products] if config.reward == "margin" else 0.0
        self._low[slots], self._high[slots] = low, high
        self._price_scale[slots] = 1.0 / np.maximum(high - low, 1e-12)
        self._offsets[slots], self._level_draws[slots] = offsets, level_draws
        self._period[slots], self._previous_price[slots] = 0, start_price
        self._rival_prices[slots] = self._react(start_price, offsets[:, 0], low, high)
        self._units_sold[slots], self._rival_units_sold[slots] = 0, 0
        self._product_rows[slots] = self.single_env.product_features(products, list_price)
        self._status[slots] = RUNNING

    def _react(self, agent_price: np.ndarray, offsets: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """``[n, R]`` the rivals' prices after the agent's price ``agent_price`` (``[n]``), given their offsets."""
        return np.minimum(np.maximum(self._follow * agent_price[:, None] + offsets, low[:, None]), high[:, None])

    def _observe(self, slots: np.ndarray) -> np.ndarray:
        """``[n, size]`` the observations of ``slots`` (float32, the single env's arithmetic)."""
        observation = self._period_features[self._period[slots]]
        for part in self._product_parts:
            observation[:, part] = self._product_rows[slots, part]
        low, scale = self._low[slots, None], self._price_scale[slots, None]
        sales_scale = 1.0 / self.config.arrival_rate
        observation[:, self._dynamic] = np.concatenate([
            (self._previous_price[slots, None] - low) * scale, (self._rival_prices[slots] - low) * scale,
            np.minimum(self._units_sold[slots, None] * sales_scale, SCALE_CAP),
            np.minimum(self._rival_units_sold[slots] * sales_scale, SCALE_CAP)], axis=1)
        return observation

    def _check_running(self) -> None:
        """Raise EnvStateError naming the first slot whose episode is not running."""
        if (self._status == RUNNING).all():
            return
        slot = int(np.flatnonzero(self._status != RUNNING)[0])
        if self._status[slot] == NOT_STARTED:
            raise EnvStateError(f"{ENV_NAME} (batched): step() called before slot {slot} was reset; call reset() "
                                "first to start its episode")
        raise EnvStateError(f"{ENV_NAME} (batched): step() called for slot {slot}, whose episode ended "
                            "(terminated=True); reset it first, e.g. reset(mask=terminated | truncated)")
