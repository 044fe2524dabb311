"""The two adapters over the batched cores: SB3's VecEnv conventions and Gymnasium's VectorEnv."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

import pricegym.envs
from pricegym.envs.vector import BatchedVecEnv, BatchedVectorEnv, make_batched
from pricegym.errors import ConfigError

ENV_IDS = ["pricegym/Markdown-v0", "pricegym/PersonalizedDiscount-v0", "pricegym/Competition-v0"]
HORIZON = 12


def _options(small_world_config, **extra) -> dict:
    return {"world": small_world_config, "horizon": HORIZON, **extra}


def _random_actions(space: gym.Space, batch: int, seed: int) -> np.ndarray:
    space.seed(seed)
    return np.stack([space.sample() for _ in range(batch)])


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_sb3_vec_env_resets_ended_episodes_in_the_same_step_and_keeps_the_final_observation(env_id,
                                                                                            small_world_config):
    vec_env = pricegym.envs.make_vec(env_id, n_envs=4, seed=0, **_options(small_world_config))
    assert isinstance(vec_env, BatchedVecEnv) and vec_env.num_envs == 4
    observations = vec_env.reset()
    assert observations.shape == (4, *vec_env.observation_space.shape)
    ended = 0
    for step in range(3 * HORIZON):
        observations, rewards, dones, infos = vec_env.step(_random_actions(vec_env.action_space, 4, step))
        assert rewards.shape == (4,) and dones.dtype == bool and len(infos) == 4
        for slot in np.flatnonzero(dones):
            final = infos[slot]["terminal_observation"]
            assert vec_env.observation_space.contains(final) and not infos[slot]["TimeLimit.truncated"]
            assert not np.array_equal(final, observations[slot])  # the next episode's first observation
            ended += 1
        assert all("terminal_observation" not in infos[slot] for slot in np.flatnonzero(~dones))
    assert ended >= 4


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_seeded_vec_env_plays_the_single_environments_episodes(env_id, small_world_config):
    """``seed(s)`` gives episode i the seed s + i: its whole episode equals gym.make's under that seed."""
    options = _options(small_world_config)
    vec_env = pricegym.envs.make_vec(env_id, n_envs=3, **options)
    vec_env.seed(40)
    batch_observations = vec_env.reset()
    actions = [_random_actions(vec_env.action_space, 3, step) for step in range(HORIZON)]
    batch_rewards, alive = [], np.ones(3, dtype=bool)
    for step_actions in actions:
        _, rewards, dones, _ = vec_env.step(step_actions)
        batch_rewards.append(np.where(alive, rewards, np.nan))
        alive &= ~dones
    for slot in range(3):
        env = gym.make(env_id, **options)
        observation, _ = env.reset(seed=40 + slot)
        np.testing.assert_allclose(observation, batch_observations[slot], rtol=1e-6, atol=1e-6)
        for step, step_actions in enumerate(actions):
            if np.isnan(batch_rewards[step][slot]):
                break
            _, reward, terminated, truncated, _ = env.step(step_actions[slot])
            assert reward == pytest.approx(float(np.float32(batch_rewards[step][slot])), rel=1e-6, abs=1e-4)
            if terminated or truncated:
                break


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_ppo_learns_on_the_batched_vec_env_with_vec_normalize(env_id, small_world_config):
    vec_env = VecNormalize(VecMonitor(pricegym.envs.make_vec(env_id, n_envs=8, seed=1, **_options(small_world_config))))
    model = PPO("MlpPolicy", vec_env, n_steps=16, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=256)
    assert model.num_timesteps >= 256
    mean_return, _ = evaluate_policy(model, vec_env, n_eval_episodes=4, warn=False)
    assert np.isfinite(mean_return)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_make_vec_uses_the_batched_core(env_id, small_world_config):
    envs = gym.make_vec(env_id, num_envs=4, vectorization_mode="vector_entry_point", **_options(small_world_config))
    assert isinstance(envs, BatchedVectorEnv) and envs.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
    observations, _ = envs.reset(seed=7)
    assert envs.observation_space.contains(observations)
    single = gym.make(env_id, **_options(small_world_config))
    np.testing.assert_allclose(observations[2], single.reset(seed=9)[0], rtol=1e-6, atol=1e-6)
    finals = 0
    for _ in range(3 * HORIZON):
        observations, rewards, terminated, truncated, infos = envs.step(envs.action_space.sample())
        ended = terminated | truncated
        if ended.any():
            assert np.array_equal(infos["_final_obs"], ended)
            for slot in np.flatnonzero(ended):
                assert envs.single_observation_space.contains(infos["final_obs"][slot])
            finals += int(ended.sum())
        assert envs.observation_space.contains(observations) and np.all(np.isfinite(rewards))
    assert finals >= 4


def test_an_unknown_environment_or_batch_size_is_one_config_error(small_world_config):
    with pytest.raises(ConfigError, match="no batched core for 'pricegym/Nothing-v0'"):
        make_batched("pricegym/Nothing-v0", 4)
    with pytest.raises(ConfigError, match="num_envs must be an integer in \\[1, 65,536\\]; got 0"):
        make_batched("pricegym/Markdown-v0", 0, world=small_world_config)


def test_per_episode_attributes_cannot_be_set_on_a_shared_config(small_world_config):
    vec_env = pricegym.envs.make_vec("pricegym/Markdown-v0", n_envs=2, **_options(small_world_config))
    assert vec_env.get_attr("render_mode") == [None, None]
    with pytest.raises(AttributeError, match="share one config"):
        vec_env.set_attr("horizon", 5)
