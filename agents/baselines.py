"""Rule-based pricing policies for the Markdown environment, with SB3's ``predict`` signature.

Every policy answers ``predict(observation, state=None, episode_start=None, deterministic=True)``
with ``(action, None)``, like a Stable-Baselines3 model, so a benchmark treats agents and rules
alike. Rules that depend on the season's products learn them in ``begin_episode(env)``, called
after each ``env.reset`` (SB3 models need no such call).

* :class:`ListPricePolicy` - the static rule: always the list price.
* :class:`BestFixedPricePolicy` - the single price per product with the best expected season
  return (found exactly, with the true or fitted demand of the environment).
* :class:`MyopicPolicy` - "predict demand, pick the best price": each period, the price with the
  best expected reward this period given the stock left, blind to the future.
* :class:`DynamicProgramPolicy` - the oracle's optimal policy (fixed reference prices).
* :class:`RandomPolicy` - uniformly random actions.

``begin_episode`` before the first ``reset()`` raises :class:`~pricegym.errors.EnvStateError`; a season whose
exact plan would take hours raises :class:`~pricegym.errors.ConfigError` (see
:func:`~pricegym.envs.oracle.check_exact_cost`).
"""

from __future__ import annotations

import numpy as np

from pricegym.envs.config import ENV_NAME
from pricegym.envs.input_checks import episode_of
from pricegym.envs.markdown import MarkdownEnv
from pricegym.envs.oracle import (
    check_exact_cost,
    evaluate,
    fixed_price_values,
    myopic_choice,
    season_problems,
    solve_dynamic_program,
)


class RulePolicy:
    """Base of the rule-based policies: remembers the episode's environment."""

    name = "rule"

    def __init__(self, grid_size: int = 101) -> None:
        self.grid_size = grid_size
        self.env = None

    def begin_episode(self, env) -> None:
        """Called after ``env.reset``: read the season's products from the (unwrapped) environment."""
        self.env = episode_of(env, MarkdownEnv, ENV_NAME, f"{type(self).__name__}.begin_episode()")
        season = (id(self.env), tuple(self.env.products.tolist()))
        if season != getattr(self, "_season", None):  # a season with other products: plan again
            self._season = season
            self.plan()

    def plan(self) -> None:
        """Prepare for the season's products (rules that need no plan keep this no-op)."""

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        return self._action(np.asarray(observation)), None

    def _action(self, observation: np.ndarray):
        raise NotImplementedError

    def _period_and_stock(self, observation: np.ndarray) -> tuple[int, np.ndarray]:
        env = self.env
        horizon = env.config.horizon
        period = horizon - int(round(float(observation[env.slices["time_left"]][0]) * horizon))
        stock = np.rint(observation[env.slices["inventory_left"]] * env.initial_inventory).astype(np.int64)
        return min(period, horizon - 1), stock


class ListPricePolicy(RulePolicy):
    name = "list price"

    def _action(self, observation):
        return self.env.price_actions.to_action(self.env.list_prices)


class BestFixedPricePolicy(RulePolicy):
    name = "best fixed price"

    def plan(self) -> None:
        problems = season_problems(self.env, self.grid_size)
        check_exact_cost(problems, evaluations=problems[0].price_grid.size)  # every fixed price of every product
        self.prices = np.array([p.price_grid[np.argmax(fixed_price_values(p))] for p in problems])

    def _action(self, observation):
        return self.env.price_actions.to_action(self.prices)


class _TablePolicy(RulePolicy):
    """A policy given as a grid index per product, period and stock left."""

    def _tables(self, problems) -> list[np.ndarray]:
        raise NotImplementedError

    def plan(self) -> None:
        self.problems = season_problems(self.env, self.grid_size)
        self.tables = self._tables(self.problems)

    def _action(self, observation):
        period, stock = self._period_and_stock(observation)
        prices = np.array([problem.price_grid[table[period, min(units, problem.inventory)]]
                           for problem, table, units in zip(self.problems, self.tables, stock, strict=True)])
        return self.env.price_actions.to_action(prices)


class MyopicPolicy(_TablePolicy):
    name = "myopic"

    def _tables(self, problems):
        check_exact_cost(problems, evaluations=2)  # the recursion, and the myopic rule's own per period
        return [evaluate(problem, myopic_choice(problem))[1] for problem in problems]


class DynamicProgramPolicy(_TablePolicy):
    name = "oracle (dynamic program)"

    def _tables(self, problems):
        return solve_dynamic_program(problems).policy


class RandomPolicy:
    """Uniformly random actions of any environment's action space, seeded once per action space.

    ``grid_size`` is accepted (and unused) so that every baseline is built alike.
    """

    name = "random"

    def __init__(self, seed: int = 0, grid_size: int | None = None) -> None:
        self.seed = seed
        self.env = None
        self._seeded_space = None

    def begin_episode(self, env) -> None:
        """Called after ``env.reset``: seed the action space the first time it is met."""
        self.env = env.unwrapped
        if self._seeded_space is not self.env.action_space:
            self.env.action_space.seed(self.seed)
            self._seeded_space = self.env.action_space

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        return self.env.action_space.sample(), None


BASELINES = (ListPricePolicy, BestFixedPricePolicy, MyopicPolicy, RandomPolicy)
"""The listed baselines every agent is compared with (the oracle aside)."""
