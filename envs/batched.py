"""The batched core of an environment: B independent episodes held as arrays and stepped at once.

Every environment has one (:class:`~pricegym.envs.markdown_batch.MarkdownBatch`, ...), and two thin
adapters put it behind the usual interfaces (:mod:`pricegym.envs.vector`): an SB3 ``VecEnv`` and a
Gymnasium ``VectorEnv``.

The contract of a core (what the adapters and the tests rely on):

* **Same dynamics, draws and rewards as the single environment.** A slot reset with a seed plays
  exactly the episode that the single environment plays after ``reset(seed=seed)``: the same
  observations and rewards, to float tolerance, for the same actions.
* **Unseeded resets are fast.** A slot reset without a seed starts a fresh episode drawn from the
  core's own generator (``seed`` at construction); the draws of all such slots are made together,
  from the same distributions as the single environment's, but not from its random stream.
* **Common random numbers stay.** Everything random is drawn at reset, never depending on actions.
* **Arrays in, arrays out.** ``step`` takes a batch of actions in the single action space's format
  (``[B, *shape]`` for a box, ``[B]`` integers for a ladder), checks them all at once (a bad one
  raises ``ValueError`` naming its slot), and returns ``observations [B, D]`` float32,
  ``rewards [B]`` float64, ``terminated [B]`` and ``truncated [B]`` bools and ``infos``, a dict of
  ``[B]``-leading arrays. Slots whose episode ended must be reset before the next ``step``
  (both adapters reset them in the same step and keep the final observation).
* **What a rule may read beyond the observation** comes from :meth:`BatchedEnv.policy_context`:
  per-slot arrays documented by each core, and the shared ``market`` and ``config`` for rules that
  plan with the environment's model; never from a core's private arrays.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from pricegym.envs.observation import FeatureLayout
from pricegym.errors import ConfigError

MAX_BATCH = 65_536
"""Episodes one core holds at most."""


class BatchedEnv(ABC):
    """B episodes of one environment as arrays (see the module docstring for the contract).

    Args:
        num_envs: B, the episodes stepped together.
        config: the single environment's config (or a dict of its options, or None for the defaults).
        seed: seeds the core's own generator, which draws the episodes of unseeded resets.
        **overrides: config options, as for ``gym.make(env_id, **overrides)``.

    Attributes:
        single_env: the single environment of the same config, from which spaces, layout, market and
            seeded draws are taken (never stepped by the core).
        single_observation_space, single_action_space, observation_layout: the single env's.
        np_random: the core's generator.
    """

    env_name: str = "environment"
    env_class: type[gym.Env]

    def __init__(self, num_envs: int, config: Any = None, seed: int | None = None, **overrides: Any) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int | np.integer) or not 1 <= num_envs <= MAX_BATCH:
            raise ConfigError(f"{self.env_name}: num_envs must be an integer in [1, {MAX_BATCH:,}]; got {num_envs!r}")
        self.num_envs = int(num_envs)
        self.single_env = self.env_class(config, **overrides)
        self.config = self.single_env.config
        self.single_observation_space = self.single_env.observation_space
        self.single_action_space = self.single_env.action_space
        self.np_random = np.random.default_rng(seed)

    @property
    def observation_layout(self) -> FeatureLayout:
        """The named parts of one episode's observation (the single environment's layout)."""
        return self.single_env.observation_layout

    @abstractmethod
    def reset(self, seeds: Sequence[int | None] | None = None,
              mask: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Start new episodes in the slots of ``mask`` (all when None).

        ``seeds`` (length B, or None) gives each slot's seed; a slot with a seed plays the single
        environment's episode under that seed, a slot without one a fresh episode from ``np_random``.
        Returns the observations of all B slots (the others unchanged) and a dict of per-slot arrays.
        """

    @abstractmethod
    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Every slot's episode moves one step; returns observations, rewards, terminated, truncated, infos."""

    def policy_context(self) -> dict[str, Any]:
        """What a rule may know beyond the observation: per-slot arrays (each core documents its keys) and the
        shared, read-only :meth:`shared_context`."""
        return self.shared_context()

    def shared_context(self) -> dict[str, Any]:
        """The entries every slot shares, for rules that plan with the environment's model: ``market`` (its
        demand source, ground truth or fitted tables, and calendar) and ``config``. Read-only, not arrays."""
        return {"market": self.single_env.market, "config": self.config}


def checked_seeds(env_name: str, seeds: Sequence[int | None] | None, num_envs: int) -> list[int | None]:
    """``seeds`` as a list of B seeds or Nones (None: no seeds); ConfigError for a wrong length or a bad seed."""
    from pricegym.envs.input_checks import checked_seed

    if seeds is None:
        return [None] * num_envs
    seeds = list(seeds)
    if len(seeds) != num_envs:
        raise ConfigError(f"{env_name}: expected one seed (or None) per episode, {num_envs} in all; got {len(seeds)}")
    return [None if seed is None else checked_seed(env_name, seed) for seed in seeds]


def checked_mask(env_name: str, mask: np.ndarray | None, num_envs: int) -> np.ndarray:
    """``mask`` as a bool array of B entries (all True for None)."""
    if mask is None:
        return np.ones(num_envs, dtype=bool)
    mask = np.asarray(mask)
    if mask.shape != (num_envs,) or mask.dtype != bool:
        raise ValueError(f"{env_name}: the reset mask must be a bool array of shape ({num_envs},); got dtype "
                         f"{mask.dtype} and shape {mask.shape}")
    return mask
