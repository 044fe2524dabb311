"""The best possible score of a Markdown-v0 season, and exact values of simple policies.

In a period, each arriving customer buys a product with probability ``q_t(p)`` (the population's
mean purchase probability in that day's market), independently, so the number of would-be buyers
is Poisson with mean ``m_t(p) = arrival_rate * q_t(p)`` (thinning of the Poisson arrivals). With
reference prices fixed at the list price, products share no constraint and their demands do not
interact, so the optimum is a dynamic program per product over (inventory left, periods left):

    V_T(x) = salvage * x
    V_t(x) = max_p  E[ u(p) min(S, x) - h (x - min(S, x)) + V_{t+1}(x - min(S, x)) ],  S ~ Poisson(m_t(p))

with ``u(p)`` the revenue (or margin) per unit and ``h`` the holding cost. This is **optimal**
over the price grid. When reference prices move, the state would need them too; we then report
the **fluid upper bound** instead: the deterministic relaxation ``max sum_t u(p_t) m_t(p_t)`` subject
to ``sum_t m_t(p_t) <= inventory``, solved through its Lagrangian dual, with every customer's
reference price set to its most favourable reachable value (the highest price ever allowed), so
no policy can beat it. It is reported as ``upper_bound``, never as optimal.

The same recursion evaluates any policy of (period, inventory) exactly: the best fixed price, the
myopic "predict demand, pick the best price" rule, the list price, and uniformly random prices.

Every entry point takes the environment as ``gym.make`` returns it (or unwrapped) after ``reset()``
(before it: :class:`~pricegym.errors.EnvStateError`), and refuses with a
:class:`~pricegym.errors.ConfigError`, before computing anything, a ``grid_size`` outside ``[2, 1001]``
or a season that would take more than about a minute (:func:`check_season_cost`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import expit
from scipy.stats import poisson

from pricegym.envs.config import ENV_NAME, MarkdownConfig
from pricegym.envs.customer_stream import appeal_over_season
from pricegym.envs.input_checks import checked_grid_size, episode_of
from pricegym.envs.markdown import MarkdownEnv
from pricegym.envs.market import PricingMarket
from pricegym.errors import ConfigError

MAX_EXACT_INVENTORY = 2_000
"""The exact dynamic program costs ``horizon x inventory**2 x grid`` operations per product: beyond this
many units it would run for hours, so it is refused (the fluid upper bound has no such limit)."""

MAX_EXACT_OPERATIONS = 5 * 10**10
"""The work the exact recursion may do in one call (about half a minute): each policy evaluated costs, per
product, ``horizon x inventory x (grid x inventory + 10,000)`` (the last term: the Python loop over stock
levels). A season beyond it (a long horizon with a large stock or price ladder, or many products) is refused
with a :class:`ConfigError` rather than left to run for hours."""

_CHUNK_VALUES = 2**22
"""Values of the ``[periods, customers, prices]`` table of :func:`mean_buyers` computed at a time (32 MB)."""

PriceChoice = Callable[[int, np.ndarray], np.ndarray | None]
"""(period, Q[g, x]) -> the grid index chosen at every inventory level x, or None for uniformly random."""


@dataclass(frozen=True)
class ProductSeason:
    """One product's season on a price grid.

    Attributes:
        price_grid: ``[G]`` the prices a policy may choose (ladder rungs, or a fine grid).
        buyers: ``[T, G]`` mean would-be buyers per period at each grid price.
        unit_value: ``[G]`` reward per unit sold (price, or price - unit cost).
        inventory: starting units.
        holding_cost: per unit left at a period's end.
        salvage: per unit left at the season's end.
    """

    price_grid: np.ndarray
    buyers: np.ndarray
    unit_value: np.ndarray
    inventory: int
    holding_cost: float
    salvage: float


@dataclass(frozen=True)
class OracleResult:
    """The best possible expected return of a season, or an upper bound on it."""

    kind: str  # "optimal" or "upper_bound"
    method: str
    value: float
    policy: list[np.ndarray] | None  # per product, [T, inventory + 1] grid index of the optimal price


def season_problems(env, grid_size: int = 101, favourable_reference: bool = False) -> list[ProductSeason]:
    """The current episode's problem per product (call after ``env.reset``).

    The grid is the ladder for ladder actions, else ``grid_size`` evenly spaced prices of the range. A
    season too large to compute in about a minute raises ConfigError (:func:`check_season_cost`).
    """
    env = episode_of(env, MarkdownEnv, ENV_NAME, "season_problems()")
    grid_size = checked_grid_size(ENV_NAME, grid_size)
    check_season_cost(env, grid_size, evaluations=0)
    actions = env.price_actions
    return [product_season(env.market, env.config, int(product), actions.low[k], actions.high[k],
                           int(env.initial_inventory[k]), grid_size, favourable_reference)
            for k, product in enumerate(env.products)]


def product_season(market: PricingMarket, config: MarkdownConfig, product: int, low: float, high: float,
                   inventory: int, grid_size: int = 101, favourable_reference: bool = False) -> ProductSeason:
    """One product's problem in a season of ``config`` (no environment needed): catalogue index ``product``,
    price range ``[low, high]`` and ``inventory`` starting units; reference prices at the list price, or at
    their most favourable reachable value (the highest of the list price and ``high``). The grid is the
    ladder for ladder actions, else ``grid_size`` evenly spaced prices of the range (:func:`price_grid`).
    Checks no cost: the callers do (:func:`check_planning_cost`, :func:`check_exact_cost`)."""
    size = config.ladder_size if config.action_space == "ladder" else grid_size
    grid = price_grid(low, high, size)
    list_price, unit_cost = market.list_prices[product], float(market.unit_costs[product])
    reference = max(list_price, high) if favourable_reference else list_price
    buyers = mean_buyers(market, product, grid, config.season_start_day, config.horizon, config.arrival_rate,
                         reference, config.appeal_decay, config.shopper_mix_shift)
    unit_value = grid - market.unit_costs[product] if config.reward == "margin" else grid.copy()
    return ProductSeason(grid, buyers, unit_value, int(inventory), config.holding_cost,
                         config.salvage_share * unit_cost)


def price_grid(low: float, high: float, size: int) -> np.ndarray:
    """``[size]`` evenly spaced prices from ``low`` to ``high`` (a ladder's rungs, or an oracle's fine grid)."""
    return low + np.linspace(0.0, 1.0, size) * (high - low)


def mean_buyers(market: PricingMarket, product: int, prices: np.ndarray, first_day: int, horizon: int,
                arrival_rate: float, reference_price: float, appeal_decay: float,
                shopper_mix_shift: float) -> np.ndarray:
    """``[T, G]`` arrival rate x the population's mean purchase probability at each price and day (computed a
    few periods at a time, so memory stays bounded for long seasons, many customers and fine grids)."""
    weights = market.shopper_weights(horizon, shopper_mix_shift)
    appeal = appeal_over_season(horizon, appeal_decay)
    step = max(1, _CHUNK_VALUES // (market.customer_weights.size * max(prices.size, 1)))
    return arrival_rate * np.concatenate([
        _mean_purchase(market, product, prices, first_day, periods, reference_price, appeal, weights)
        for periods in (np.arange(start, min(start + step, horizon)) for start in range(0, horizon, step))])


def _mean_purchase(market: PricingMarket, product: int, prices: np.ndarray, first_day: int, periods: np.ndarray,
                   reference_price: float, appeal: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``[len(periods), G]`` the population's mean purchase probability in ``periods`` at each price."""
    days = (first_day + periods)[:, None]
    customers = np.arange(market.customer_weights.size)[None, :]
    intercept, slope = market.demand.intercept_and_slope(customers, np.asarray(product), market.context(days, product))
    intercept = intercept + appeal[periods][:, None]
    list_price = market.list_prices[product]
    effect = market.reference_effect
    gap = (reference_price - prices) / list_price
    reference_term = effect.gain * np.maximum(gap, 0.0) - effect.loss * np.maximum(-gap, 0.0)
    index = (intercept[:, :, None] - np.broadcast_to(slope, intercept.shape)[:, :, None]
             * (prices / list_price - 1.0)[None, None, :] + reference_term[None, None, :])
    return np.einsum("tcg,tc->tg", expit(index), weights[periods])


def action_values(problem: ProductSeason, period: int, next_value: np.ndarray) -> np.ndarray:
    """``Q[g, x]``: expected reward this period plus value later, for every grid price and stock x.

    ``next_value``: ``[inventory + 1]`` the value later of every stock, whatever the price, or
    ``[G, inventory + 1]`` one row per grid price (what keeping that price for good earns later).
    """
    inventory = problem.inventory
    pmf = poisson.pmf(np.arange(inventory)[None, :], problem.buyers[period][:, None])  # [G, k < inventory]
    values = np.zeros((pmf.shape[0], inventory + 1))
    values[:, 0] = next_value[..., 0]
    for stock in range(1, inventory + 1):
        probability = pmf[:, :stock]  # sell k < stock units
        sold = np.arange(stock)
        sells_out = 1.0 - probability.sum(axis=1)
        expected_sold = probability @ sold + sells_out * stock
        later = next_value[..., stock - sold]
        continuation = (probability @ later if later.ndim == 1 else np.einsum("gk,gk->g", probability, later)) \
            + sells_out * next_value[..., 0]
        holding = problem.holding_cost * (stock - expected_sold)
        values[:, stock] = problem.unit_value * expected_sold - holding + continuation
    return values


MAX_BUYER_VALUES = 2 * 10**9
"""Purchase probabilities (periods x customers x grid prices x products) the oracle may compute for the mean
buyers of a season (about 20 seconds); beyond it the oracle refuses with a :class:`ConfigError`."""


def check_season_cost(env, grid_size: int = 101, evaluations: int = 1) -> None:
    """Refuse, before any computation, a season of ``env`` (after ``reset``) whose mean buyers or whose
    ``evaluations`` exact policy evaluations would take more than about a minute."""
    env = episode_of(env, MarkdownEnv, ENV_NAME, "the oracle")
    grid_size = checked_grid_size(ENV_NAME, grid_size)
    check_planning_cost(env.config, env.market.customer_weights.size, env.initial_inventory, grid_size, evaluations)


def check_planning_cost(config: MarkdownConfig, n_customers: int, inventories: np.ndarray, grid_size: int = 101,
                        evaluations: int = 1) -> None:
    """:func:`check_season_cost` without an environment: a season of ``config`` in a market of ``n_customers``
    demand rows, whose products start with ``inventories`` units (read only when ``evaluations`` > 0; the
    mean buyers are counted for ``config.n_products`` products)."""
    grid = config.ladder_size if config.action_space == "ladder" else grid_size
    values = config.horizon * n_customers * grid * config.n_products
    if values > MAX_BUYER_VALUES:
        raise ConfigError(f"Markdown-v0: the oracle would compute {values:.2g} purchase probabilities (horizon x "
                          f"customers x price grid x products), more than the {MAX_BUYER_VALUES:.0e} that finish in "
                          "about a minute; lower horizon, n_products, or ladder_size (or grid_size), or use a world "
                          "with fewer customers")
    if evaluations:
        _check_work([(config.horizon, int(units), grid) for units in inventories], evaluations)


def check_exact_cost(problems: list[ProductSeason], evaluations: int = 1) -> None:
    """Refuse, with a :class:`ConfigError`, seasons whose exact recursion would run for hours: more than
    :data:`MAX_EXACT_INVENTORY` units of a product, or more than :data:`MAX_EXACT_OPERATIONS` of work for
    ``evaluations`` policies of every product."""
    _check_work([(problem.buyers.shape[0], problem.inventory, problem.price_grid.size) for problem in problems],
                evaluations)


def _check_work(seasons: list[tuple[int, int, int]], evaluations: int) -> None:
    """``seasons``: (horizon, units, grid prices) per product."""
    for _, units, _ in seasons:
        if units > MAX_EXACT_INVENTORY:
            raise ConfigError(f"Markdown-v0: the exact oracle supports at most {MAX_EXACT_INVENTORY:,} units per "
                              f"product; this season starts with {units:,}; lower initial_inventory or "
                              "stock_cover, or use the fluid upper bound (reference_dynamics=True)")
    work = evaluations * sum(horizon * units * (grid * units + 10_000) for horizon, units, grid in seasons)
    if work > MAX_EXACT_OPERATIONS:
        raise ConfigError(f"Markdown-v0: the exact oracle would take {work:.2g} operations ({evaluations} polic"
                          f"{'y' if evaluations == 1 else 'ies'} x {len(seasons)} product(s) x horizon x units x "
                          f"(price grid x units)), more than the {MAX_EXACT_OPERATIONS:.0e} that finish in about a "
                          "minute; lower horizon, initial_inventory or stock_cover, n_products, or ladder_size "
                          "(or grid_size), or use the fluid upper bound (reference_dynamics=True)")


def evaluate(problem: ProductSeason, choose: PriceChoice | None = None) -> tuple[float, np.ndarray]:
    """Expected return of a policy from full stock, and its choices ``[T, inventory + 1]``.

    ``choose=None`` maximises (the dynamic program); a choice of ``None`` means uniformly random prices.
    Raises ConfigError for a season too large to solve exactly (:func:`check_exact_cost`).
    """
    check_exact_cost([problem])
    horizon, stock_levels = problem.buyers.shape[0], np.arange(problem.inventory + 1)
    value = problem.salvage * stock_levels
    choices = np.zeros((horizon, problem.inventory + 1), dtype=np.int64)
    for period in reversed(range(horizon)):
        q = action_values(problem, period, value)
        chosen = np.argmax(q, axis=0) if choose is None else choose(period, q)
        if chosen is None:
            value = q.mean(axis=0)
        else:
            choices[period], value = chosen, q[chosen, stock_levels]
    return float(value[problem.inventory]), choices


def solve_dynamic_program(problems: list[ProductSeason]) -> OracleResult:
    """The optimal expected return and policy (one dynamic program per product, summed)."""
    check_exact_cost(problems)
    solutions = [evaluate(problem) for problem in problems]
    return OracleResult("optimal", "dynamic program over (inventory, periods left), one per product",
                        sum(value for value, _ in solutions), [policy for _, policy in solutions])


def fixed_price_values(problem: ProductSeason) -> np.ndarray:
    """``[G]`` exact expected return of each constant grid price (the recursion of every price at once)."""
    check_exact_cost([problem], problem.price_grid.size)
    value = np.tile(problem.salvage * np.arange(problem.inventory + 1), (problem.price_grid.size, 1))
    for period in reversed(range(problem.buyers.shape[0])):
        value = action_values(problem, period, value)
    return value[:, problem.inventory]


def myopic_choice(problem: ProductSeason) -> PriceChoice:
    """The myopic rule: each period, the price with the best expected reward *this* period, given stock."""
    no_future = np.zeros(problem.inventory + 1)
    return lambda period, _q: np.argmax(action_values(problem, period, no_future), axis=0)


def fluid_upper_bound(problems: list[ProductSeason]) -> OracleResult:
    """The deterministic (fluid) relaxation's value, by its Lagrangian dual, per product, summed."""
    total = 0.0
    for problem in problems:
        margin_over_salvage = problem.unit_value - problem.salvage

        def dual(multiplier: float, problem=problem, margin=margin_over_salvage) -> float:
            per_period = ((margin - multiplier)[None, :] * problem.buyers).max(axis=1)
            return float(multiplier * problem.inventory + np.maximum(per_period, 0.0).sum())

        best = minimize_scalar(dual, bounds=(0.0, float(np.max(margin_over_salvage)) + 1.0), method="bounded",
                               options={"xatol": 1e-9})
        total += min(best.fun, dual(0.0)) + problem.salvage * problem.inventory
    return OracleResult("upper_bound", "fluid relaxation (Lagrangian dual) with the most favourable reference "
                        "prices", float(total), None)


def markdown_oracle(env, grid_size: int = 101) -> OracleResult:
    """The oracle of the current episode: the exact DP with fixed reference prices, else the fluid bound."""
    env = episode_of(env, MarkdownEnv, ENV_NAME, "markdown_oracle()")
    if env.config.reference_dynamics:
        return fluid_upper_bound(season_problems(env, grid_size, favourable_reference=True))
    check_season_cost(env, grid_size)
    return solve_dynamic_program(season_problems(env, grid_size))


def baseline_values(env, grid_size: int = 101) -> dict[str, float]:
    """Exact expected returns of the oracle and the simple policies for the current episode
    (fixed reference prices only)."""
    env = episode_of(env, MarkdownEnv, ENV_NAME, "baseline_values()")
    grid_size = checked_grid_size(ENV_NAME, grid_size)
    grid = env.config.ladder_size if env.config.action_space == "ladder" else grid_size
    check_season_cost(env, grid_size, evaluations=grid + 5)  # every fixed price, 4 others, the myopic rule twice
    problems = season_problems(env, grid_size)
    list_rung = [int(np.argmin(np.abs(p.price_grid - price))) for p, price in zip(problems, env.list_prices,
                                                                                 strict=True)]
    return {
        "oracle": solve_dynamic_program(problems).value,
        "best fixed price": sum(fixed_price_values(problem).max() for problem in problems),
        "myopic": sum(evaluate(problem, myopic_choice(problem))[0] for problem in problems),
        "list price": sum(evaluate(problem, lambda _t, q, g=g: np.full(q.shape[1], g))[0]
                          for problem, g in zip(problems, list_rung, strict=True)),
        "random": sum(evaluate(problem, lambda _t, _q: None)[0] for problem in problems),
    }
