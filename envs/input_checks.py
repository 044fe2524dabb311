"""What the environments refuse besides actions (checked by :class:`~pricegym.envs.price_actions.PriceActions`).

One function per kind of mistake, shared by Markdown-v0, PersonalizedDiscount-v0 and Competition-v0:

* **at construction** (``gym.make``), a :class:`~pricegym.errors.ConfigError`: a ``render_mode``
  the environment does not offer, a product pool smaller than the products an episode needs, a
  ``price_range`` that leaves no price inside the range a fitted demand model saw (checked for
  every product of the pool, so that no reset can fail later), precomputed observations or
  shoppers' weights that would not fit in memory (:data:`MAX_PRECOMPUTED_BYTES`);
* **at reset**, a :class:`~pricegym.errors.ConfigError` for a bad ``seed`` (None, or an integer in
  ``[0, 2**32 - 1]``, numpy integers included) or bad ``options``: the only option is
  ``products``, a list (or tuple, or 1-D integer array) of exactly the episode's number of
  distinct product indices, each from the configured product pool;
* **at step**, an :class:`~pricegym.errors.EnvStateError` before the first ``reset()`` and after
  the episode ended (``terminated``): call ``reset()``;
* **for oracles, bounds and rule-based policies** (:func:`episode_of`, :func:`checked_grid_size`): an
  :class:`~pricegym.errors.EnvStateError` before the first ``reset()``, a
  :class:`~pricegym.errors.ConfigError` for another environment or a ``grid_size`` outside
  ``[2, 1001]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from pricegym.config_checks import LARGEST_SEED
from pricegym.envs.price_actions import describe, is_integer
from pricegym.errors import ConfigError, EnvStateError

if TYPE_CHECKING:
    from pricegym.envs.market import PricingMarket

RESET_OPTIONS = ("products",)
"""The options ``reset(options=...)`` understands."""

NOT_STARTED, RUNNING, ENDED = "not started", "running", "ended"
"""An episode's states: the environment's ``_episode`` is one of these (compared by identity)."""

MAX_PRECOMPUTED_BYTES = 2**30
"""Memory an environment may spend on one table it precomputes at construction or reset (1 GiB): its
observations for every period of the seasons drawn together, or its shoppers' arrival weights per period."""


# -- construction --------------------------------------------------------------------------------

def check_render_mode(env_name: str, render_mode: str | None, render_modes: list[str]) -> None:
    """``render_mode`` must be None or one the environment offers."""
    if render_mode is not None and render_mode not in render_modes:
        raise ConfigError(f"{env_name}: unknown render_mode {render_mode!r}; choose one of {render_modes} or None")


def checked_product_pool(env_name: str, market: PricingMarket, pool_name: str, n_products: int,
                         configurable: bool = True) -> np.ndarray:
    """The products of the pool ``pool_name``, which must hold the ``n_products`` an episode sells
    (``configurable``: set by the config's ``n_products``, rather than fixed by the environment). Under a fitted
    demand model the pool keeps only the products the model saw at two prices or more: it is not trusted outside
    the prices it was fitted on, so a product logged at one price has no range to price in (on the online-retail
    world, about one product in seven)."""
    pool = market.product_pool(pool_name)
    if market.source == "fitted":
        low, high = market.price_ranges[pool, 0], market.price_ranges[pool, 1]
        pool = pool[np.isfinite(low) & np.isfinite(high) & (high > low)]
    if pool.size < n_products:
        other = "cold_start" if pool_name == "train" else "train"
        needs = f"n_products={n_products}" if configurable else f"an episode sells {n_products} product(s)"
        lower = "lower n_products, " if configurable else ""
        raise ConfigError(f"{env_name}: {needs} but the product_pool={pool_name!r} of this world holds "
                          f"{pool.size} product(s); {lower}choose product_pool={other!r} or a world with more products")
    return pool


def check_price_ranges(env_name: str, market: PricingMarket, pool: np.ndarray,
                       price_range: tuple[float, float] | None) -> None:
    """Every product of the pool must keep some price inside its allowed range (an unknown, NaN, range
    keeps none), so that no episode can meet an empty range."""
    low, high = market.allowed_price_ranges(pool, price_range)
    empty = pool[~(high > low)]
    if empty.size:
        product = int(empty[0])
        seen = market.price_ranges[product]
        raise ConfigError(f"{env_name}: price_range={price_range} leaves no price inside the range the demand "
                          f"source saw for {empty.size} of the {pool.size} products of the pool (e.g. product "
                          f"{product}: list price {market.list_prices[product]:.4g}, prices seen "
                          f"{seen[0]:.4g}..{seen[1]:.4g}); {_price_range_fix(market, price_range, seen)}")


def _price_range_fix(market: PricingMarket, price_range: tuple[float, float] | None, seen: np.ndarray) -> str:
    """How to get a non-empty price range, given why this one is empty."""
    if market.source == "fitted":
        if not np.isfinite(seen).all():
            return "the fitted model saw no price of it: choose the other product_pool or refit on more data"
        return "widen price_range or set it to None"
    if price_range is None:
        return ("the world's log holds no two prices of it: pass price_range=(low, high) as multiples of the list "
                "price, or log more exposures (n_exposures)")
    return "widen price_range"


def check_precomputed(env_name: str, what: str, rows: int, width: int, itemsize: int, knobs: str) -> None:
    """A table of ``rows`` x ``width`` values of ``itemsize`` bytes must fit in :data:`MAX_PRECOMPUTED_BYTES`;
    ``knobs`` names the options that make it big."""
    size = rows * width * itemsize
    if size > MAX_PRECOMPUTED_BYTES:
        raise ConfigError(f"{env_name}: the {what} would take {rows:,} rows x {width:,} values = "
                          f"{size / 2**30:.1f} GiB, more than the {MAX_PRECOMPUTED_BYTES / 2**30:.0f} GiB that fit "
                          f"in memory; lower {knobs}")


def check_observation_table(env_name: str, rows: int, width: int, knobs: str) -> None:
    """The ``rows`` precomputed float32 observations of ``width`` values must fit in memory."""
    check_precomputed(env_name, "precomputed observations", rows, width, 4, knobs)


def check_shopper_table(env_name: str, horizon: int, customers: int) -> None:
    """The arrival weights of every customer (demand row) in every period must fit in memory."""
    check_precomputed(env_name, "shoppers' arrival weights per period", horizon, customers, 8,
                      "horizon, or use a world with fewer customers")


# -- reset ---------------------------------------------------------------------------------------

def checked_seed(env_name: str, seed: Any) -> int | None:
    """The seed of ``reset(seed=...)`` as a Python int, or None; raises ConfigError for anything but None or
    an integer (numpy integers included, bools not) in ``[0, 2**32 - 1]``."""
    if seed is None:
        return None
    if is_integer(seed) and 0 <= int(seed) <= LARGEST_SEED:
        return int(seed)
    raise ConfigError(f"{env_name}: reset seed must be None or an integer in [0, {LARGEST_SEED:_}]; got "
                      f"{describe(seed)}; pass e.g. reset(seed=0), or seed=None for fresh randomness")


def checked_reset_products(env_name: str, options: Any, pool: np.ndarray, pool_name: str,
                           n_products: int) -> np.ndarray | None:
    """The products asked for by ``reset(options={"products": [...]})`` as an int64 array of shape
    ``(n_products,)``, in the order given; None when no products are asked for (drawn at random).

    Raises ConfigError for options that are not a dict, unknown option names, and products that are
    not ``n_products`` distinct integer indices of the product pool.
    """
    if options is None:
        return None
    if not isinstance(options, Mapping):
        raise ConfigError(f"{env_name}: reset options must be a dict such as {{'products': [...]}} or None; "
                          f"got {describe(options)}")
    unknown = sorted(str(name) for name in options if name not in RESET_OPTIONS)
    if unknown:
        raise ConfigError(f"{env_name}: unknown reset option(s) {unknown}; valid options are {list(RESET_OPTIONS)}")
    if "products" not in options:
        return None
    received = options["products"]
    expected = (f"reset option 'products' must be a list of {n_products} distinct product index(es) of the "
                f"{pool_name!r} product pool ({pool.size} products from {int(pool.min(initial=0))} to "
                f"{int(pool.max(initial=0))}; env.unwrapped.market.product_pool({pool_name!r}) lists them; omit "
                f"the option to draw products at random)")
    products = _integer_list(received)
    if products is None or len(products) != n_products:
        raise ConfigError(f"{env_name}: {expected}; got {describe(received)}")
    in_pool = set(pool.tolist())
    outside = [product for product in products if product not in in_pool]
    if outside:
        raise ConfigError(f"{env_name}: {expected}; got {products}, of which {outside} are not in the pool")
    if len(set(products)) < len(products):
        repeated = sorted({product for product in products if products.count(product) > 1})
        raise ConfigError(f"{env_name}: {expected}; got {products}, which repeats {repeated}")
    return np.array(products, dtype=np.int64)


def _integer_list(value: Any) -> list[int] | None:
    """``value`` as a list of Python ints if it is a list, tuple or 1-D integer array of ints (no bools)."""
    if isinstance(value, np.ndarray):
        return value.tolist() if value.ndim == 1 and value.dtype.kind in "iu" else None
    if isinstance(value, list | tuple) and all(is_integer(item) for item in value):
        return [int(item) for item in value]
    return None


# -- oracles, bounds and rule-based policies -----------------------------------------------------

GRID_SIZES = (2, 1_001)
"""The price grids an oracle or a rule may search (as ladder sizes)."""


def episode_of(env: Any, env_class: type, env_name: str, caller: str) -> Any:
    """The unwrapped ``env_class`` environment of ``env`` (as ``gym.make`` returns it, or itself) whose episode
    has started: oracles, bounds and model-based rules read that episode's products and draws.

    Raises ConfigError for another environment, EnvStateError before the first ``reset()``.
    """
    unwrapped = getattr(env, "unwrapped", env)
    if not isinstance(unwrapped, env_class):
        raise ConfigError(f"{env_name}: {caller} computes for {env_name} environments; got "
                          f"{type(unwrapped).__name__}; pass an environment made with gym.make('pricegym/{env_name}')")
    if getattr(unwrapped, "_episode", NOT_STARTED) is NOT_STARTED:
        raise out_of_order(env_name, caller, NOT_STARTED)
    return unwrapped


def checked_grid_size(env_name: str, grid_size: Any) -> int:
    """``grid_size``, the prices an oracle or rule searches between a box action's bounds, as a Python int."""
    low, high = GRID_SIZES
    if is_integer(grid_size) and low <= int(grid_size) <= high:
        return int(grid_size)
    raise ConfigError(f"{env_name}: grid_size must be an integer in [{low}, {high:_}] (like ladder_size); got "
                      f"{describe(grid_size)}")


def out_of_order(env_name: str, call: str, episode: str) -> EnvStateError:
    """The error of ``call`` (``"step()"``, or ``"render()"`` before any reset) made while the episode is not
    running (``episode`` is :data:`NOT_STARTED` or :data:`ENDED`)."""
    if episode is NOT_STARTED:
        return EnvStateError(f"{env_name}: {call} called before reset(); call reset() first to start an episode")
    return EnvStateError(f"{env_name}: {call} called after the episode ended (terminated=True); call reset() "
                         "to start a new episode")
