"""Rule-based policies for Competition-v0, with SB3's ``predict`` signature.

Each answers ``predict(observation, ...)`` with ``(action, None)`` after ``begin_episode(env)``
(called after each reset); model-based rules plan with the environment's demand source and the
rivals' rules (:mod:`pricegym.envs.competition_oracle`).

* :class:`CompetitionListPricePolicy` - always the list price.
* :class:`CompetitionFixedPricePolicy` - the single grid price with the best exact expected season return.
* :class:`CompetitionMyopicPolicy` - "predict demand, pick the best price": each period, the best
  expected reward against the rivals' current prices, blind to how they will react tomorrow.
* :class:`BestResponsePolicy` - the dynamic program's optimal policy (the ``upper_bound``).
* :class:`~pricegym.agents.baselines.RandomPolicy` - uniformly random actions (shared by every environment).

``begin_episode`` before the first ``reset()`` raises :class:`~pricegym.errors.EnvStateError`; a season whose
plan would take hours or exhaust memory raises :class:`~pricegym.errors.ConfigError` (see
:func:`~pricegym.envs.competition_oracle.check_best_response_cost` and :data:`MAX_MYOPIC_OPERATIONS`).
"""

from __future__ import annotations

import numpy as np

from pricegym.agents.baselines import RandomPolicy
from pricegym.envs.competition import CompetitionEnv
from pricegym.envs.competition_config import ENV_NAME
from pricegym.envs.competition_oracle import (
    best_response,
    competition_season,
    fixed_price_values,
    period_utilities,
    price_grid,
    seller_choice_probabilities,
)
from pricegym.envs.input_checks import episode_of
from pricegym.errors import ConfigError


class CompetitionRule:
    """Base of the Competition-v0 rules: remembers the episode's environment and plans for it."""

    name = "rule"

    def __init__(self, grid_size: int = 41) -> None:
        self.grid_size = grid_size
        self.env = None

    def begin_episode(self, env) -> None:
        """Called after ``env.reset``."""
        self.env = episode_of(env, CompetitionEnv, ENV_NAME, f"{type(self).__name__}.begin_episode()")
        self.grid = price_grid(self.env, self.grid_size)
        self.plan()

    def plan(self) -> None:
        """Prepare for the episode (rules that need no plan keep this no-op)."""

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        return self._action(), None

    def _action(self):
        raise NotImplementedError

    def _price_action(self, price: float):
        return self.env.price_actions.to_action(np.array([price]))


class CompetitionListPricePolicy(CompetitionRule):
    name = "list price"

    def _action(self):
        return self._price_action(self.grid[int(np.argmin(np.abs(self.grid - self.env.list_price)))])


class CompetitionFixedPricePolicy(CompetitionRule):
    name = "best fixed price"

    def plan(self) -> None:
        self.price = float(self.grid[np.argmax(fixed_price_values(competition_season(self.env, self.grid_size)))])

    def _action(self):
        return self._price_action(self.price)


MAX_MYOPIC_OPERATIONS = 5 * 10**9
"""Choice probabilities (periods x customers x grid prices x sellers) the myopic rule may compute over an
episode (about a minute); beyond it :class:`CompetitionMyopicPolicy` refuses with a ConfigError."""


class CompetitionMyopicPolicy(CompetitionRule):
    name = "myopic"

    def plan(self) -> None:
        env = self.env
        work = env.config.horizon * env.market.customer_weights.size * self.grid.size * (env.n_rivals + 1)
        if work > MAX_MYOPIC_OPERATIONS:
            raise ConfigError(f"{ENV_NAME}: the myopic rule would compute {work:.3g} choice probabilities per episode "
                              f"(horizon x customers x price grid x sellers), more than the "
                              f"{MAX_MYOPIC_OPERATIONS:.0e} that finish in about a minute; lower horizon, ladder_size "
                              "(or grid_size) or the rivals")
        self.utilities = period_utilities(env)

    def _action(self):
        env = self.env
        period = min(env.period, env.config.horizon - 1)
        share = seller_choice_probabilities(env, period, self.grid, np.asarray(env.rival_prices), self.utilities)[:, 0]
        return self._price_action(self.grid[int(np.argmax((self.grid - env.unit_cost) * share))])


class BestResponsePolicy(CompetitionRule):
    name = "best response (dynamic program)"

    def plan(self) -> None:
        self.policy = best_response(competition_season(self.env, self.grid_size)).policy[0]
        levels = self.env.config.random_levels
        n_random = self.env.level_draws.shape[1]
        self._level_weights = levels ** np.arange(n_random - 1, -1, -1)  # itertools.product order

    def _action(self):
        env = self.env
        period = min(env.period, env.config.horizon - 1)
        if env.period == 0:
            state = self.grid.size
        else:
            state = int(np.argmin(np.abs(self.grid - env.previous_price)))
        level = int(env.level_draws[period] @ self._level_weights) if env.level_draws.shape[1] else 0
        return self._price_action(self.grid[self.policy[period, state, level]])


COMPETITION_BASELINES = (CompetitionListPricePolicy, CompetitionFixedPricePolicy, CompetitionMyopicPolicy,
                         RandomPolicy)
"""The listed baselines of Competition-v0."""
