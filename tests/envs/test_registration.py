"""Every environment is registered, and runs under SB3's vectorised environments."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from pricegym.envs import (
    COMPETITION_ID,
    MARKDOWN_ID,
    PERSONALIZED_DISCOUNT_ID,
    CompetitionConfig,
    CompetitionEnv,
    MarkdownConfig,
    MarkdownEnv,
    PersonalizedDiscountConfig,
    PersonalizedDiscountEnv,
)


@pytest.mark.parametrize("env_id", [MARKDOWN_ID, PERSONALIZED_DISCOUNT_ID, COMPETITION_ID])
def test_registered_and_made_with_keyword_options(env_id, small_world_config):
    env = gym.make(env_id, world=small_world_config)
    observation, _ = env.reset(seed=0)
    assert env.observation_space.contains(observation)
    assert env.unwrapped.spec.id == env_id


@pytest.mark.parametrize("env_class, config_class", [(MarkdownEnv, MarkdownConfig),
                                                     (PersonalizedDiscountEnv, PersonalizedDiscountConfig),
                                                     (CompetitionEnv, CompetitionConfig)])
def test_works_under_sb3_vector_envs(env_class, config_class, small_world_config):
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    for vec_env_cls in (DummyVecEnv, SubprocVecEnv):
        vec_env = make_vec_env(env_class, n_envs=2, seed=0, vec_env_cls=vec_env_cls,
                               env_kwargs={"config": config_class(world=small_world_config)})
        observations = vec_env.reset()
        for _ in range(40):
            observations, rewards, _, _ = vec_env.step(np.array([vec_env.action_space.sample() for _ in range(2)]))
        assert observations.shape == (2, *vec_env.observation_space.shape) and np.all(np.isfinite(rewards))
        vec_env.close()


@pytest.mark.parametrize("env_class, config_class", [(PersonalizedDiscountEnv, PersonalizedDiscountConfig),
                                                     (CompetitionEnv, CompetitionConfig)])
def test_random_play_keeps_every_number_finite_and_in_space(env_class, config_class, small_world_config):
    env = env_class(config_class(world=small_world_config))
    observation, _ = env.reset(seed=0)
    for _ in range(2_000):
        observation, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert np.isfinite(reward) and env.observation_space.contains(observation)
        if terminated or truncated:
            observation, _ = env.reset()
