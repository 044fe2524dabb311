"""The LM embeddings every environment observes (under either demand source), their PCA reduction, the
ablation flag, and the public observation layout."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from pricegym.encoders.text_encoder import TextEncoder, TextEncoderConfig
from pricegym.encoders.tiny_bert import TINY_BERT_NAME, tiny_bert
from pricegym.envs import CompetitionEnv, MarkdownEnv, PersonalizedDiscountEnv
from pricegym.envs.embeddings import fit_reduction

ENVS = (MarkdownEnv, PersonalizedDiscountEnv, CompetitionEnv)
IDS = {MarkdownEnv: "pricegym/Markdown-v0", PersonalizedDiscountEnv: "pricegym/PersonalizedDiscount-v0",
       CompetitionEnv: "pricegym/Competition-v0"}
TINY = TextEncoderConfig(model_name=TINY_BERT_NAME, device="cpu")


@pytest.fixture(scope="module")
def tiny_options(small_world_config, tmp_path_factory) -> dict:
    return {"world": small_world_config, "text_encoder": TINY,
            "embedding_cache_dir": tmp_path_factory.mktemp("embedding-cache")}


def _direct_encoder(market) -> TextEncoder:
    """The tiny encoder built independently of the environment (and of the embedding cache)."""
    model, tokenizer = tiny_bert(tuple(sorted(set(market.customer_texts))) + market.product_texts, seed=0)
    return TextEncoder.from_model(model, tokenizer, TINY)


def _observed_items(env, info) -> list[tuple[str, str]]:
    """(embedding part, text) of what the first decision is about."""
    env, market = env.unwrapped, env.unwrapped.market
    if isinstance(env, PersonalizedDiscountEnv):
        return [("customer_embedding", market.customer_texts[info["customers"][env.visitors[0]]]),
                ("product_embedding", market.product_texts[info["products"][env.viewed[0]]])]
    name = "product_embeddings" if isinstance(env, MarkdownEnv) else "product_embedding"
    return [(name, [market.product_texts[product] for product in info["products"]])]


@pytest.mark.parametrize("pool", ["train", "cold_start"])
@pytest.mark.parametrize("env_class", ENVS, ids=lambda cls: cls.__name__)
def test_the_embedding_part_is_the_encoders_embedding_through_the_reduction(env_class, pool, tiny_options):
    env = env_class(**tiny_options, embedding_dim=4, product_pool=pool)
    observation, info = env.reset(seed=3)
    reduction = env.embedding_reduction
    assert reduction.dimension == 4 and 0.0 < reduction.explained_variance <= 1.0
    if pool == "cold_start":  # cold-start products: embeddings from their text alone, like any other
        assert np.isin(info["products"], env.market.cold_start_products).all()
    encoder = _direct_encoder(env.market)
    for part, texts in _observed_items(env, info):
        texts = [texts] if isinstance(texts, str) else texts
        expected = reduction.transform(encoder.encode(texts)).ravel()
        np.testing.assert_allclose(observation[env.observation_layout[part].slice], expected, atol=1e-4)


@pytest.mark.parametrize("env_class", ENVS, ids=lambda cls: cls.__name__)
def test_full_vectors_and_pca_reductions(env_class, tiny_options):
    full = env_class(**tiny_options, embedding_dim=None)
    assert full.embedding_reduction.dimension == 32 and full.embedding_reduction.explained_variance == 1.0
    assert full.observation_layout.embedding_dim == 32
    explained = [env_class(**tiny_options, embedding_dim=k).embedding_reduction.explained_variance for k in (2, 8, 31)]
    assert explained == sorted(explained) and explained[-1] > 0.99


def test_the_pca_is_deterministic_and_whitened():
    rng = np.random.default_rng(0)
    products, customers = rng.normal(size=(30, 10)) * np.arange(1, 11), rng.normal(size=(200, 10))
    first, second = fit_reduction(products, customers, 3, "a"), fit_reduction(products.copy(), customers.copy(), 3, "a")
    np.testing.assert_array_equal(first.transform(products), second.transform(products))
    reduced = np.concatenate([first.transform(products), first.transform(customers)])
    weights = np.r_[np.full(30, 0.5 / 30), np.full(200, 0.5 / 200)]
    np.testing.assert_allclose(weights @ reduced, 0.0, atol=1e-6)
    np.testing.assert_allclose(weights @ reduced ** 2, 1.0, atol=1e-5)


@pytest.mark.parametrize("env_class", ENVS, ids=lambda cls: cls.__name__)
def test_the_ablation_flag_removes_the_embeddings_and_nothing_else(env_class, tiny_options):
    with_embeddings = env_class(**tiny_options, embedding_dim=4)
    without = env_class(**tiny_options, observe_embeddings=False)
    assert without.embedding_reduction is None and without.observation_layout.embedding_parts() == ()
    embedded = sum(part.size for part in with_embeddings.observation_layout.embedding_parts())
    assert embedded > 0 and without.observation_space.shape[0] == with_embeddings.observation_space.shape[0] - embedded
    first, _ = with_embeddings.reset(seed=1)
    second, _ = without.reset(seed=1)
    layout = with_embeddings.observation_layout
    for part in without.observation_layout.parts:
        if part.size:
            np.testing.assert_array_equal(second[part.slice], first[layout[part.name].slice])


@pytest.mark.parametrize("env_class", ENVS, ids=lambda cls: cls.__name__)
def test_the_layout_is_public_contiguous_and_in_the_docstring(env_class, tiny_options):
    env = gym.make(IDS[env_class], **tiny_options, embedding_dim=4)
    layout = env.unwrapped.observation_layout
    assert layout.size == env.observation_space.shape[0]
    space = layout.space()
    np.testing.assert_array_equal(space.low, env.observation_space.low)
    np.testing.assert_array_equal(space.high, env.observation_space.high)
    start = 0
    for part in layout.parts:
        assert part.start == start and part.meaning
        assert f"| {part.name} |" in env_class.__doc__  # each env's docstring shows its layout
        start += part.size
    assert [part.name for part in layout.embedding_parts()] == [name for name in layout.names() if "embedding" in name]
    assert all(part.size % layout.embedding_dim == 0 for part in layout.embedding_parts())
    assert layout.describe().count("\n") == len(layout.parts) + 1


def _observations_digest(options: dict) -> str:
    digests = {}
    for env_class in ENVS:
        env = env_class(**options, embedding_dim=4)
        observation, _ = env.reset(seed=11)
        steps = [observation]
        for _ in range(3):
            steps.append(env.step(np.zeros(env.action_space.shape, np.float32))[0])
        digests[env_class.__name__] = np.round(np.stack(steps), 5).tolist()
    return json.dumps(digests)


def test_the_same_seed_gives_the_same_observations_across_processes(tiny_options):
    here = _observations_digest(tiny_options)
    assert here == _observations_digest(tiny_options)
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from test_observed_embeddings import TINY, _observations_digest\n"
        "sys.path.insert(0, str(Path(sys.argv[1]).parent))\n"
        "from conftest import SMALL_WORLD\n"
        "print(_observations_digest({'world': SMALL_WORLD, 'text_encoder': TINY,"
        " 'embedding_cache_dir': Path(sys.argv[2])}))\n"
    )
    from pathlib import Path
    folder = str(Path(__file__).parent)
    there = subprocess.run([sys.executable, "-c", script, folder, str(tiny_options["embedding_cache_dir"]) + "-other"],
                           capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    assert there == here


COMBINATIONS = [(env_class, source, embedding, action_space) for env_class in ENVS
                for source in ("ground_truth", "fitted") for embedding in ("full", "pca", "off")
                for action_space in ("box", "ladder")]


@pytest.mark.parametrize(("env_class", "source", "embedding", "action_space"), COMBINATIONS,
                         ids=[f"{c.__name__}-{s}-{e}-{a}" for c, s, e, a in COMBINATIONS])
def test_both_checkers_pass_with_warnings_as_errors(env_class, source, embedding, action_space, tiny_options,
                                                     tables_run):
    options = {**tiny_options, "action_space": action_space,
               **({"demand_source": "fitted", "demand_run": tables_run} if source == "fitted" else {}),
               **{"full": {"embedding_dim": None}, "pca": {"embedding_dim": 5},
                  "off": {"observe_embeddings": False}}[embedding]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(env_class(**options), skip_render_check=True)
        sb3_check_env(env_class(**options), warn=True)
    env = env_class(**options)
    expected = {"full": 32 if source == "ground_truth" else 12, "pca": 5, "off": 0}[embedding]
    assert env.observation_layout.embedding_dim == expected
