"""Thompson-sampling demand learning with inventory, the classic online-pricing baseline, for whole batches.

:class:`BatchedThompsonPricingRule` plays the *TS-update* algorithm of Ferreira, Simchi-Levi & Wang (2018), "Online
network revenue management using Thompson sampling" (Operations Research 66(6)), on a finite set of prices (arms).
Every period, in every slot and for every product:

1. sample each arm's purchase rate ``theta_k`` (mean units sold per period at that price) from its posterior;
2. solve the LP ``max_x sum_k u_k d_k x_k`` s.t. ``sum_k d_k x_k <= inventory_left / periods_left``,
   ``sum_k x_k <= 1``, ``x >= 0`` (``d_k``: the sampled demand per remaining period, ``u_k``: a unit's value);
3. offer arm k with probability ``x_k``, and the highest price (the shut-off price: least demand) with the rest;
4. observe the units sold and update the posterior of the arm offered.

Details:

* **Arms**: ``n_prices`` evenly spaced prices of the season's allowed range ``[low, high]``; on a ladder, that many
  of its rungs, evenly spread (so that the actions land on them exactly).
* **Posterior**: Poisson sales, a Gamma(alpha, beta) posterior per slot, product and arm (conjugate,
  :class:`GammaPoissonPosterior`). The sales of arm k in period t are Poisson(``theta_k w[t, k]``), ``w`` a known
  *exposure* (the season's shape of demand over its periods, mean 1): an observation adds its units to alpha and its
  exposure to beta. The LP's ``d_k`` is ``theta_k`` times the mean exposure of the periods left (its right-hand side
  is a per-period average over them too).
* **Priors**: ``"fitted"`` - each arm's prior mean is the expected sales per period at that price (season average)
  of the demand the environment simulates, read where the planning rules read it (the context's ``market`` and
  ``config``; Competition-v0: its ``model``, with the rivals' rules answering a price held all season), worth
  ``prior_weight`` periods of pseudo-observations, and the exposures are that model's shape over the season.
  ``"flat"`` - Gamma(1, 1 / arrival_rate) (mean: every arriving customer buys; one pseudo-unit), exposures 1: it
  knows the scale of demand and nothing else.
* **Seasons**: learning happens within a season (the paper's horizon): a slot's posteriors go back to the prior when
  its period is 0 (a new season, seeded or autoreset), its period goes back, or its products change.
* **Markdown-v0**: with fixed reference prices the K products share no constraint and their demands do not interact,
  so the paper's network LP (a diagonal consumption matrix) splits into one LP per product, on its own inventory
  left. A unit's value: its price (margin: less the unit cost) less its salvage, plus the holding cost that selling
  it saves over the periods left. An observation is skipped when the product sold out (``inventory_left`` 0: the
  sales are censored, and the product is done for the season anyway). **Competition-v0** has no inventory: the LP
  is the argmax of the sampled revenue (margin) per period; the agent's sales come from the policy context.
* **Randomness**: a seeded ``numpy`` Generator per rule, so a rule's actions are reproducible given its seed and the
  seasons. Thompson sampling is a randomised policy by nature: ``predict(..., deterministic=True)`` samples too.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from pricegym.agents.batched_competition_rules import season_terms
from pricegym.agents.batched_rules import BatchedRule
from pricegym.envs.competition_config import CompetitionConfig
from pricegym.envs.competition_oracle import check_season_cost, season_problem
from pricegym.envs.config import MarkdownConfig
from pricegym.envs.oracle import mean_buyers
from pricegym.errors import ConfigError

PRIORS = ("fitted", "flat")
MIN_SHAPE = 1e-6
"""The smallest Gamma shape of a prior (an arm the model expects no sales at)."""
PRICE_TOLERANCE = 1e-6
"""Share of the price range within which a price played is taken as an arm's."""


def lp_price_mix(demand: np.ndarray, unit_value: np.ndarray,
                 capacity: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The TS-update LP per row, in closed form: ``max_x sum_k unit_value_k demand_k x_k`` s.t. ``sum_k demand_k x_k
    <= capacity``, ``sum_k x_k <= 1``, ``x >= 0``, for ``demand`` and ``unit_value`` ``[N, n]`` (demand >= 0) and
    ``capacity`` ``[N]`` (>= 0, may be inf).

    Returns ``(first, second, share, value)``, all ``[N]``: the optimum offers arm ``second`` with probability
    ``share`` and arm ``first`` with ``1 - share`` (-1: no arm, i.e. the remaining probability), worth ``value``.

    Why: in the plane of (demand, revenue) the LP's value is the upper concave envelope H of the arms' points and the
    origin (no sale), maximised over demands up to ``capacity``. Every single point within the capacity and every mix
    of two points ``i``, ``j`` with ``d_i <= capacity < d_j`` that spends the capacity exactly is feasible; the
    optimum is one of them (the envelope's best point when it lies within the capacity, else H(capacity), on an edge
    of the hull between two points): the best of these O(n^2) candidates is the LP's optimum.
    """
    rows, arms = demand.shape
    zeros = np.zeros((rows, 1))
    points = np.concatenate([zeros, demand], axis=1)  # point 0: the origin
    revenue = np.concatenate([zeros, demand * unit_value], axis=1)
    c = np.asarray(capacity, float)[:, None, None]
    d_i, d_j, r_i, r_j = points[:, :, None], points[:, None, :], revenue[:, :, None], revenue[:, None, :]
    single = np.eye(arms + 1, dtype=bool)
    feasible = (d_i <= c) & (single | (d_j > c))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        shares = np.where(single, 0.0, (c - d_i) / (d_j - d_i))
        values = np.where(feasible, r_i + shares * (r_j - r_i), -np.inf)
    best = values.reshape(rows, -1).argmax(axis=1)
    first, second = np.divmod(best, arms + 1)
    index = np.arange(rows)
    return first - 1, second - 1, shares[index, first, second], values[index, first, second]


class GammaPoissonPosterior:
    """Gamma(alpha, beta) posteriors of Poisson purchase rates, one per cell of ``alpha``'s shape (slot, product,
    arm): a sale count ``s`` seen with exposure ``w`` (Poisson mean ``theta w``) adds ``s`` to alpha, ``w`` to beta."""

    def __init__(self, alpha: np.ndarray, beta: np.ndarray) -> None:
        self.alpha, self.beta = np.array(alpha, dtype=float), np.array(beta, dtype=float)

    def mean(self) -> np.ndarray:
        """The posterior mean purchase rates."""
        return self.alpha / self.beta

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """One draw of every purchase rate."""
        return rng.gamma(self.alpha, 1.0 / self.beta)

    def reset(self, slots: np.ndarray, alpha: np.ndarray, beta: np.ndarray) -> None:
        """Back to the prior ``(alpha, beta)`` in ``slots`` (the first axis)."""
        self.alpha[slots], self.beta[slots] = alpha, beta

    def observe(self, seen: np.ndarray, arms: np.ndarray, units: np.ndarray, exposure: np.ndarray) -> None:
        """Per cell of ``seen`` (the leading axes, e.g. ``[B, K]``) where it is true: ``units`` sold at arm ``arms``
        with ``exposure``."""
        cells = np.nonzero(seen)
        arm = arms[cells]
        self.alpha[(*cells, arm)] += units[cells]
        self.beta[(*cells, arm)] += exposure[cells]


class BatchedThompsonPricingRule(BatchedRule):
    """Thompson sampling with inventory (TS-update) on Markdown-v0 or Competition-v0 (see the module docstring).

    Args:
        vec_env: a vectorised ``pricegym/Markdown-v0`` or ``pricegym/Competition-v0`` (``make_vec``, the
            Gymnasium ``VectorEnv``, wrapped or not).
        n_prices: arms per product, evenly spread over the season's price range (at most the ladder's rungs).
        prior: ``"fitted"`` (from the demand model the environment simulates) or ``"flat"``.
        prior_weight: periods of pseudo-observations the fitted prior is worth.
        seed: seeds the rule's generator (posterior draws and the arms' lotteries).
    """

    def __init__(self, vec_env: Any, n_prices: int = 11, prior: str = "fitted", prior_weight: float = 2.0,
                 seed: int = 0) -> None:
        super().__init__(vec_env)
        context = self.context()
        config = context.get("config")
        if not isinstance(config, MarkdownConfig | CompetitionConfig):
            raise ConfigError(f"{type(self).__name__} plays pricegym/Markdown-v0 or pricegym/Competition-v0; its "
                              f"policy context holds no config of either (got {type(config).__name__})")
        if prior not in PRIORS:
            raise ConfigError(f"prior must be one of {PRIORS}; got {prior!r}")
        if int(n_prices) < 2 or not float(prior_weight) > 0.0:
            raise ConfigError(f"n_prices must be at least 2 and prior_weight positive; got {n_prices}, {prior_weight}")
        self.config, self.market, self.prior, self.prior_weight = config, context["market"], prior, float(prior_weight)
        self.markdown = isinstance(config, MarkdownConfig)
        self.model = None if self.markdown else context["model"]
        self.name = f"Thompson sampling ({prior} prior)"
        self.knows = ("the demand model the environment simulates as a prior; then only the sales it observes"
                      if prior == "fitted" else "the price ranges and the arrival rate (the prior's scale); then "
                      "only the sales it observes") + (", and its stock and periods left" if self.markdown else "")
        if self.ladder_size:
            rungs = np.unique(np.rint(np.linspace(0, self.ladder_size - 1, min(int(n_prices), self.ladder_size))))
            self.positions = np.linspace(0.0, 1.0, self.ladder_size)[rungs.astype(np.int64)]
        else:
            self.positions = np.linspace(0.0, 1.0, int(n_prices))
        arms, horizon = self.positions.size, config.horizon
        catalogue = self.market.list_prices.size
        self.rng = np.random.default_rng(seed)
        self._ready = np.full(catalogue, prior == "flat")
        self._alpha0 = np.ones((catalogue, arms))
        self._beta0 = np.full((catalogue, arms), 1.0 / config.arrival_rate)
        self._exposure, self._future = np.ones((catalogue, horizon, arms)), np.ones((catalogue, horizon, arms))
        shape = (self.num_envs, config.n_products if self.markdown else 1)
        self.posterior = GammaPoissonPosterior(np.ones((*shape, arms)), np.ones((*shape, arms)))
        self._products, self._seen = np.full(shape, -1, dtype=np.int64), np.full(self.num_envs, -1, dtype=np.int64)
        self.last_arms = np.zeros(shape, dtype=np.int64)
        if not self.markdown:
            if prior == "fitted":
                check_season_cost(config, self.model.n_customers, max(arms, 2), evaluations=0)

    def predict(self, observation: np.ndarray, state: Any = None, episode_start: np.ndarray | None = None,
                deterministic: bool = True) -> tuple[np.ndarray, None]:
        """Actions for all slots; ``deterministic`` is ignored: Thompson sampling always samples (seeded)."""
        return self._actions(np.asarray(observation)), None

    def _actions(self, observations: np.ndarray) -> np.ndarray:
        context = self.context()
        view = self._view(context, observations)
        self._follow_seasons(context, view)
        prices = self._arm_prices(view)
        self._learn(view, prices)
        products, period = view["products"], view["period"]
        now = np.minimum(period, self.config.horizon - 1)[:, None]
        demand = self.posterior.sample(self.rng) * self._future[products, now]
        capacity = view["inventory_left"] / np.maximum(view["periods_left"], 1)[:, None]
        arms = prices.shape[-1]
        first, second, share, _ = lp_price_mix(demand.reshape(-1, arms), self._unit_values(view, prices).reshape(
            -1, arms), capacity.ravel())
        chosen = np.where(self.rng.random(share.shape) < share, second, first)
        chosen = np.where(chosen < 0, arms - 1, chosen).reshape(products.shape)  # the rest: the shut-off price
        self.last_arms = chosen
        offered = np.take_along_axis(prices, chosen[..., None], axis=-1)[..., 0]
        if self.markdown:
            return self.actions_for_prices(offered, view["low"], view["high"])
        return self.actions_for_prices(offered[:, 0], view["low"][:, 0], view["high"][:, 0])

    def _view(self, context: dict[str, Any], observations: np.ndarray) -> dict[str, np.ndarray]:
        """The context as ``[B, K]`` arrays (K = 1 for Competition-v0) and ``[B]`` periods."""
        if self.markdown:
            view = {key: context[key] for key in ("products", "low", "high", "unit_cost", "prices", "units_sold",
                                                  "period", "periods_left")}
            return {**view, "inventory_left": context["inventory_left"].astype(float)}
        view = {"products": context["product"], "low": context["low"], "high": context["high"],
                "unit_cost": context["unit_cost"], "prices": context["previous_price"],
                "units_sold": context["units_sold"]}
        view = {key: np.asarray(value)[:, None] for key, value in view.items()}
        return {**view, "inventory_left": np.full(view["low"].shape, np.inf), "period": context["period"],
                "periods_left": context["periods_left"]}

    def _arm_prices(self, view: dict[str, np.ndarray]) -> np.ndarray:
        """``[B, K, n]`` every slot's arms."""
        low, high = view["low"][..., None], view["high"][..., None]
        return low + self.positions * (high - low)

    def _unit_values(self, view: dict[str, np.ndarray], prices: np.ndarray) -> np.ndarray:
        """``[B, K, n]`` what selling a unit at each arm is worth now (see the module docstring)."""
        cost = view["unit_cost"][..., None]
        if not self.markdown:
            return prices - cost
        config = self.config
        value = prices - cost if config.reward == "margin" else prices
        return value - config.salvage_share * cost + config.holding_cost * view["periods_left"][:, None, None]

    def _follow_seasons(self, context: dict[str, Any], view: dict[str, np.ndarray]) -> None:
        """Make the priors of products met for the first time, and reset the posteriors of slots in a new season."""
        products, period = view["products"], view["period"]
        new = (period == 0) | (period < self._seen) | (products != self._products).any(axis=1)
        if not new.any():
            return
        fresh = products[new][~self._ready[products[new]]]
        for product in np.unique(fresh).tolist():
            slot, k = (index[0] for index in np.nonzero((products == product) & new[:, None]))
            self._make_prior(context, view, int(slot), int(k))
        rows = products[new]
        self.posterior.reset(new, self._alpha0[rows], self._beta0[rows])
        self._products[new], self._seen[new] = products[new], -1

    def _make_prior(self, context: dict[str, Any], view: dict[str, np.ndarray], slot: int, k: int) -> None:
        """The fitted prior of the product of ``(slot, k)``: its rates, pseudo-periods and exposures."""
        product, config = int(view["products"][slot, k]), self.config
        grid = self._arm_prices(view)[slot, k]
        if self.markdown:
            buyers = mean_buyers(self.market, product, grid, config.season_start_day, config.horizon,
                                 config.arrival_rate, self.market.list_prices[product], config.appeal_decay,
                                 config.shopper_mix_shift)
        else:  # the price held all season (rivals reacting to it), averaged over the random rivals' levels
            terms = replace(season_terms(context, slot), unit_cost=0.0)  # expected reward = price x buyers
            reward = season_problem(self.model, terms, grid).reward
            arms = np.arange(grid.size)
            revenue = reward[:, arms, :, arms].mean(axis=-1).T  # [T, n]
            buyers = np.divide(revenue, grid, out=np.zeros_like(revenue), where=grid > 0)
        rate = buyers.mean(axis=0)
        exposure = np.divide(buyers, rate, out=np.ones_like(buyers), where=rate > 0)
        left = np.arange(config.horizon, 0, -1)[:, None]
        self._exposure[product] = exposure
        self._future[product] = np.cumsum(exposure[::-1], axis=0)[::-1] / left
        self._alpha0[product] = np.maximum(self.prior_weight * rate, MIN_SHAPE)
        self._beta0[product] = self.prior_weight
        self._ready[product] = True

    def _learn(self, view: dict[str, np.ndarray], prices: np.ndarray) -> None:
        """Update the posteriors with the last period's sales, where they are new, at one of the arms, uncensored."""
        period, products = view["period"], view["products"]
        fresh = (period > 0) & (period != self._seen)
        self._seen = period.copy()
        if not fresh.any():
            return
        gap = np.abs(prices - view["prices"][..., None])
        arms = np.argmin(gap, axis=-1)
        nearest = np.take_along_axis(gap, arms[..., None], axis=-1)[..., 0]
        matched = nearest <= PRICE_TOLERANCE * np.maximum(view["high"] - view["low"], 1e-12)
        seen = fresh[:, None] & matched & (view["inventory_left"] > 0)
        exposure = self._exposure[products, np.clip(period - 1, 0, self.config.horizon - 1)[:, None], arms]
        self.posterior.observe(seen, arms, np.asarray(view["units_sold"], float), exposure)
