"""What a pricing environment needs from a world and its demand source, built once per process.

A :class:`PricingMarket` holds the demand source (through the demand interface, in its
linear-index form), the customer population's arrival weights, each product's list price, unit
cost and price range, the calendar of market conditions, optional product embeddings, and the
pools of products an episode may draw. Building a world takes seconds, so markets are cached per
configuration: many environments (a vectorised env, a benchmark) share one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from pricegym.errors import ConfigError, DataError
from pricegym.worlds.demand import LinearPriceDemand, MarketContext, ReferencePriceEffect
from pricegym.worlds.registry import WorldConfig, load_world
from pricegym.worlds.synthetic.market import build_calendar


@dataclass(frozen=True)
class PricingMarket:
    """Everything an environment reads about customers, products, prices and the calendar.

    Attributes:
        demand: the demand source; ``customers`` index :attr:`customer_weights`.
        customer_weights: probability that an arriving customer is each demand row.
        market_feature_table, competitor_gap_table, list_price_conversion, price_sensitivity_score:
            derived once (``__post_init__``): the population's mean purchase probability at list
            price per product, and each customer's standardised mean price sensitivity.
        list_prices, unit_costs: per product of the catalogue.
        price_ranges: ``[products, 2]`` lowest and highest price an episode may set.
        train_products, cold_start_products: indices of the two product pools.
        weekday, season, holiday: market conditions by calendar day.
        competitor_prices: ``[day, product]`` rival prices (NaN: unknown).
        product_embeddings: ``[products, d]`` fine-tuned LM embeddings (d = 0 when none).
        customer_embeddings: ``[customers, d]`` the same for the customers' profiles (demand rows).
        source: ``"ground_truth"`` or ``"fitted"``.
        product_texts, customer_texts: each product's and each demand row's text (a customer's
            profile, or a customer type's description), which the text encoder embeds when no
            demand run supplies embeddings (:mod:`pricegym.envs.embeddings`).
    """

    demand: LinearPriceDemand
    customer_weights: np.ndarray
    list_prices: np.ndarray
    unit_costs: np.ndarray
    price_ranges: np.ndarray
    train_products: np.ndarray
    cold_start_products: np.ndarray
    weekday: np.ndarray
    season: np.ndarray
    holiday: np.ndarray
    competitor_prices: np.ndarray
    product_embeddings: np.ndarray
    source: str
    customer_embeddings: np.ndarray | None = None
    product_texts: tuple[str, ...] = ()
    customer_texts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # tables derived once, so that a reset only gathers from them
        from pricegym.envs.observation import market_features

        object.__setattr__(self, "market_feature_table", np.stack(
            [market_features(w, s, h) for w, s, h in zip(self.weekday, self.season, self.holiday, strict=True)]))
        gap = np.nan_to_num(self.competitor_prices / self.list_prices[None, :] - 1.0)
        object.__setattr__(self, "competitor_gap_table", np.clip(gap, -1.0, 1.0).astype(np.float32))
        customers, products = np.arange(self.customer_weights.size)[:, None], np.arange(self.list_prices.size)[None, :]
        at_list_price = self.demand.demand(customers, products, self.list_prices[products], MarketContext.neutral(),
                                           self.list_prices[products])
        object.__setattr__(self, "list_price_conversion", self.customer_weights @ at_list_price)
        _, slope = self.demand.intercept_and_slope(customers, products, None)
        sensitivity = np.broadcast_to(slope, at_list_price.shape).mean(axis=1)
        spread = sensitivity.std()
        object.__setattr__(self, "price_sensitivity_score",
                           (sensitivity - sensitivity.mean()) / spread if spread > 0 else np.zeros_like(sensitivity))

    def shopper_weights(self, horizon: int, mix_shift: float) -> np.ndarray:
        """``[T, customers]`` arrival weights per period: the population's weights tilted from the
        least price-sensitive customers (first period) to the most (last period)."""
        position = np.linspace(-1.0, 1.0, horizon) if horizon > 1 else np.zeros(1)
        with np.errstate(divide="ignore"):  # a customer of weight 0 has log-weight -inf
            log_weights = np.log(self.customer_weights)[None, :] + mix_shift * position[:, None] * \
                self.price_sensitivity_score
        tilted = np.exp(log_weights - log_weights.max(axis=1, keepdims=True))  # shifted: no overflow
        return tilted / tilted.sum(axis=1, keepdims=True)

    @property
    def reference_effect(self) -> ReferencePriceEffect:
        return self.demand.reference_effect

    @property
    def n_days(self) -> int:
        return self.weekday.size

    def context(self, days: np.ndarray, products: np.ndarray) -> MarketContext:
        """Market conditions on calendar ``days`` for ``products`` (broadcast together)."""
        days = np.asarray(days) % self.n_days
        return MarketContext(self.weekday[days], self.season[days], self.holiday[days],
                             self.competitor_prices[days, products])

    def product_pool(self, name: str) -> np.ndarray:
        """Indices of the ``"train"`` or ``"cold_start"`` products."""
        return self.train_products if name == "train" else self.cold_start_products

    def allowed_price_ranges(self, products: np.ndarray, price_range: tuple[float, float] | None
                             ) -> tuple[np.ndarray, np.ndarray]:
        """Each product's lowest and highest allowed price: the observed range, or ``price_range`` x list
        price; with a fitted demand model ``price_range`` can only narrow the observed range (the model is
        not to be trusted far from the prices it was fitted on). Empty ranges (high <= low) are the
        caller's to refuse."""
        low, high = self.price_ranges[products, 0], self.price_ranges[products, 1]
        if price_range is not None:
            wanted_low, wanted_high = np.multiply.outer(price_range, self.list_prices[products])
            if self.source == "fitted":
                wanted_low, wanted_high = np.maximum(wanted_low, low), np.minimum(wanted_high, high)
            low, high = wanted_low, wanted_high
        return low, high

def stacked_cdf(period_weights: np.ndarray) -> np.ndarray:
    """Per-period CDFs laid end to end, period t's shifted by t, so one search draws for all periods."""
    return (np.cumsum(period_weights, axis=1) + np.arange(period_weights.shape[0])[:, None]).ravel()


def draw_customers(cdf: np.ndarray, n_customers: int, periods: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Arriving customers (demand rows) of the given periods, from :func:`stacked_cdf`."""
    drawn = np.searchsorted(cdf, rng.random(periods.size) + periods, side="right")
    return np.minimum(drawn - periods * n_customers, n_customers - 1)



def build_market(world_config: WorldConfig, demand_source: str, demand_run: Path | None) -> PricingMarket:
    """The market of a world with the chosen demand source (cached per arguments, and per the state of the
    run folder's files, so that a run rewritten or corrupted since is read and checked again).

    A ``demand_run`` also supplies the LM embeddings of products and customers, with either source.
    """
    return _cached_market(world_config, demand_source, demand_run, _run_stamp(demand_run))


_HASHED_BYTES = 1 << 20
"""Run files up to this size are also hashed, so that a rewrite of the same size within the file system's
time resolution is noticed too."""


def _run_stamp(demand_run: Path | None) -> tuple:
    """The name, size and modification time (and, for small files, a hash) of every file of the run folder
    (empty when unreadable: the run's checks then name the problem)."""
    if demand_run is None:
        return ()
    try:
        files = sorted(path for path in Path(demand_run).iterdir() if path.is_file())
        return tuple(_file_stamp(path) for path in files)
    except (OSError, ValueError):
        return ()


def _file_stamp(path: Path) -> tuple:
    status = path.stat()
    digest = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest() if status.st_size <= _HASHED_BYTES \
        else None
    return path.name, status.st_size, status.st_mtime_ns, digest


@lru_cache(maxsize=4)
def _cached_market(world_config: WorldConfig, demand_source: str, demand_run: Path | None,
                   _stamp: tuple) -> PricingMarket:
    """:func:`build_market`, cached."""
    world = load_world(world_config)
    fitted, embeddings = (None, None) if demand_run is None else _load_fitted(Path(demand_run), world)
    if demand_source == "ground_truth":
        if world.ground_truth is None:
            raise ConfigError(f"the {world.name} world has no known ground truth; use demand_source='fitted' "
                              "with a `pricegym fit-demand` run")
        demand, price_ranges = world.ground_truth, _logged_price_ranges(world)
    else:
        demand, price_ranges = fitted, fitted.price_ranges
    weights = _customer_weights(world)
    weekday, season, holiday, competitor = _calendar(world)
    products = world.products["product_id"].to_numpy()
    cold = np.isin(products, list(world.splits.cold_start_products))
    return PricingMarket(
        demand=demand, customer_weights=weights, list_prices=world.products["list_price"].to_numpy(float),
        unit_costs=world.products["unit_cost"].to_numpy(float), price_ranges=np.asarray(price_ranges, float),
        train_products=np.flatnonzero(~cold), cold_start_products=np.flatnonzero(cold), weekday=weekday,
        season=season, holiday=holiday, competitor_prices=competitor,
        product_embeddings=np.zeros((products.size, 0)) if embeddings is None
        else embeddings.get("product_vectors", np.zeros((products.size, 0))),
        customer_embeddings=None if embeddings is None else embeddings.get("customer_vectors"), source=demand_source,
        product_texts=tuple(world.products["product_text"]), customer_texts=_customer_texts(world),
    )


def _customer_texts(world) -> tuple[str, ...]:
    """The text of every demand row: a customer's profile, or a customer type's description."""
    if world.response == "purchase_probability":
        return tuple(world.customers["customer_text"])
    from pricegym.encoders.demand_rows import CUSTOMER_TYPE_PROFILES

    return tuple(CUSTOMER_TYPE_PROFILES[name] for name in ("registered", "guest"))


def _load_fitted(run: Path, world) -> tuple[LinearPriceDemand, dict[str, np.ndarray] | None]:
    from pricegym.encoders.demand_tables import EMBEDDINGS_FILE, DemandTables

    tables = DemandTables.load(run)
    expected_products = tuple(world.products["product_id"])
    expected_rows = tuple(world.customers["customer_id"]) if world.response == "purchase_probability" \
        else ("registered", "guest")
    if tables.product_ids != expected_products or tables.customer_ids != expected_rows:
        same_sizes = " (same sizes, other ids)" if len(tables.product_ids) == len(expected_products) else ""
        raise DataError(run, f"was fitted on another world: its tables hold {len(tables.product_ids)} products and "
                             f"{len(tables.customer_ids)} customer rows, this {world.name} world "
                             f"{len(expected_products)} and {len(expected_rows)}"
                             f"{same_sizes}"
                             "; configure the world the run was fitted on (its model_card.json records it under "
                             "config.world), or run `pricegym fit-demand` on this world")
    embeddings = None
    if (run / EMBEDDINGS_FILE).is_file():
        with np.load(run / EMBEDDINGS_FILE) as stored:
            embeddings = {name: stored[name].astype(float) for name in ("product_vectors", "customer_vectors")
                          if name in stored.files}
        customers = embeddings.get("customer_vectors")
        if customers is not None and customers.shape[0] != len(expected_rows):
            embeddings.pop("customer_vectors")  # customer-type worlds embed customers, not demand rows
    return tables, embeddings


def _customer_weights(world) -> np.ndarray:
    if world.response == "purchase_probability":
        activity = world.customers["activity"].to_numpy(float)
        return activity / activity.sum()
    orders = world.panel.groupby("customer_type")["orders"].sum()
    weights = np.array([orders.get("registered", 0.0), orders.get("guest", 0.0)], dtype=float)
    return weights / weights.sum()


def _logged_price_ranges(world) -> np.ndarray:
    prices = world.transactions.groupby("product_id")["price"].agg(["min", "max"])
    return prices.reindex(world.products["product_id"]).to_numpy(float)


def _calendar(world) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    calendar = getattr(world, "calendar", None)
    if calendar is None:
        first, last = world.transactions["timestamp"].min(), world.transactions["timestamp"].max()
        calendar = build_calendar(f"{first:%Y-%m-%d}", (last - first).days + 1)
    competitor = getattr(world, "competitor_prices", None)
    if competitor is None:
        competitor = np.full((len(calendar.dates), len(world.products)), np.nan)
    return calendar.weekday, calendar.season, calendar.holiday, competitor
