"""The batched core of Markdown-v0: B selling seasons held as arrays and stepped at once.

:class:`MarkdownBatch` follows the contract of :mod:`pricegym.envs.batched`. What it holds:

* **a store of drawn seasons** (:class:`SeasonStore`, room for the B seasons being played and one
  chunk drawn ahead): per season its products, price ranges, starting stock and prices, the fixed
  parts of its observations (embeddings and list prices, and the competitor gaps per period) and
  its customers, padded per period to the most arrivals of any period held (M), ``[T, M, K]``:
  reservation prices (``-inf`` pads), or with ``reference_dynamics=True`` purchase thresholds and
  slopes (``-inf`` and 0 pads): a pad never buys;
* **per slot** the season it plays, and its moving state: period, stock left, last prices and
  sales, reference prices.

A seeded slot draws what the single environment draws after ``reset(seed=seed)`` (a generator made
as Gymnasium makes it, products and customers of ``SEASONS_PER_DRAW`` seasons) and plays season 0.
Unseeded slots take seasons drawn ahead, a chunk at a time, from the core's generator with the
single environment's distributions: a uniform K-subset of the product pool (sorted), Poisson
arrivals per period, each arrival's customer by that period's shopper weights (Walker's alias
tables instead of the single environment's CDF search), and one logistic noise per customer x
product (the logit of a uniform). Their intercepts and slopes are gathered from a table of every
pool product, period and customer made at construction (:class:`UtilityTable`, when it holds at
most :data:`UTILITY_TABLE_CELLS`), with the very numbers the single environment computes per row.

The step is the single environment's arithmetic element by element: a product's buyers are the
period's customers whose reservation price exceeds its price (or whose utility index is positive),
sales are capped by stock, the reward is revenue (or margin) minus holding cost, plus salvage at the
end, sums taken product after product as Python's ``sum`` takes them. A slot's season ends when its
periods are over or all its stock is sold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.utils import seeding

from pricegym.envs.batched import BatchedEnv, checked_mask, checked_seeds
from pricegym.envs.batched_actions import BatchedPriceActions
from pricegym.envs.config import ENV_NAME
from pricegym.envs.customer_stream import SeasonBatch, row_utilities, season_batch, seasons_of, utility_index
from pricegym.envs.markdown import SEASONS_PER_DRAW, MarkdownEnv, draw_products
from pricegym.envs.observation import SCALE_CAP
from pricegym.errors import EnvStateError

NOT_STARTED, RUNNING, ENDED = 0, 1, 2
"""A slot's episode state."""

CHUNK_CELLS = 1 << 20
"""Customer x product cells (expected) of one chunk of seasons drawn ahead; a chunk holds B seasons (at
least 16) unless that is more."""

UTILITY_TABLE_CELLS = 1 << 22
"""Pool products x periods x customers up to which every customer's intercept and slope are tabled at construction
(two float64 tables), so that unseeded draws gather them instead of computing them per arriving customer."""

SEASON_KEYS = ("products", "list_prices", "unit_costs", "low", "high", "inventory", "start_prices",
               "inventory_scale", "price_scale", "season_rows")
"""What the store holds per season besides competitor gaps, arrivals and customers, and each slot copies."""


class MarkdownBatch(BatchedEnv):
    """B Markdown-v0 seasons stepped at once (see the module docstring).

    Args:
        num_envs: B, the seasons played together.
        config: a :class:`~pricegym.envs.config.MarkdownConfig`, a dict of its options, or None for the defaults.
        seed: seeds the core's generator (the seasons of unseeded resets).
        **overrides: config options.

    ## Reset
    ``reset(seeds, mask)`` starts new seasons in the slots of ``mask`` (all when None); ``seeds`` (B
    entries, each an integer or None) are read for those slots only. Reset infos: ``products`` ``[B, K]``.

    ## Step
    ``actions``: ``[B, K]`` floats in ``[-1, 1]`` (box; ``[B]`` too for K = 1) or ``[B]`` / ``[B, K]``
    integer rungs (ladder). Returns observations ``[B, D]`` float32, rewards ``[B]`` float64,
    terminated ``[B]`` (season over or sold out), truncated ``[B]`` (never) and infos with the single
    environment's keys: ``prices``, ``units_sold``, ``units_lost_to_stockout``, ``price_at_bound``
    (``[B, K]``), ``revenue`` and ``arrivals`` (``[B]``). A slot whose season ended must be reset
    before the next step, else :class:`~pricegym.errors.EnvStateError` names it.

    ## Policy context
    :meth:`policy_context` holds per slot what the single environment's rules read from it:
    ``products`` (catalogue indices), ``list_price``, ``unit_cost``, ``low`` and ``high`` (the
    action's ranges; the same names as the other cores' contexts), ``initial_inventory``,
    ``inventory_left``, ``prices`` (the last period's, the starting prices before the first step),
    ``units_sold`` (the last period's),
    ``reference_prices`` (the list prices without ``reference_dynamics``), all ``[B, K]``, and
    ``period`` and ``periods_left`` (``[B]``); and the shared, read-only ``market`` and ``config``
    (:meth:`~pricegym.envs.batched.BatchedEnv.shared_context`; not arrays): what the planning rules and the oracle of
    :mod:`pricegym.agents.batched_markdown_rules` plan with, as the single environment's read them.

    ## Memory
    About ``(B + chunk) x T x M x K`` float64 customer cells (twice that with reference dynamics; M is
    about the arrival rate plus five of its standard deviations), ``B x D`` float32 and the two
    :class:`UtilityTable` tables (at most :data:`UTILITY_TABLE_CELLS` float64 each).
    """

    env_name = ENV_NAME
    env_class = MarkdownEnv

    def __init__(self, num_envs: int, config: Any = None, seed: int | None = None, **overrides: Any) -> None:
        super().__init__(num_envs, config, seed, **overrides)
        env, config = self.single_env, self.config
        self.price_actions = BatchedPriceActions(config.action_space, config.n_products, config.ladder_size, ENV_NAME)
        season_cells = max(config.arrival_rate * config.horizon * config.n_products, 1.0)
        self.chunk = int(max(1, min(max(self.num_envs, 16), CHUNK_CELLS // season_cells)))
        self._store = SeasonStore(self.num_envs + self.chunk, config.horizon, config.n_products,
                                  self.single_observation_space.shape[0], config.reference_dynamics)
        self._shoppers = ShopperDraw(env.market.shopper_weights(config.horizon, config.shopper_mix_shift))
        cells = env.pool.size * config.horizon * env.market.customer_weights.size
        self._utilities = UtilityTable(env.market, env.pool, config) if cells <= UTILITY_TABLE_CELLS else None
        self._period_rows = env.observation_parts(env.pool[None, :config.n_products])[1]
        self._parts = {name: env.slices[name] for name in ("inventory_left", "price_position", "recent_sales",
                                                           "competitor_gap")}
        self._ready = np.zeros(0, dtype=np.intp)  # store ids of seasons drawn ahead, in order
        self._allocate()

    def _allocate(self) -> None:
        """The per-slot arrays: the season played (copied from the store) and the moving state."""
        store, batch = self._store, self.num_envs
        self._season = {name: np.zeros((batch,) + values.shape[1:], dtype=values.dtype)
                        for name, values in store.fixed.items() if name in SEASON_KEYS}
        self._near_low, self._near_high = np.zeros_like(self._season["low"]), np.zeros_like(self._season["low"])
        self._episode = np.zeros(batch, dtype=np.intp)
        self._status = np.full(batch, NOT_STARTED, dtype=np.int8)
        self._period = np.zeros(batch, dtype=np.int64)
        self._inventory = np.zeros_like(self._season["inventory"])
        self._prices = np.zeros_like(self._season["low"])
        self._units_sold = np.zeros_like(self._inventory)
        self._reference = np.zeros_like(self._prices)
        self._observations = np.zeros((batch, self.single_observation_space.shape[0]), dtype=np.float32)

    # -- reset ---------------------------------------------------------------------------------

    def reset(self, seeds: Sequence[int | None] | None = None,
              mask: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        seed_list = checked_seeds(ENV_NAME, seeds, self.num_envs)
        mask = checked_mask(ENV_NAME, mask, self.num_envs)
        slots = np.flatnonzero(mask)
        started = slots[self._status[slots] != NOT_STARTED]
        self._store.in_use[self._episode[started]] = False  # their seasons' places are free again
        seeded = np.zeros(slots.size, dtype=bool) if seeds is None else np.array(
            [seed_list[slot] is not None for slot in slots], dtype=bool)
        for slot in slots[seeded]:
            self._episode[slot] = self._draw_seeded(seed_list[slot])
        self._episode[slots[~seeded]] = self._take_drawn(int(np.count_nonzero(~seeded)))
        self._start(slots)
        observations = self._observations.copy()  # the caller may hold the previous array
        observations[slots] = self._observe(slots)
        self._observations = observations
        return observations, {"products": self._season["products"].copy()}

    def _draw_seeded(self, seed: int) -> int:
        """The store id of season 0 of what the single environment draws after ``reset(seed=seed)``."""
        rng, _ = seeding.np_random(seed)
        products = draw_products(rng, self.single_env.pool, self.config.n_products, SEASONS_PER_DRAW)
        seasons = self.single_env.draw_season_batch(products, rng)
        return int(self._put(seasons, 1)[0])

    def _take_drawn(self, count: int) -> np.ndarray:
        """Store ids of ``count`` seasons drawn ahead, drawing a chunk when too few are left."""
        taken, self._ready = self._ready[:count], self._ready[count:]
        if taken.size < count:
            ids = self._put(self._draw_unseeded(max(count - taken.size, self.chunk)))
            taken, self._ready = np.concatenate([taken, ids[:count - taken.size]]), ids[count - taken.size:]
        return taken

    def _draw_unseeded(self, count: int) -> SeasonBatch:
        """``count`` fresh seasons from the core's generator (see the module docstring)."""
        rng, config, env = self.np_random, self.config, self.single_env
        horizon, pool = config.horizon, env.pool
        if config.n_products == 1:
            positions = rng.integers(pool.size, size=(count, 1))
        else:  # the K smallest of uniform keys: a uniform K-subset
            positions = np.argpartition(rng.random((count, pool.size)), config.n_products - 1, axis=1)
        positions = np.sort(positions[:, :config.n_products], axis=1)
        products = pool[positions]
        arrivals = rng.poisson(config.arrival_rate, size=count * horizon)
        block = np.repeat(np.arange(count * horizon), arrivals)  # (season, period) of every row
        customers = self._shoppers.draw(block % horizon, rng)
        noise = rng.logistic(size=(customers.size, config.n_products))
        if self._utilities is None:
            return season_batch(env.market, products, config.season_start_day, horizon, config.appeal_decay,
                                arrivals, customers, noise)
        intercept, slope = self._utilities.rows(positions[block // horizon], block % horizon, customers)
        return seasons_of(env.market, products, horizon, arrivals, customers, products[block // horizon],
                          intercept - noise, slope)

    def _put(self, seasons: SeasonBatch, count: int | None = None) -> np.ndarray:
        """Store the first ``count`` (all when None) of ``seasons`` in free places; returns their store ids."""
        env, market = self.single_env, self.single_env.market
        products = seasons.products[:count]
        season_rows, _, gaps = env.observation_parts(products)
        fixed = {**env.season_features(products), "products": products, "list_prices": market.list_prices[products],
                 "unit_costs": market.unit_costs[products], "season_rows": season_rows, "gaps": gaps}
        return self._store.put(fixed, seasons)

    def _start(self, slots: np.ndarray) -> None:
        """Start the seasons of the store ids in ``self._episode[slots]``."""
        fixed, ids = self._store.fixed, self._episode[slots]
        for name, values in self._season.items():
            values[slots] = fixed[name][ids]
        low, high = self._season["low"][slots], self._season["high"][slots]
        tolerance = 1e-6 * np.maximum(high - low, 1e-12)  # as PriceActions.at_bound
        self._near_low[slots], self._near_high[slots] = low + tolerance, high - tolerance
        self._period[slots] = 0
        self._inventory[slots] = fixed["inventory"][ids]
        self._prices[slots] = fixed["start_prices"][ids]
        self._units_sold[slots] = 0
        self._reference[slots] = fixed["list_prices"][ids]
        self._status[slots] = RUNNING

    # -- step ----------------------------------------------------------------------------------

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        self._check_running()
        config, season = self.config, self._season
        prices = self.price_actions.to_prices(actions, season["low"], season["high"])
        wanted = self._buyers(prices)
        sold = np.minimum(wanted, self._inventory)
        self._inventory -= sold
        revenue = _sum_over_products(prices * sold)
        rewards = revenue - config.holding_cost * self._inventory.sum(axis=1)
        if config.reward == "margin":
            rewards -= _sum_over_products(season["unit_costs"] * sold)
        if config.reference_dynamics:
            self._reference = self.single_env.market.reference_effect.update(self._reference, prices)
        arrivals = self._store.arrivals[self._episode, self._period]
        self._prices[:], self._units_sold[:] = prices, sold
        self._period += 1
        ended = (self._period >= config.horizon) | ~self._inventory.any(axis=1)
        if config.salvage_share:
            salvage = config.salvage_share * _sum_over_products(season["unit_costs"] * self._inventory)
            rewards = np.where(ended, rewards + salvage, rewards)
        self._status[ended] = ENDED
        infos = {"prices": prices, "units_sold": sold, "revenue": revenue, "units_lost_to_stockout": wanted - sold,
                 "price_at_bound": (prices <= self._near_low) | (prices >= self._near_high), "arrivals": arrivals}
        self._observations = self._observe(slice(None))
        return self._observations, rewards, ended, np.zeros(self.num_envs, dtype=bool), infos

    def _check_running(self) -> None:
        """Raise EnvStateError naming the first slot whose season is not running."""
        if (self._status != RUNNING).any():
            slot = int(np.argmax(self._status != RUNNING))
            problem = "was never reset" if self._status[slot] == NOT_STARTED else "has ended (terminated=True)"
            raise EnvStateError(f"{ENV_NAME} (batched): step() called while the season of slot {slot} {problem}; "
                                "reset it first, e.g. reset(mask=terminated | truncated)")

    def _buyers(self, prices: np.ndarray) -> np.ndarray:
        """``[B, K]`` the customers of every slot's period who would buy each product at ``prices`` (stock aside)."""
        customers, ids, period = self._store.customers, self._episode, self._period
        if not self.config.reference_dynamics:
            return np.count_nonzero(customers["reservation"][ids, period] > prices[:, None, :], axis=1)
        index = utility_index(customers["threshold"][ids, period], customers["slope"][ids, period],
                              prices[:, None, :], self._season["list_prices"][:, None, :],
                              self._reference[:, None, :], self.single_env.market.reference_effect)
        return np.count_nonzero(index > 0, axis=1)

    def _observe(self, slots: np.ndarray | slice) -> np.ndarray:
        """The observations of ``slots``: the season's and the period's fixed parts, the moving state written in."""
        season, parts, period = self._season, self._parts, self._period[slots]
        observations = season["season_rows"][slots] + self._period_rows[period]
        observations[:, parts["competitor_gap"]] = self._store.fixed["gaps"][self._episode[slots], period]
        observations[:, parts["inventory_left"]] = self._inventory[slots] * season["inventory_scale"][slots]
        observations[:, parts["price_position"]] = ((self._prices[slots] - season["low"][slots])
                                                    * season["price_scale"][slots])
        observations[:, parts["recent_sales"]] = np.minimum(self._units_sold[slots] * (1.0 / self.config.arrival_rate),
                                                            SCALE_CAP)
        return observations

    def policy_context(self) -> dict[str, np.ndarray]:
        """What a rule may know beyond the observation, per slot (keys in the class docstring)."""
        season = self._season
        return {"products": season["products"].copy(), "list_price": season["list_prices"].copy(),
                "unit_cost": season["unit_costs"].copy(), "low": season["low"].copy(),
                "high": season["high"].copy(), "initial_inventory": season["inventory"].copy(),
                "inventory_left": self._inventory.copy(), "prices": self._prices.copy(),
                "units_sold": self._units_sold.copy(), "reference_prices": self._reference.copy(),
                "period": self._period.copy(), "periods_left": self.config.horizon - self._period,
                **self.shared_context()}


def _sum_over_products(values: np.ndarray) -> np.ndarray:
    """``[B]`` the sums of the rows of ``values`` (``[B, K]``), product after product (as Python's ``sum``)."""
    total = values[:, 0].copy()
    for product in range(1, values.shape[1]):
        total += values[:, product]
    return total


class SeasonStore:
    """Drawn seasons, ready or being played, as arrays indexed by a store id in ``0..capacity-1``.

    Attributes:
        fixed: per season, :data:`SEASON_KEYS` and ``gaps`` (``[T + 1, K]`` competitor gaps).
        arrivals: ``[capacity, T]`` customers per period.
        customers: ``[capacity, T, M, K]`` per period the customers' reservation prices (``reservation``),
            or thresholds and slopes (``threshold``, ``slope``), padded to M with customers who never buy.
        in_use: which ids hold a season being played or drawn ahead.
    """

    def __init__(self, capacity: int, horizon: int, n_products: int, width: int, with_memory: bool) -> None:
        self.capacity, self.horizon, self.n_products = capacity, horizon, n_products
        shape = (capacity, n_products)
        self.fixed = {name: np.zeros(shape, dtype=np.int64 if name in ("products", "inventory") else float)
                      for name in SEASON_KEYS}
        self.fixed["season_rows"] = np.zeros((capacity, width), dtype=np.float32)
        self.fixed["gaps"] = np.zeros((capacity, horizon + 1, n_products), dtype=np.float32)
        self.arrivals = np.zeros((capacity, horizon), dtype=np.int64)
        self.pads = {"threshold": -np.inf, "slope": 0.0} if with_memory else {"reservation": -np.inf}
        self.customers = {name: np.full((capacity, horizon, 0, n_products), pad) for name, pad in self.pads.items()}
        self.in_use = np.zeros(capacity, dtype=bool)

    def put(self, fixed: dict[str, np.ndarray], seasons: SeasonBatch) -> np.ndarray:
        """Store the first ``len(fixed["products"])`` seasons of ``seasons`` in free places; returns their ids."""
        count, horizon = fixed["products"].shape[0], self.horizon
        ids = np.flatnonzero(~self.in_use)[:count]
        if ids.size < count:
            raise RuntimeError(f"{ENV_NAME} (batched): the season store is full")  # not reached: sized for it
        self.in_use[ids] = True
        for name, values in fixed.items():
            self.fixed[name][ids] = values
        period_start = seasons.period_start[:count * horizon + 1]
        arrivals = np.diff(period_start)
        self.arrivals[ids] = arrivals.reshape(count, horizon)
        self._fit(int(arrivals.max(initial=0)))
        rows = int(period_start[-1])
        block = seasons.block[:rows]
        within = np.arange(rows) - period_start[block]
        sources = {"reservation": seasons.reservation_price, "threshold": seasons.threshold, "slope": seasons.slope}
        for name, table in self.customers.items():
            table[ids] = self.pads[name]
            table[ids[block // horizon], block % horizon, within] = sources[name][:rows]
        return ids

    def _fit(self, arrivals: int) -> None:
        """Widen the customer tables to hold ``arrivals`` customers per period (an eighth more, to grow rarely)."""
        held = next(iter(self.customers.values())).shape[2]
        if arrivals <= held:
            return
        width = max(arrivals, held + held // 8)
        for name, table in self.customers.items():
            wider = np.full(table.shape[:2] + (width, self.n_products), self.pads[name])
            wider[:, :, :held] = table
            self.customers[name] = wider


class UtilityTable:
    """Every pool product's intercept (with the season's fading appeal) and slope for every period and customer,
    as :func:`~pricegym.envs.customer_stream.row_utilities` computes them, laid out product, period, customer."""

    def __init__(self, market: Any, pool: np.ndarray, config: Any) -> None:
        customers = market.customer_weights.size
        self.shape = (pool.size, config.horizon, customers)
        periods, rows = np.repeat(np.arange(config.horizon), customers), np.tile(np.arange(customers), config.horizon)
        intercepts, slopes = [], []
        for product in pool:  # a product at a time: small temporaries
            intercept, slope = row_utilities(market, np.full((rows.size, 1), product), rows, periods,
                                             config.season_start_day, config.horizon, config.appeal_decay)
            intercepts.append(intercept.ravel())
            slopes.append(np.broadcast_to(slope, intercept.shape).ravel())
        self.intercept, self.slope = np.concatenate(intercepts), np.concatenate(slopes)

    def rows(self, positions: np.ndarray, periods: np.ndarray, customers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The intercepts and slopes (``[rows, K]``) of customers (``[rows]``) for the pool products at
        ``positions`` (``[rows, K]``) in ``periods`` (``[rows]``)."""
        _, horizon, size = self.shape
        cells = (positions * horizon + periods[:, None]) * size + customers[:, None]
        return self.intercept[cells], self.slope[cells]


class ShopperDraw:
    """Draws arriving customers (demand rows) by each period's shopper weights, with Walker's alias tables.

    Args:
        weights: ``[T, customers]`` each period's arrival weights (rows summing to 1).
    """

    def __init__(self, weights: np.ndarray) -> None:
        self.size = weights.shape[1]
        accept, alias = zip(*(alias_table(row) for row in weights), strict=True)
        self.accept, self.alias = np.concatenate(accept), np.concatenate(alias)

    def draw(self, periods: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One customer per entry of ``periods``, from one uniform each."""
        scaled = rng.random(periods.size) * self.size
        column = np.minimum(scaled.astype(np.intp), self.size - 1)
        cell = periods * self.size + column
        return np.where(scaled - column < self.accept[cell], column, self.alias[cell])


def alias_table(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias table of a discrete distribution (Vose's method): column ``i`` is drawn with probability
    ``accept[i]`` and otherwise gives way to ``alias[i]``."""
    size = weights.size
    scaled = (weights * (size / weights.sum())).tolist()
    accept, alias = [1.0] * size, list(range(size))
    small = [i for i, share in enumerate(scaled) if share < 1.0]
    large = [i for i, share in enumerate(scaled) if share >= 1.0]
    while small and large:
        low, high = small.pop(), large.pop()
        accept[low], alias[low] = scaled[low], high
        scaled[high] = (scaled[high] + scaled[low]) - 1.0
        (small if scaled[high] < 1.0 else large).append(high)
    return np.array(accept), np.array(alias, dtype=np.intp)
