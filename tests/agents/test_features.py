"""The layout features extractor: shapes per environment, with and without embeddings, gradients reaching the
shared embedding projection, its sharing across items, clear errors, pickling, and a few hundred training
steps of every SB3 algorithm on every environment."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import A2C, DQN, PPO, SAC, TD3

import pricegym.envs  # noqa: F401  (registers the environments)
from pricegym.agents.features import LayoutFeaturesExtractor, layout_policy_kwargs
from pricegym.envs import make_vec
from pricegym.envs.observation import markdown_layout

MARKDOWN, DISCOUNT, COMPETITION = "pricegym/Markdown-v0", "pricegym/PersonalizedDiscount-v0", "pricegym/Competition-v0"
ENV_IDS = [MARKDOWN, DISCOUNT, COMPETITION]
HORIZON = 12
EMBEDDING_DIM = 4
ITEMS = {MARKDOWN: 1, DISCOUNT: 2, COMPETITION: 1}  # embedding items in one observation (default K = 1)


def _options(world, **extra) -> dict:
    return {"world": world, "horizon": HORIZON, "embedding_dim": EMBEDDING_DIM, **extra}


def _extractor(env_id: str, world, **options) -> tuple[LayoutFeaturesExtractor, gym.Env]:
    env = gym.make(env_id, **_options(world, **options))
    return LayoutFeaturesExtractor(env.observation_space, env.unwrapped.observation_layout), env


def _observations(env: gym.Env, n: int) -> torch.Tensor:
    """``n`` observations met along a random episode (so embeddings and numbers vary)."""
    rows, (observation, _) = [], env.reset(seed=0)
    env.action_space.seed(0)
    while len(rows) < n:
        rows.append(observation)
        observation, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            observation, _ = env.reset()
    return torch.as_tensor(np.stack(rows))


@pytest.mark.parametrize("embeddings", [True, False], ids=["embeddings", "no-embeddings"])
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_output_shape_per_environment_with_and_without_embeddings(env_id, embeddings, small_world_config):
    extractor, env = _extractor(env_id, small_world_config, observe_embeddings=embeddings)
    layout = env.unwrapped.observation_layout
    items = ITEMS[env_id] if embeddings else 0
    assert extractor.n_items == items and (extractor.projection is None) == (not embeddings)
    assert extractor.features_dim == items * 16 + 64
    assert extractor(_observations(env, 5)).shape == (5, extractor.features_dim)
    assert layout.embedding_dim == (EMBEDDING_DIM if embeddings else 0)


def test_k_products_go_through_the_same_weights_and_sizes_follow_the_arguments(small_world_config):
    env = gym.make(MARKDOWN, **_options(small_world_config, n_products=3))
    extractor = LayoutFeaturesExtractor(env.observation_space, env.unwrapped.observation_layout,
                                        embedding_projection=5, numeric_hidden=7)
    assert extractor.n_items == 3 and extractor.features_dim == 3 * 5 + 7
    assert extractor.projection.weight.shape == (5, EMBEDDING_DIM)  # one projection, not one per product
    assert extractor(_observations(env, 4)).shape == (4, 22)


def test_gradients_reach_the_embedding_projection(small_world_config):
    extractor, env = _extractor(DISCOUNT, small_world_config)
    extractor(_observations(env, 8)).pow(2).sum().backward()
    for parameter in (extractor.projection.weight, extractor.projection.bias, extractor.numeric[0].weight):
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0


def test_the_projection_is_shared_permuting_two_products_permutes_their_features():
    layout = markdown_layout(n_products=3, embedding_dim=EMBEDDING_DIM)
    extractor = LayoutFeaturesExtractor(layout.space(), layout)
    observations = torch.randn(6, layout.size)
    swapped = observations.clone()
    first, second = slice(0, EMBEDDING_DIM), slice(2 * EMBEDDING_DIM, 3 * EMBEDDING_DIM)  # products 0 and 2
    swapped[:, first], swapped[:, second] = observations[:, second], observations[:, first]
    with torch.no_grad():
        projected, projected_swapped = extractor.project_embeddings(observations), extractor.project_embeddings(swapped)
        features, features_swapped = extractor(observations), extractor(swapped)
    torch.testing.assert_close(projected_swapped, projected[:, [2, 1, 0]])
    torch.testing.assert_close(features_swapped[:, 48:], features[:, 48:])  # numeric features untouched
    torch.testing.assert_close(features_swapped[:, :16], features[:, 32:48])
    # the same embedding in two slots gives the same projected features
    swapped[:, first] = swapped[:, second]
    with torch.no_grad():
        same = extractor.project_embeddings(swapped)
    torch.testing.assert_close(same[:, 0], same[:, 2])


def test_a_layout_that_does_not_match_the_space_raises_one_line():
    layout = markdown_layout(n_products=2, embedding_dim=EMBEDDING_DIM)
    other = markdown_layout(n_products=3, embedding_dim=EMBEDDING_DIM)
    with pytest.raises(ValueError, match="does not match the observation space") as error:
        LayoutFeaturesExtractor(other.space(), layout)
    assert "\n" not in str(error.value)
    for space, wrong in ((gym.spaces.Discrete(3), layout), (layout.space(), {"parts": ()})):
        with pytest.raises(ValueError) as error:
            LayoutFeaturesExtractor(space, wrong)
        assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match="embedding_projection must be a positive integer"):
        LayoutFeaturesExtractor(layout.space(), layout, embedding_projection=0)


def test_policy_kwargs_name_the_extractor_and_survive_save_and_load(small_world_config, tmp_path):
    options = _options(small_world_config, n_products=2)
    kwargs = layout_policy_kwargs(MARKDOWN, **options)
    assert kwargs["features_extractor_class"] is LayoutFeaturesExtractor
    assert kwargs["features_extractor_kwargs"]["layout"] == gym.make(MARKDOWN, **options).unwrapped.observation_layout
    vec_env = make_vec(MARKDOWN, 4, seed=0, **options)
    model = PPO("MlpPolicy", vec_env, n_steps=16, batch_size=32, n_epochs=1, policy_kwargs=kwargs, seed=0,
                device="cpu")
    model.learn(64)
    model.save(tmp_path / "model")
    loaded = PPO.load(tmp_path / "model", device="cpu")
    assert isinstance(loaded.policy.features_extractor, LayoutFeaturesExtractor)
    assert loaded.policy.features_extractor.layout == kwargs["features_extractor_kwargs"]["layout"]
    observations = vec_env.reset()
    np.testing.assert_array_equal(loaded.predict(observations, deterministic=True)[0],
                                  model.predict(observations, deterministic=True)[0])


ON_POLICY = {"n_steps": 16}
OFF_POLICY = {"learning_starts": 32, "buffer_size": 1_000, "batch_size": 32, "train_freq": 4}
RUNS = [(PPO, "box", {**ON_POLICY, "batch_size": 32, "n_epochs": 2}), (A2C, "box", ON_POLICY),
        (SAC, "box", OFF_POLICY), (TD3, "box", OFF_POLICY),
        (DQN, "ladder", {**OFF_POLICY, "target_update_interval": 50}),
        (PPO, "ladder", {**ON_POLICY, "batch_size": 32, "n_epochs": 2}), (A2C, "ladder", ON_POLICY)]


@pytest.mark.parametrize(("algo", "action_space", "settings"), RUNS,
                         ids=[f"{algo.__name__}-{space}" for algo, space, _ in RUNS])
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_each_algorithm_trains_a_few_hundred_steps_on_each_environment(env_id, algo, action_space, settings,
                                                                      small_world_config):
    options = _options(small_world_config, action_space=action_space)
    vec_env = make_vec(env_id, 4, seed=0, **options)
    model = algo("MlpPolicy", vec_env, policy_kwargs=layout_policy_kwargs(env_id, **options), seed=0,
                 device="cpu", **settings)
    extractors = [module for module in model.policy.modules() if isinstance(module, LayoutFeaturesExtractor)]
    assert extractors and all(extractor.n_items == ITEMS[env_id] for extractor in extractors)
    projections = [extractor.projection.weight.detach().clone() for extractor in extractors]
    model.learn(320)
    assert model.num_timesteps >= 320
    assert any(not torch.equal(before, extractor.projection.weight)  # training moved the shared projection
               for before, extractor in zip(projections, extractors, strict=True))
    actions, _ = model.predict(vec_env.reset(), deterministic=True)
    assert vec_env.action_space.contains(actions[0])
