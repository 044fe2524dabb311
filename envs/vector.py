"""Two thin adapters over the batched cores: an SB3 ``VecEnv`` and a Gymnasium ``VectorEnv``.

Both step B episodes at once through an environment's batched core (:mod:`pricegym.envs.batched`),
and both reset an ended episode in the same step that ends it, keeping its final observation:

* :class:`BatchedVecEnv` (``make_vec``) follows SB3's conventions: ``dones = terminated | truncated``,
  ``infos[i]["terminal_observation"]`` and ``infos[i]["TimeLimit.truncated"]`` for ended episodes::

      from stable_baselines3 import PPO
      from pricegym.envs import make_vec

      model = PPO("MlpPolicy", make_vec("pricegym/Markdown-v0", n_envs=256))

* :class:`BatchedVectorEnv` is a Gymnasium ``VectorEnv`` with the ``SAME_STEP`` autoreset mode
  (``infos["final_obs"]``/``infos["final_info"]`` and their ``_final_obs`` masks), registered as each
  environment's ``vector_entry_point``::

      envs = gymnasium.make_vec("pricegym/Markdown-v0", num_envs=1024, vectorization_mode="vector_entry_point")

Seeds: ``VecEnv.seed(s)`` (SB3) or ``reset(seed=s)`` (Gymnasium) give episode i the seed ``s + i``
at the next reset, so episode i reproduces the single environment's episode under that seed; a
list of seeds gives one per episode. Later episodes (autoresets) are drawn from the core's own
generator, seeded by ``seed`` at construction.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from stable_baselines3.common.vec_env.base_vec_env import VecEnv

from pricegym.envs.batched import BatchedEnv
from pricegym.errors import ConfigError

BATCHED_CORES = {
    "pricegym/Markdown-v0": "pricegym.envs.markdown_batch:MarkdownBatch",
    "pricegym/PersonalizedDiscount-v0": "pricegym.envs.discount_batch:PersonalizedDiscountBatch",
    "pricegym/Competition-v0": "pricegym.envs.competition_batch:CompetitionBatch",
}
"""The batched core of every registered environment."""


def make_batched(env_id: str, num_envs: int, seed: int | None = None, **options: Any) -> BatchedEnv:
    """The batched core of ``env_id`` holding ``num_envs`` episodes (``options``: the env's config options)."""
    if env_id not in BATCHED_CORES:
        raise ConfigError(f"no batched core for {env_id!r}; expected one of {', '.join(map(repr, BATCHED_CORES))}")
    module, name = BATCHED_CORES[env_id].split(":")
    return getattr(importlib.import_module(module), name)(num_envs, seed=seed, **options)


def make_vec(env_id: str, n_envs: int = 8, seed: int | None = None, **options: Any) -> BatchedVecEnv:
    """An SB3 ``VecEnv`` of ``n_envs`` episodes of ``env_id`` stepped together (``options``: config options)."""
    return BatchedVecEnv(make_batched(env_id, n_envs, seed=seed, **options))


def _seed_list(seed: int | Sequence[int | None] | None, num_envs: int) -> list[int | None] | None:
    """``s`` -> ``[s, s + 1, ...]``; a sequence is taken as one seed per episode; None -> None."""
    if seed is None:
        return None
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
        return [int(seed) + index for index in range(num_envs)]
    return list(seed)


class BatchedVecEnv(VecEnv):
    """An SB3 ``VecEnv`` over a batched core (see the module docstring)."""

    def __init__(self, core: BatchedEnv) -> None:
        self.core = core
        super().__init__(core.num_envs, core.single_observation_space, core.single_action_space)
        self._actions: np.ndarray | None = None
        self.render_mode = None

    def reset(self) -> np.ndarray:
        seeds = None if all(seed is None for seed in self._seeds) else self._seeds
        observations, _ = self.core.reset(seeds=seeds)
        self._reset_seeds()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return observations

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
        observations, rewards, terminated, truncated, _ = self.core.step(self._actions)
        dones = terminated | truncated
        infos: list[dict] = [{} for _ in range(self.num_envs)]
        if dones.any():
            for slot in np.flatnonzero(dones).tolist():
                infos[slot]["terminal_observation"] = observations[slot].copy()
                infos[slot]["TimeLimit.truncated"] = bool(truncated[slot] and not terminated[slot])
            fresh, _ = self.core.reset(mask=dones)
            observations = np.where(dones[:, None], fresh, observations)
        return observations, rewards.astype(np.float32), dones, infos

    def policy_context(self) -> dict[str, np.ndarray]:
        """What a rule may know beyond the observation, per episode (the core's :meth:`policy_context`)."""
        return self.core.policy_context()

    def close(self) -> None:
        return None

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        """An attribute of the (shared) single environment, once per indexed episode."""
        return [getattr(self.core.single_env, attr_name) for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        raise AttributeError(f"{self.core.env_name}: the batched environment's episodes share one config; set "
                             f"{attr_name!r} in the config instead (make_vec(env_id, {attr_name}=...))")

    def env_method(self, method_name: str, *method_args: Any, indices: Any = None, **method_kwargs: Any) -> list[Any]:
        raise AttributeError(f"{self.core.env_name}: the batched environment has no per-episode environments to "
                             f"call {method_name!r} on; use vec_env.core or vec_env.policy_context()")

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None for _ in range(self.num_envs)]


class BatchedVectorEnv(VectorEnv):
    """A Gymnasium ``VectorEnv`` over a batched core, autoresetting in the same step (see the module docstring)."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(self, core: BatchedEnv) -> None:
        self.core = core
        self.num_envs = core.num_envs
        self.single_observation_space = core.single_observation_space
        self.single_action_space = core.single_action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)

    def reset(self, *, seed: int | Sequence[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every episode (or those of ``options["reset_mask"]``); ``seed``: s gives episode i ``s + i``."""
        mask = (options or {}).get("reset_mask")
        observations, infos = self.core.reset(seeds=_seed_list(seed, self.num_envs), mask=mask)
        return observations, dict(infos)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        observations, rewards, terminated, truncated, infos = self.core.step(actions)
        infos = dict(infos)
        dones = terminated | truncated
        if dones.any():
            final_obs = np.empty(self.num_envs, dtype=object)
            final_info = np.empty(self.num_envs, dtype=object)
            for slot in np.flatnonzero(dones).tolist():
                final_obs[slot] = observations[slot].copy()
                final_info[slot] = {key: value[slot] for key, value in infos.items()
                                    if isinstance(value, np.ndarray) and value.shape[:1] == (self.num_envs,)}
            infos.update(final_obs=final_obs, _final_obs=dones.copy(), final_info=final_info,
                         _final_info=dones.copy())
            fresh, _ = self.core.reset(mask=dones)
            observations = np.where(dones[:, None], fresh, observations)
        return observations, rewards, terminated, truncated, infos

    def policy_context(self) -> dict[str, np.ndarray]:
        """What a rule may know beyond the observation, per episode (the core's :meth:`policy_context`)."""
        return self.core.policy_context()


def vector_entry_point(env_id: str):
    """The ``vector_entry_point`` of ``env_id``: ``(num_envs, seed=None, **options) -> BatchedVectorEnv``."""

    def make(num_envs: int = 1, seed: int | None = None, **options: Any) -> BatchedVectorEnv:
        return BatchedVectorEnv(make_batched(env_id, num_envs, seed=seed, **options))

    return make


markdown_vector = vector_entry_point("pricegym/Markdown-v0")
personalized_discount_vector = vector_entry_point("pricegym/PersonalizedDiscount-v0")
competition_vector = vector_entry_point("pricegym/Competition-v0")
