"""At the edge of every documented numeric range, 10,000 random steps stay finite.

The cases are generated from the configs' own ranges (:func:`pricegym.config_checks.numeric_ranges`),
so a field added later is covered without editing this file.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import pricegym.envs  # noqa: F401  (registers the environments)
from pricegym.config_checks import NumericRange, numeric_ranges
from pricegym.envs import CompetitionConfig, MarkdownConfig, PersonalizedDiscountConfig
from pricegym.errors import ConfigError

STEPS = 10_000
ENV_CONFIGS = {"pricegym/Markdown-v0": MarkdownConfig, "pricegym/PersonalizedDiscount-v0": PersonalizedDiscountConfig,
               "pricegym/Competition-v0": CompetitionConfig}
SHORT = {"pricegym/Markdown-v0": {"horizon": 20}, "pricegym/PersonalizedDiscount-v0": {"horizon": 100},
         "pricegym/Competition-v0": {"horizon": 20}}
"""Every case but the horizon's own keeps episodes short, so that the steps cross many resets."""

WORLD_TOO_SMALL = {
    ("pricegym/Markdown-v0", "n_products", "high"),
    ("pricegym/PersonalizedDiscount-v0", "n_products", "high"),
    ("pricegym/PersonalizedDiscount-v0", "n_customers", "high"),
}
"""Edges the small test world cannot serve (more products or customers than it has): these must be
refused at construction with a ConfigError, the others must run."""


def edge_value(valid: NumericRange, side: str) -> float:
    """The bound itself, or the nearest representable value inside an open bound."""
    if side == "low":
        return math.nextafter(valid.low, math.inf) if valid.low_open else valid.low
    return math.nextafter(valid.high, -math.inf) if valid.high_open else valid.high


def edge_cases() -> list:
    cases = []
    for env_id, config_class in ENV_CONFIGS.items():
        for name, valid in numeric_ranges(config_class).items():
            for side in ("low", "high"):
                cases.append(pytest.param(env_id, name, side, edge_value(valid, side),
                                          id=f"{env_id.split('/')[1]}-{name}-{side}"))
    return cases


def _finite_numbers(info: dict) -> bool:
    for value in info.values():
        if isinstance(value, int | float | np.ndarray | list) and not isinstance(value, bool):
            array = np.asarray(value)
            if array.dtype.kind in "fi" and not np.isfinite(array).all():
                return False
    return True


@pytest.mark.parametrize("env_id, name, side, value", edge_cases())
def test_random_steps_at_the_edge_of_every_range_stay_finite(env_id, name, side, value, small_world_config):
    config_type = int if isinstance(getattr(ENV_CONFIGS[env_id](), name), int) or name == "initial_inventory" else float
    options = {**SHORT[env_id], name: config_type(value)}
    if name == "horizon":
        options[name] = config_type(value)
    try:
        env = gym.make(env_id, world=small_world_config, **options)
    except ConfigError:
        assert (env_id, name, side) in WORLD_TOO_SMALL, f"{name}={value} refused although documented as valid"
        return
    assert (env_id, name, side) not in WORLD_TOO_SMALL
    env.action_space.seed(0)
    observation, info = env.reset(seed=0)
    assert np.isfinite(observation).all()
    for _ in range(STEPS):
        observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert np.isfinite(observation).all() and math.isfinite(reward) and _finite_numbers(info), (name, value, info)
        assert env.observation_space.contains(observation), (name, value)
        if terminated or truncated:
            observation, info = env.reset()
