"""The best response to Competition-v0's rivals, and exact values of simple policies.

Rivals' prices in period ``t`` are a known function of the agent's previous price and of the
random rivals' levels (drawn independently each period, uniformly, and seen before the agent
prices). Customers choose independently by a multinomial logit, so the agent's expected sales in
a period depend only on its price, the rivals' prices and the day's mix of customers. The state
is therefore small, (period, the agent's previous price), and the best response is an exact
dynamic program on a price grid (the ladder, or ``grid_size`` prices of the box's range)::

    V_T(q) = 0
    V_t(q) = E_levels [ max_p  u(p) m_t(p, rivals(q, levels)) + V_{t+1}(p) ]

with ``m_t`` the mean buyers from the agent and ``u`` the revenue (or margin) per unit. On a
ladder it is the **optimum** over all policies (which see the rivals' current prices), hence an
upper bound for every baseline; it is reported as ``upper_bound``. With box actions it is optimal
on its grid of prices: a policy free to pick any price in between could exceed it by the grid's
resolution. The same recursion evaluates any
policy of (period, previous price, levels) exactly.

Every entry point takes the environment as ``gym.make`` returns it (or unwrapped) after ``reset()``
(before it: :class:`~pricegym.errors.EnvStateError`), and refuses with a
:class:`~pricegym.errors.ConfigError`, before computing anything, a ``grid_size`` outside ``[2, 1001]``
or a season that would exhaust memory or take more than about a minute (:func:`check_best_response_cost`).
Planning needs no environment: :func:`season_problem` takes a :class:`CompetitionModel` (market and
config, shared by all seasons) and a season's :class:`SeasonTerms` (product and prices), which is how the
batched rules (:mod:`pricegym.agents.batched_competition_rules`) plan once per product.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pricegym.envs.competition import CompetitionEnv
from pricegym.envs.competition_config import ENV_NAME, CompetitionConfig
from pricegym.envs.customer_stream import appeal_over_season
from pricegym.envs.input_checks import checked_grid_size, episode_of
from pricegym.envs.market import PricingMarket
from pricegym.envs.oracle import OracleResult
from pricegym.envs.rivals import RivalRules, choice_probabilities, price_utility
from pricegym.errors import ConfigError
from pricegym.worlds.demand import ReferencePriceEffect

GridChoice = Callable[[int, np.ndarray], np.ndarray | None]
"""(period, Q[previous, levels, g]) -> the chosen grid index ``[previous, levels]``, or None for uniformly random."""


@dataclass(frozen=True)
class CompetitionSeason:
    """One season's pricing problem on a grid.

    Attributes:
        price_grid: ``[G]`` the agent's candidate prices.
        start_price: the agent's "previous" price before the first period (state index ``G``).
        rival_prices: ``[G + 1, S, R]`` the rivals' prices after each previous price and joint level.
        reward: ``[T, G + 1, S, G]`` the agent's expected reward per period, state and price.
    """

    price_grid: np.ndarray
    start_price: float
    rival_prices: np.ndarray
    reward: np.ndarray

    @property
    def start_state(self) -> int:
        return self.price_grid.size


@dataclass(frozen=True)
class CompetitionModel:
    """What the plans of every season share: the market and the config (no episode needed).

    Attributes:
        market: the environment's market (its demand source, ground truth or fitted tables, and calendar).
        config: the environment's config (rivals, horizon, arrivals, action space...).
        period_weights: ``[T, C]`` each period's arrival weights of the customers (demand rows).
    """

    market: PricingMarket
    config: CompetitionConfig
    period_weights: np.ndarray

    @classmethod
    def of(cls, env: CompetitionEnv) -> CompetitionModel:
        """The model of an environment (``gym.make``'s or unwrapped); no reset needed."""
        env = env.unwrapped
        return cls(env.market, env.config, env.period_weights)

    @property
    def n_customers(self) -> int:
        return int(self.market.customer_weights.size)

    def utilities(self, product: int) -> tuple[np.ndarray, np.ndarray]:
        """``[T, C]`` every customer's utility of ``product`` at its list price by period (with the season's
        appeal) and their ``[C]`` price sensitivity."""
        config, market = self.config, self.market
        days = (config.season_start_day + np.arange(config.horizon))[:, None]
        customers = np.arange(self.n_customers)[None, :]
        intercept, slope = market.demand.intercept_and_slope(customers, np.asarray(product),
                                                             market.context(days, product))
        shape = (config.horizon, customers.size)
        intercept = np.broadcast_to(intercept, shape) + appeal_over_season(config.horizon, config.appeal_decay)[:, None]
        return intercept, np.broadcast_to(slope, shape)[0]

    def rival_rules(self, terms: SeasonTerms) -> RivalRules:
        """The rivals of a season of ``terms``."""
        config = self.config
        return RivalRules.build(config.rivals, config.undercut_share, config.rival_fixed_price * terms.list_price,
                                config.random_levels, terms.low, terms.high)


@dataclass(frozen=True)
class SeasonTerms:
    """What a season's plan depends on beyond the :class:`CompetitionModel`: its product and prices.

    Attributes:
        product: the catalogue index; ``list_price``, ``unit_cost`` (0 for a revenue reward), ``low`` and
            ``high`` (the price range) and ``start_price`` (the agent's "previous" price before the first
            period): the environment's.
    """

    product: int
    list_price: float
    unit_cost: float
    low: float
    high: float
    start_price: float

    @classmethod
    def of(cls, env: CompetitionEnv) -> SeasonTerms:
        """The terms of the environment's current season (after ``reset``)."""
        return cls(int(env.product), env.list_price, env.unit_cost, float(env.price_actions.low[0]),
                   float(env.price_actions.high[0]), env.start_price)


def season_grid(config: CompetitionConfig, low: float, high: float, grid_size: int = 41) -> np.ndarray:
    """The ladder's prices of the range ``[low, high]``, or ``grid_size`` evenly spaced prices of it."""
    if config.action_space == "ladder":
        return low + np.linspace(0.0, 1.0, config.ladder_size) * (high - low)  # PriceActions.ladder's arithmetic
    return np.linspace(low, high, checked_grid_size(ENV_NAME, grid_size))


def price_grid(env, grid_size: int = 41) -> np.ndarray:
    """The ladder's prices, or ``grid_size`` evenly spaced prices of the range."""
    env = episode_of(env, CompetitionEnv, ENV_NAME, "price_grid()")
    grid_size = checked_grid_size(ENV_NAME, grid_size)
    return season_grid(env.config, env.price_actions.low[0], env.price_actions.high[0], grid_size)


def period_utilities(env) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``[T, C]`` utility at list price of every customer (demand row) by period, their ``[C]`` price
    sensitivity, and ``[T, C]`` the period's arrival weights."""
    env = episode_of(env, CompetitionEnv, ENV_NAME, "period_utilities()")
    return *CompetitionModel.of(env).utilities(env.product), env.period_weights


MAX_JOINT_LEVELS = 256
"""Joint levels of the random rivals the dynamic program averages over, at most (``levels ** n_random``)."""

MAX_BEST_RESPONSE_OPERATIONS = 5 * 10**9
"""The work the best response (and the exact values of simple policies) may do (about half a minute):
``horizon x joint levels x (grid + 1) x grid x (customers + policies evaluated)``. A season beyond it is
refused with a :class:`ConfigError` rather than left to run for hours."""
MAX_BEST_RESPONSE_VALUES = 2**27
"""Values of the ``[horizon, grid + 1, joint levels, grid]`` reward table, at most (1 GiB)."""
_CHUNK_VALUES = 2**22
"""Values of the ``[customers, grid + 1, grid]`` choice shares computed at a time (32 MB)."""


def check_best_response_cost(env, grid_size: int = 41, evaluations: int = 1) -> None:
    """Refuse, with a :class:`ConfigError` and before any computation, a season of ``env`` whose best
    response and ``evaluations`` policy evaluations would not fit in memory or would run for hours."""
    env = episode_of(env, CompetitionEnv, ENV_NAME, "the best response")
    check_season_cost(env.config, env.market.customer_weights.size, grid_size, evaluations)


def check_season_cost(config: CompetitionConfig, n_customers: int, grid_size: int = 41, evaluations: int = 1) -> None:
    """:func:`check_best_response_cost` for any season of ``config`` with ``n_customers`` demand rows."""
    grid_size = checked_grid_size(ENV_NAME, grid_size)
    n_random = sum(name == "random" for name in config.rivals)
    joint = config.random_levels ** n_random
    if joint > MAX_JOINT_LEVELS:
        raise ConfigError(f"{ENV_NAME}: the best response averages over random_levels ** (random rivals) = "
                          f"{config.random_levels} ** {n_random} = {joint:.3g} joint levels; at most "
                          f"{MAX_JOINT_LEVELS} are supported: lower random_levels or the number of random rivals")
    grid = config.ladder_size if config.action_space == "ladder" else grid_size
    table = config.horizon * (grid + 1) * joint * grid
    work = table * (n_customers + evaluations)
    if table > MAX_BEST_RESPONSE_VALUES or work > MAX_BEST_RESPONSE_OPERATIONS:
        raise ConfigError(f"{ENV_NAME}: the best response would need a reward table of {table:.3g} values (horizon x "
                          f"(grid + 1) x joint levels x grid) and {work:.3g} operations (x (customers + "
                          f"{evaluations} policies)); at most {MAX_BEST_RESPONSE_VALUES:.3g} and "
                          f"{MAX_BEST_RESPONSE_OPERATIONS:.0e} finish in about a minute: lower horizon, ladder_size "
                          "(or grid_size), random_levels or the random rivals, or use a world with fewer customers")


def competition_season(env, grid_size: int = 41) -> CompetitionSeason:
    """The current episode's problem (call after ``env.reset``): :func:`season_problem` of its season."""
    env = episode_of(env, CompetitionEnv, ENV_NAME, "competition_season()")
    check_best_response_cost(env, grid_size)
    return season_problem(CompetitionModel.of(env), SeasonTerms.of(env), price_grid(env, grid_size))


def season_problem(model: CompetitionModel, terms: SeasonTerms, grid: np.ndarray) -> CompetitionSeason:
    """The pricing problem of a season of ``terms`` on the price ``grid`` (no environment needed; the caller
    checks the cost first, :func:`check_season_cost`).

    The rivals' attraction ``sum_r exp(v_r)`` splits into the reactive rivals' part, which depends on
    the previous price, and the random rivals' part, which depends on the level drawn; the agent's
    expected sales are computed level by level, so memory grows with customers x grid^2 only.
    """
    config, rules, effect = model.config, model.rival_rules(terms), model.market.reference_effect
    previous = np.append(grid, terms.start_price)
    levels = rules.level_combinations()
    rival_prices = rules.prices(previous[:, None, None], rules.offsets(levels)[None, :, :])  # [G+1, S, R]
    intercept, slope = model.utilities(terms.product)
    weights = model.period_weights
    unit_value = grid - terms.unit_cost
    random_rivals = rules.random_rivals
    pricing = (terms.list_price, effect, config.rival_appeal)
    reward = np.empty((config.horizon, previous.size, levels.shape[0], grid.size))
    for period in range(config.horizon):
        a = intercept[period]
        agent = np.exp(price_utility(a[:, None], slope[:, None], grid[None, :], terms.list_price, effect))  # [C, G]
        reactive = _rival_attraction(a, slope, rival_prices[:, 0, ~random_rivals], *pricing)  # [C, G+1]
        random = _rival_attraction(a, slope, rival_prices[0, :, random_rivals].T, *pricing)  # [C, S]: no past
        for level in range(levels.shape[0]):
            others = reactive + random[:, level:level + 1]  # [C, G+1]
            sales = _mean_agent_share(agent, others, weights[period])
            reward[period, :, level] = config.arrival_rate * sales * unit_value
    return CompetitionSeason(grid, terms.start_price, rival_prices, reward)


def _mean_agent_share(agent: np.ndarray, others: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``[G+1, G]`` the population's mean share of the agent at each grid price (``agent``: ``[C, G]``
    attraction) against each previous price's rivals (``others``: ``[C, G+1]``), a few customers at a time."""
    step = max(1, _CHUNK_VALUES // (others.shape[1] * agent.shape[1]))
    total = np.zeros((others.shape[1], agent.shape[1]))
    for start in range(0, agent.shape[0], step):
        rows = slice(start, start + step)
        share = agent[rows, None, :] / (1.0 + agent[rows, None, :] + others[rows, :, None])  # [c, G+1, G]
        total += np.einsum("c,cqg->qg", weights[rows], share)
    return total


def _rival_attraction(intercept: np.ndarray, slope: np.ndarray, prices: np.ndarray, list_price: float,
                      effect: ReferencePriceEffect, appeal: float) -> np.ndarray:
    """``sum_r exp(utility of rival r)`` per customer: ``prices`` is ``[..., R']``, the result ``[C, ...]``."""
    shape = (-1,) + (1,) * prices.ndim
    utility = price_utility(intercept.reshape(shape), slope.reshape(shape), prices[None], list_price, effect)
    return np.exp(utility + appeal).sum(axis=-1)


def seller_choice_probabilities(env, period: int, agent_prices: np.ndarray, rival_prices: np.ndarray,
                                utilities: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """``[G, 1 + R + 1]`` the population's mean probability of buying from the agent (first), each rival,
    or nobody (last) in ``period``, for each of the agent's ``agent_prices`` against ``rival_prices``.

    ``utilities`` is :func:`period_utilities` of the episode, if already computed.
    """
    env = episode_of(env, CompetitionEnv, ENV_NAME, "seller_choice_probabilities()")
    intercept, slope, weights = utilities or period_utilities(env)
    agent_prices = np.asarray(agent_prices, dtype=float).reshape(-1, 1)
    prices = np.concatenate([agent_prices, np.broadcast_to(rival_prices, (agent_prices.shape[0], len(rival_prices)))],
                            axis=1)  # [G, J]
    index = price_utility(intercept[period][:, None, None], slope[:, None, None], prices[None],
                          env.list_price, env.market.reference_effect)  # [C, G, J]
    index[..., 1:] += env.config.rival_appeal
    return np.einsum("c,cgj->gj", weights[period], choice_probabilities(index))


def evaluate(season: CompetitionSeason, choose: GridChoice | None = None) -> tuple[float, np.ndarray]:
    """Expected return of a policy from the start, and its choices ``[T, G + 1, S]``.

    ``choose=None`` maximises (the best response); a choice of ``None`` means uniformly random prices.
    """
    horizon, states, levels, grid = season.reward.shape
    next_value = np.zeros(grid)
    choices = np.zeros((horizon, states, levels), dtype=np.int64)
    for period in reversed(range(horizon)):
        q = season.reward[period] + next_value[None, None, :]
        chosen = np.argmax(q, axis=-1) if choose is None else choose(period, q)
        if chosen is None:
            value = q.mean(axis=-1)
        else:
            choices[period] = chosen
            value = np.take_along_axis(q, chosen[..., None], axis=-1)[..., 0]
        state_value = value.mean(axis=1)  # levels are equally likely
        next_value = state_value[:grid]
    return float(state_value[season.start_state]), choices


def best_response(season: CompetitionSeason) -> OracleResult:
    """The optimal expected return against the rivals' rules, and its policy."""
    value, policy = evaluate(season)
    return OracleResult("upper_bound", "best response to the rivals' rules: dynamic program over (period, previous "
                        "price) on the price grid", value, [policy])


def myopic_choice(season: CompetitionSeason) -> GridChoice:
    """Each period, the price with the best expected reward *this* period given the rivals' prices."""
    return lambda period, _q: np.argmax(season.reward[period], axis=-1)


def fixed_price_values(season: CompetitionSeason) -> np.ndarray:
    """``[G]`` exact expected return of each constant grid price (ConfigError if that would take hours)."""
    work = season.price_grid.size * season.reward.size
    if work > MAX_BEST_RESPONSE_OPERATIONS:
        raise ConfigError(f"{ENV_NAME}: evaluating each of the {season.price_grid.size} grid prices would take "
                          f"{work:.3g} operations, more than the {MAX_BEST_RESPONSE_OPERATIONS:.0e} that finish in "
                          "about a minute: lower horizon or ladder_size (or grid_size)")
    return np.array([evaluate(season, lambda _t, q, g=g: np.full(q.shape[:2], g))[0]
                     for g in range(season.price_grid.size)])


def competition_values(env, grid_size: int = 41) -> dict[str, float]:
    """Exact expected returns of the best response and the simple policies for the current episode."""
    env = episode_of(env, CompetitionEnv, ENV_NAME, "competition_values()")
    grid_size = checked_grid_size(ENV_NAME, grid_size)
    grid = env.config.ladder_size if env.config.action_space == "ladder" else grid_size
    check_best_response_cost(env, grid_size, evaluations=grid + 4)  # every fixed price and 4 others
    season = competition_season(env, grid_size)
    list_rung = int(np.argmin(np.abs(season.price_grid - env.list_price)))
    return {
        "upper_bound": best_response(season).value,
        "best fixed price": float(fixed_price_values(season).max()),
        "myopic": evaluate(season, myopic_choice(season))[0],
        "list price": evaluate(season, lambda _t, q: np.full(q.shape[:2], list_rung))[0],
        "random": evaluate(season, lambda _t, _q: None)[0],
    }
