"""Learning curves in % of the optimum: a deterministic policy's return on fixed held-out seasons, as a
percentage of the oracle's (or the bound's) value on those very seasons.

* :func:`optimum_returns` - per held-out seed, the yardstick of that exact season (the single environment
  reset with the seed, which is the season slot i of a batched VecEnv plays when seeded with it):

  * ``pricegym/Markdown-v0`` - an **optimum**: the exact dynamic program's expected return over the price
    grid (:func:`~pricegym.envs.oracle.markdown_oracle`, the oracle that
    :class:`~pricegym.agents.batched_markdown_rules.BatchedDynamicProgramRule` plays); with
    ``reference_dynamics=True`` the fluid relaxation instead, an **upper bound**.
  * ``pricegym/Competition-v0`` - an **optimum**: the best response to the rivals' rules, the exact expected
    return of the dynamic program over the price grid (:func:`~pricegym.envs.competition_oracle.best_response`,
    which :class:`~pricegym.agents.batched_competition_rules.BatchedBestResponseRule` plays; the oracle module
    files it as ``upper_bound``: no policy on the grid can beat it).
  * ``pricegym/PersonalizedDiscount-v0`` - an **upper bound**: the expected (Lagrangian, non-clairvoyant)
    bound of the episode's visitors (:func:`~pricegym.envs.discount_bounds.expected_bound`); no rule
    attains it.

  These are the per-season yardsticks of ``pricegym benchmark`` (``experiments/benchmark.py``, same grids:
  101 prices for Markdown-v0, 41 for Competition-v0). :func:`optimum_kind` says which kind a config gets.

* :func:`evaluate_percent_of_optimum` - plays the policy on exactly those seasons, one VecEnv slot per seed
  (each slot's first episode only), and reports ``percent_of_optimum = 100 x sum(returns) / sum(optimum)``.
  The returns are realised (simulated) returns, summed in float64 from the batched core's rewards (SB3's
  ``VecEnv`` hands them on as float32), so that a seeded slot's return is the single environment's to float
  precision; the Markdown-v0 and Competition-v0 optima are exact expectations, so a policy's figure is a (ratio)
  estimate of its expected % of the optimum: the oracle itself scores 100% in expectation, not on every season.
  The oracle modules (:func:`~pricegym.envs.oracle.baseline_values`,
  :func:`~pricegym.envs.competition_oracle.competition_values`) value each rule by its exact expected return (no
  rollout), so a rule's figure here equals theirs in expectation only.
  For a less noisy comparison under common random numbers, pass the oracle's own rollouts of the same seasons
  as ``optimum`` (``episode_returns(BatchedDynamicProgramRule, env_id, seeds, **options)``): the oracle then scores
  exactly 100% per season, but the yardstick is no longer the exact per-season value the issue asks for.

* :class:`OptimumEvalCallback` - the same, every ``eval_freq`` calls during SB3 training, logged as
  ``eval/percent_of_optimum`` and ``eval/mean_return`` (and to ``evaluations.csv``).

Held-out seeds: pick evaluation seeds that training never uses. Training episodes come from the batched
core's generator (``make_vec(..., seed=S)``) or from seeds ``S, S + 1, ...`` of ``vec_env.seed(S)``; by
convention the evaluation seeds start at :data:`HELD_OUT_SEED` (``range(HELD_OUT_SEED, HELD_OUT_SEED + n)``)
and training seeds stay below it.
"""

from __future__ import annotations

import copy
import csv
import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv, VecNormalize, unwrap_vec_normalize

from pricegym.errors import ConfigError

HELD_OUT_SEED = 1_000_000
"""The first held-out evaluation seed: training seeds stay below it, evaluation seeds start from it."""

MARKDOWN_ID = "pricegym/Markdown-v0"
COMPETITION_ID = "pricegym/Competition-v0"
DISCOUNT_ID = "pricegym/PersonalizedDiscount-v0"
MARKDOWN_GRID = 101
"""Prices of a box action's range the Markdown-v0 oracle searches (the benchmark's yardstick and the batched DP's)."""
COMPETITION_GRID = 41
"""Prices of a box action's range the best response searches (the benchmark's yardstick and the batched rule's)."""
CSV_COLUMNS = ("timesteps", "mean_return", "mean_optimum", "percent_of_optimum")


def single_env(env_id: str, env_options: dict[str, Any]) -> Any:
    """The single (unwrapped) environment of ``env_id`` with ``env_options``."""
    from pricegym.envs import CompetitionEnv, MarkdownEnv, PersonalizedDiscountEnv

    classes = {MARKDOWN_ID: MarkdownEnv, COMPETITION_ID: CompetitionEnv, DISCOUNT_ID: PersonalizedDiscountEnv}
    if env_id not in classes:
        raise ConfigError(f"no optimum known for {env_id!r}; expected one of {', '.join(map(repr, classes))}")
    return classes[env_id](**env_options)


def checked_seeds(seeds: Sequence[int]) -> list[int]:
    """``seeds`` as a list of distinct non-negative ints (ConfigError otherwise)."""
    values = [int(seed) for seed in seeds]
    if not values:
        raise ConfigError("evaluation needs at least one held-out seed")
    if any(seed < 0 for seed in values) or len(set(values)) != len(values):
        raise ConfigError(f"evaluation seeds must be distinct and non-negative; got {values}")
    return values


def optimum_kind(env_id: str, **env_options: Any) -> str:
    """``"optimum"`` or ``"upper bound"``: what :func:`optimum_returns` gives for ``env_id`` and its options
    (see the module docstring)."""
    if env_id == MARKDOWN_ID:
        return "upper bound" if env_options.get("reference_dynamics", False) else "optimum"
    if env_id == COMPETITION_ID:
        return "optimum"
    if env_id == DISCOUNT_ID:
        return "upper bound"
    raise ConfigError(f"no optimum known for {env_id!r}; expected one of {MARKDOWN_ID!r}, {COMPETITION_ID!r}, "
                      f"{DISCOUNT_ID!r}")


def optimum_returns(env_id: str, seeds: Sequence[int], **env_options: Any) -> np.ndarray:
    """``[len(seeds)]`` the oracle's exact expected return (or the bound) of each season seeded ``seeds[i]``.

    Markdown-v0: :func:`~pricegym.envs.oracle.markdown_oracle` (exact DP; the fluid upper bound with
    reference dynamics); Competition-v0: the best response's value; PersonalizedDiscount-v0: the expected
    bound. Raises :class:`~pricegym.errors.ConfigError` for an unknown environment or a season too large to solve.
    """
    seeds = checked_seeds(seeds)
    env = single_env(env_id, env_options)
    values = np.empty(len(seeds))
    for index, seed in enumerate(seeds):
        env.reset(seed=seed)
        values[index] = _season_optimum(env_id, env)
    return values


def _season_optimum(env_id: str, env: Any) -> float:
    if env_id == MARKDOWN_ID:
        from pricegym.envs.oracle import markdown_oracle

        return markdown_oracle(env, MARKDOWN_GRID).value
    if env_id == COMPETITION_ID:
        from pricegym.envs.competition_oracle import best_response, competition_season

        return best_response(competition_season(env, COMPETITION_GRID)).value
    from pricegym.envs.discount_bounds import expected_bound

    return expected_bound(env).value


PolicyLike = Any
"""An object with ``predict(observations, deterministic=True)`` (an SB3 model, a batched rule), or a factory
``vec_env -> such an object`` (a batched rule's class, ``lambda vec_env: Rule(vec_env, ...)``)."""


def _policy_on(policy: PolicyLike, vec_env: VecEnv) -> Any:
    """The policy itself, or the one its factory builds on ``vec_env``."""
    from pricegym.agents.batched_rules import BatchedRule

    if isinstance(policy, type) or not hasattr(policy, "predict"):
        if not callable(policy):
            raise TypeError(f"expected a policy with predict() or a factory vec_env -> policy; got {policy!r}")
        policy = policy(vec_env)
    elif isinstance(policy, BatchedRule) and policy.vec_env is not vec_env:
        raise TypeError(f"{type(policy).__name__} was built on another VecEnv and reads that one's context; pass "
                        "its class or a factory (lambda vec_env: Rule(vec_env, ...)) instead")
    return policy


def _predictor(policy: Any) -> Callable[[np.ndarray, Any, np.ndarray], tuple[np.ndarray, Any]]:
    """``(observations, state, episode_start) -> (actions, state)``, deterministic, whatever ``predict`` takes."""
    try:
        parameters = inspect.signature(policy.predict).parameters
    except (TypeError, ValueError):
        parameters = {}
    if "state" in parameters and "episode_start" in parameters:
        return lambda obs, state, start: policy.predict(obs, state=state, episode_start=start, deterministic=True)
    return lambda obs, state, start: policy.predict(obs, deterministic=True)


def _evaluation_env(vec_env: VecEnv, vec_normalize: VecNormalize | None) -> VecEnv:
    """``vec_env``, or it under a frozen VecNormalize with a copy of ``vec_normalize``'s observation statistics
    (rewards are left raw)."""
    if vec_normalize is None:
        return vec_env
    wrapped = VecNormalize(vec_env, training=False, norm_obs=vec_normalize.norm_obs, norm_reward=False,
                           clip_obs=vec_normalize.clip_obs, gamma=vec_normalize.gamma, epsilon=vec_normalize.epsilon,
                           norm_obs_keys=vec_normalize.norm_obs_keys)
    wrapped.obs_rms = copy.deepcopy(vec_normalize.obs_rms)
    return wrapped


class _RewardTap:
    """A batched core that keeps its last step's rewards, float64 as the core computes them (SB3's VecEnv hands
    them on as float32, which would put the returns ~1e-8 away from the single environment's); everything else is
    the core's."""

    def __init__(self, core: Any) -> None:
        self.core = core
        self.rewards: np.ndarray | None = None
        self.infos: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name == "core":  # not set yet (a copy being built): no recursion
            raise AttributeError(name)
        return getattr(self.core, name)

    def step(self, actions: np.ndarray) -> tuple:
        result = self.core.step(actions)
        self.rewards = np.asarray(result[1], dtype=np.float64)
        self.infos = result[4]
        return result


def make_evaluation_env(env_id: str, seeds: Sequence[int], **env_options: Any) -> VecEnv:
    """The batched VecEnv of the evaluation: one slot per held-out seed (its core's float64 rewards are summed by
    :func:`episode_returns`)."""
    from pricegym.envs.vector import BatchedVecEnv, make_batched

    seeds = checked_seeds(seeds)
    return BatchedVecEnv(_RewardTap(make_batched(env_id, len(seeds), seed=seeds[0], **env_options)))


StepObserver = Callable[[dict[str, Any], dict[str, Any], np.ndarray], None]
"""``(context before the step, the core's step infos with its float64 ``reward``, alive mask)``: what
:func:`episode_returns` reports each step."""


def episode_returns(policy: PolicyLike, env_id: str, seeds: Sequence[int], vec_normalize: VecNormalize | None = None,
                    vec_env: VecEnv | None = None, step_observer: StepObserver | None = None,
                    **env_options: Any) -> np.ndarray:
    """``[len(seeds)]`` the undiscounted return of the deterministic ``policy`` on the season seeded ``seeds[i]``.

    All seasons are played at once in one batched VecEnv (``vec_env``, one slot per seed, built by
    :func:`make_evaluation_env` if not given), each slot's first episode only. With ``vec_normalize``, the
    policy sees observations normalised by a frozen copy of its statistics; returns are always raw.
    ``step_observer`` (with the VecEnv :func:`make_evaluation_env` builds) sees every step's policy context, the
    core's infos and which seasons are still being played (the benchmark's sell-through and discounts).
    """
    seeds = checked_seeds(seeds)
    base = vec_env if vec_env is not None else make_evaluation_env(env_id, seeds, **env_options)
    if base.num_envs != len(seeds):
        raise ConfigError(f"the evaluation VecEnv holds {base.num_envs} slots for {len(seeds)} seeds")
    env = _evaluation_env(base, vec_normalize)
    predict = _predictor(_policy_on(policy, env))
    base._seeds = list(seeds)  # what VecEnv.seed(s) sets (s + i per slot), here one arbitrary seed per slot
    tap = getattr(base, "core", None)  # make_evaluation_env's: the float64 rewards
    observations = env.reset()
    totals, alive = np.zeros(len(seeds)), np.ones(len(seeds), dtype=bool)
    state, starts = None, np.ones(len(seeds), dtype=bool)
    while alive.any():
        actions, state = predict(observations, state, starts)
        context = base.policy_context() if step_observer is not None else None
        observations, rewards, dones, _ = env.step(actions)
        if isinstance(tap, _RewardTap):
            rewards = tap.rewards
            if step_observer is not None:
                step_observer(context, {**tap.infos, "reward": tap.rewards}, alive.copy())
        totals += np.where(alive, np.asarray(rewards, dtype=np.float64), 0.0)
        alive &= ~np.asarray(dones, dtype=bool)
        starts = np.asarray(dones, dtype=bool)
    return totals


def evaluate_percent_of_optimum(policy: PolicyLike, env_id: str, seeds: Sequence[int],
                                optimum: Sequence[float] | np.ndarray | None = None,
                                vec_normalize: VecNormalize | None = None, vec_env: VecEnv | None = None,
                                **env_options: Any) -> dict[str, Any]:
    """The deterministic ``policy``'s returns on the seasons seeded ``seeds`` as a % of the optimum's.

    ``optimum``: the per-seed values of :func:`optimum_returns` if already computed. Returns ``mean_return``,
    ``mean_optimum``, ``percent_of_optimum`` (``100 x sum(returns) / sum(optimum)``), ``optimum_kind``, and the
    per-seed ``seeds``, ``returns``, ``optimum`` and ``percent`` arrays.
    """
    seeds = checked_seeds(seeds)
    optimum = optimum_returns(env_id, seeds, **env_options) if optimum is None else np.asarray(optimum, float)
    if optimum.shape != (len(seeds),):
        raise ConfigError(f"expected {len(seeds)} optimum values, one per seed; got shape {optimum.shape}")
    returns = episode_returns(policy, env_id, seeds, vec_normalize=vec_normalize, vec_env=vec_env, **env_options)
    return {
        "mean_return": float(returns.mean()),
        "mean_optimum": float(optimum.mean()),
        "percent_of_optimum": float(100.0 * returns.sum() / optimum.sum()),
        "optimum_kind": optimum_kind(env_id, **env_options),
        "seeds": np.asarray(seeds),
        "returns": returns,
        "optimum": optimum,
        "percent": 100.0 * returns / optimum,
    }


class OptimumEvalCallback(BaseCallback):
    """Every ``eval_freq`` calls, the model's deterministic % of the optimum on fixed held-out seasons.

    Args:
        env_id: the environment trained on (``pricegym/...``).
        env_options: its config options (those given to ``make_vec``), so that the held-out seasons are
            seasons of the training config.
        eval_seeds: the held-out seeds, never used in training (by convention from :data:`HELD_OUT_SEED` on).
        eval_freq: evaluate every this many calls, i.e. every ``eval_freq x n_envs`` environment steps (as
            SB3's ``EvalCallback``); 0 or less: only when :meth:`evaluate` is called.
        log_path: a folder; each evaluation appends a row to ``log_path/evaluations.csv``.

    The optimum values are computed once (:meth:`_init_callback`). When the training env is wrapped in
    ``VecNormalize``, its current observation statistics are used (frozen, rewards raw). Records
    ``eval/percent_of_optimum``, ``eval/mean_return`` and ``eval/mean_optimum``; keeps :attr:`history`, a
    list of ``(timesteps, percent of optimum)``, and :attr:`last_result`.
    """

    def __init__(self, env_id: str, env_options: dict, eval_seeds: Sequence[int], eval_freq: int,
                 log_path: Path | None = None, verbose: int = 0) -> None:
        super().__init__(verbose)
        self.env_id = env_id
        self.env_options = dict(env_options)
        self.eval_seeds = checked_seeds(eval_seeds)
        self.eval_freq = int(eval_freq)
        self.log_path = Path(log_path) if log_path is not None else None
        self.history: list[tuple[int, float]] = []
        self.last_result: dict[str, Any] | None = None
        self.optimum: np.ndarray | None = None
        self._eval_env: VecEnv | None = None

    @property
    def csv_path(self) -> Path | None:
        return self.log_path / "evaluations.csv" if self.log_path is not None else None

    def _init_callback(self) -> None:
        if self.optimum is None:
            self.optimum = optimum_returns(self.env_id, self.eval_seeds, **self.env_options)
        if self._eval_env is None:
            self._eval_env = make_evaluation_env(self.env_id, self.eval_seeds, **self.env_options)
        if self.log_path is not None:
            self.log_path.mkdir(parents=True, exist_ok=True)

    def _on_step(self) -> bool:
        if self.eval_freq > 0 and self.n_calls % self.eval_freq == 0:
            self.evaluate()
        return True

    def evaluate(self) -> dict[str, Any]:
        """Evaluate now, record, log and return the result of :func:`evaluate_percent_of_optimum`."""
        if self.optimum is None or self._eval_env is None:
            self._init_callback()
        vec_normalize = unwrap_vec_normalize(self.training_env) if self.training_env is not None else None
        result = evaluate_percent_of_optimum(self.model, self.env_id, self.eval_seeds, optimum=self.optimum,
                                             vec_normalize=vec_normalize, vec_env=self._eval_env,
                                             **self.env_options)
        self.last_result = result
        self.history.append((int(self.num_timesteps), result["percent_of_optimum"]))
        self.logger.record("eval/percent_of_optimum", result["percent_of_optimum"])
        self.logger.record("eval/mean_return", result["mean_return"])
        self.logger.record("eval/mean_optimum", result["mean_optimum"])
        if self.verbose >= 1:
            print(f"Eval num_timesteps={self.num_timesteps}: {result['percent_of_optimum']:.2f}% of the "
                  f"{result['optimum_kind']} (mean return {result['mean_return']:.4g} over "
                  f"{len(self.eval_seeds)} held-out seasons)")
        if self.csv_path is not None:
            self._append_row(result)
        return result

    def _append_row(self, result: dict[str, Any]) -> None:
        path = self.csv_path
        new = not path.exists() or path.stat().st_size == 0
        with path.open("a", newline="") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow(CSV_COLUMNS)
            writer.writerow([int(self.num_timesteps), repr(result["mean_return"]), repr(result["mean_optimum"]),
                             repr(result["percent_of_optimum"])])
