"""The lazy text encoder: its cache key without the model equals the loaded encoder's, a process whose
texts are all cached loads no model, and a missing text loads it and gives the eager path's vectors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from transformers import BertModel

from pricegym.encoders import CachedTextEncoder, EmbeddingCache, TextEncoder, TextEncoderConfig, cache_key
from pricegym.encoders import lazy_text_encoder as lazy_module
from pricegym.encoders import text_encoder as text_encoder_module
from pricegym.encoders.lazy_text_encoder import MEMO_FILE, LazyTextEncoder, describe_local_model
from pricegym.encoders.tiny_bert import TINY_BERT_NAME
from pricegym.envs import embeddings as env_embeddings
from pricegym.errors import ConfigError

TEXTS = ["cheap plastic phone case", "glass water bottle", "yoga mat", "premium oak cutting board"]


@pytest.fixture(autouse=True)
def fresh_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with an empty in-process memo (the sidecar files are per test folder)."""
    monkeypatch.setattr(lazy_module, "_MEMO", {})


@pytest.fixture()
def tiny_dir(tmp_path: Path, tiny_encoder: TextEncoder) -> Path:
    """The tiny BERT saved as a local model folder (config.json, safetensors, tokenizer files)."""
    folder = tmp_path / "tiny-model"
    tiny_encoder.model.save_pretrained(folder)
    tiny_encoder.tokenizer.save_pretrained(folder)
    return folder


def tiny_config(folder: Path, **changes) -> TextEncoderConfig:
    return TextEncoderConfig(**{"model_name": str(folder), "device": "cpu", "batch_size": 3, **changes})


def forbid_loading(monkeypatch: pytest.MonkeyPatch, tokenizer_too: bool = True) -> None:
    """Make any load of a model's weights (and, with ``tokenizer_too``, of its tokenizer) fail the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(text_encoder_module, "_load", refuse)
    if tokenizer_too:
        monkeypatch.setattr(lazy_module, "_describe_from_files", refuse)


# --- (1) the lazy key is the eager key ------------------------------------------------------------------


@pytest.mark.parametrize("changes", [{}, {"pooling": "cls", "max_length": 16}])
@pytest.mark.parametrize("run_id", [None, "fine-tuned-run-1"])
def test_lazy_key_equals_eager_key_for_a_local_folder(tmp_path: Path, tiny_dir: Path, changes, run_id) -> None:
    config = tiny_config(tiny_dir, **changes)
    lazy = LazyTextEncoder.from_config(config, run_id=run_id, memo_file=tmp_path / MEMO_FILE)

    assert lazy is not None and not lazy.loaded
    eager = TextEncoder(config, run_id=run_id)
    assert cache_key(lazy) == cache_key(eager)
    assert "weights=files:" in lazy.identity and lazy.hidden_size == 32
    assert not lazy.loaded


@pytest.mark.parametrize("name", ["all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"])
def test_lazy_key_equals_eager_key_for_the_packaged_minilm(tmp_path: Path, name: str) -> None:
    config = TextEncoderConfig(model_name=name, device="cpu")
    lazy = LazyTextEncoder.from_config(config, memo_file=tmp_path / MEMO_FILE)

    assert lazy is not None and not lazy.loaded
    assert cache_key(lazy) == cache_key(TextEncoder(config))
    assert cache_key(lazy)["hidden_size"] == 384 and lazy.identity.startswith("all-MiniLM-L6-v2|weights=files:")


def test_the_sidecar_gives_the_key_in_a_new_process_without_the_tokenizer(tmp_path: Path, tiny_dir: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    memo = tmp_path / "cache" / MEMO_FILE
    first = LazyTextEncoder.from_config(tiny_config(tiny_dir), memo_file=memo)
    stored = json.loads(memo.read_text())["models"]
    assert list(stored) == [str(tiny_dir.resolve())]

    monkeypatch.setattr(lazy_module, "_MEMO", {})  # as in a new process
    forbid_loading(monkeypatch)
    second = LazyTextEncoder.from_config(tiny_config(tiny_dir), memo_file=memo)

    assert second is not None and cache_key(second) == cache_key(first)


def test_a_changed_file_is_described_again(tmp_path: Path, tiny_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = lazy_module._describe_from_files
    monkeypatch.setattr(lazy_module, "_describe_from_files", lambda folder: calls.append(folder) or original(folder))
    memo = tmp_path / MEMO_FILE

    before = describe_local_model(str(tiny_dir), memo)
    assert describe_local_model(str(tiny_dir), memo) == before and len(calls) == 1  # memoised
    model = BertModel.from_pretrained(tiny_dir)
    model.embeddings.word_embeddings.weight.data[0] += 1.0
    model.save_pretrained(tiny_dir)  # same size, new bytes and modification time

    after = describe_local_model(str(tiny_dir), memo)
    assert len(calls) == 2 and after.weights != before.weights
    assert cache_key(LazyTextEncoder.from_config(tiny_config(tiny_dir), memo_file=memo)) == \
        cache_key(TextEncoder(tiny_config(tiny_dir)))


def test_a_corrupt_sidecar_is_ignored_and_rewritten(tmp_path: Path, tiny_dir: Path) -> None:
    memo = tmp_path / MEMO_FILE
    memo.write_text("{not json")
    lazy = LazyTextEncoder.from_config(tiny_config(tiny_dir), memo_file=memo)

    assert lazy is not None and cache_key(lazy) == cache_key(TextEncoder(tiny_config(tiny_dir)))
    assert str(tiny_dir.resolve()) in json.loads(memo.read_text())["models"]


# --- (2) every text cached: no model is loaded ----------------------------------------------------------


@pytest.mark.parametrize("sidecar", [True, False], ids=["sidecar", "cache-filled-before-any-sidecar"])
def test_all_texts_cached_loads_no_model(tmp_path: Path, tiny_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                         sidecar: bool) -> None:
    cache_dir = tmp_path / "cache"
    expected = CachedTextEncoder(TextEncoder(tiny_config(tiny_dir)), cache_dir).embed(TEXTS)
    if sidecar:
        LazyTextEncoder.from_config(tiny_config(tiny_dir), memo_file=cache_dir / MEMO_FILE)
    monkeypatch.setattr(lazy_module, "_MEMO", {})
    forbid_loading(monkeypatch, tokenizer_too=sidecar)  # without the sidecar only the tokenizer is read

    cached = CachedTextEncoder.from_config(tiny_config(tiny_dir), cache_dir)
    vectors = cached.embed(TEXTS[::-1] + TEXTS[:1])

    assert isinstance(cached.encoder, LazyTextEncoder) and not cached.encoder.loaded
    np.testing.assert_array_equal(vectors, expected[[3, 2, 1, 0, 0]])
    assert cached.embed([]).shape == (0, 32)
    assert cached.cache.cached_count(cached.encoder) == len(TEXTS)


def test_an_environment_process_with_every_text_cached_never_imports_transformers(tmp_path: Path,
                                                                                  tiny_dir: Path) -> None:
    cache_dir = tmp_path / "cache"
    CachedTextEncoder.from_config(tiny_config(tiny_dir), cache_dir).embed(TEXTS)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from pricegym.encoders.text_encoder import TextEncoderConfig\n"
        "from pricegym.envs.embeddings import text_embeddings\n"
        "config = TextEncoderConfig(model_name=sys.argv[1], device='cpu')\n"
        "products, customers, source = text_embeddings(tuple(sys.argv[3:]), (), config, Path(sys.argv[2]))\n"
        "assert products.shape == (len(sys.argv) - 3, 32), products.shape\n"
        "print(source)\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'transformers'))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", script, str(tiny_dir), str(cache_dir), *TEXTS], env=env,
                          capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stderr
    source, modules = done.stdout.strip().splitlines()[-2:]
    assert source == f"text encoder {TextEncoder(tiny_config(tiny_dir)).identity}"
    assert modules == "[]"


# --- (3) a missing text loads the model -----------------------------------------------------------------


def test_a_missing_text_loads_the_model_and_matches_the_eager_path(tmp_path: Path, tiny_dir: Path) -> None:
    eager = CachedTextEncoder(TextEncoder(tiny_config(tiny_dir)), tmp_path / "eager")
    lazy = CachedTextEncoder.from_config(tiny_config(tiny_dir), tmp_path / "lazy")
    assert isinstance(lazy.encoder, LazyTextEncoder)

    np.testing.assert_array_equal(lazy.embed(TEXTS[:2]), eager.embed(TEXTS[:2]))
    assert lazy.encoder.loaded
    np.testing.assert_array_equal(lazy.embed(TEXTS), eager.embed(TEXTS))
    np.testing.assert_array_equal(lazy.embed(TEXTS), TextEncoder(tiny_config(tiny_dir)).encode(TEXTS))

    folders = [path.name for path in (tmp_path / "lazy").iterdir() if path.is_dir()]
    assert folders == [eager.cache.folder_for(eager.encoder).name]  # the eager path's key folder
    again = CachedTextEncoder.from_config(tiny_config(tiny_dir), tmp_path / "lazy")
    np.testing.assert_array_equal(again.embed(TEXTS[1:]), eager.embed(TEXTS[1:]))
    assert not again.encoder.loaded


def test_a_loaded_lazy_encoder_is_the_text_encoder(tmp_path: Path, tiny_dir: Path) -> None:
    lazy = LazyTextEncoder.from_config(tiny_config(tiny_dir), memo_file=tmp_path / MEMO_FILE)
    key = cache_key(lazy)

    assert isinstance(lazy.model, BertModel) and lazy.loaded  # any TextEncoder attribute loads it
    assert cache_key(lazy) == key and lazy.tokenize(["mug"]) == lazy.load().tokenize(["mug"])
    assert lazy.with_options(pooling="cls").config.pooling == "cls"
    assert "loaded" in repr(lazy)


def test_weights_missing_from_the_files_never_serve_vectors_by_the_file_key(tmp_path: Path, tiny_dir: Path
                                                                             ) -> None:
    model = BertModel.from_pretrained(tiny_dir)
    state = {name: tensor for name, tensor in model.state_dict().items() if "layer.1." not in name}
    model.save_pretrained(tiny_dir, state_dict=state)  # layer 1 is initialised at random on every load
    cache_dir = tmp_path / "cache"

    first = CachedTextEncoder.from_config(tiny_config(tiny_dir), cache_dir)
    file_key_folder = first.cache.folder_for(first.encoder)
    first.embed(TEXTS)

    assert first.encoder.loaded and "weights=state:" in first.identity  # the eager identity
    assert not file_key_folder.exists()
    second = CachedTextEncoder.from_config(tiny_config(tiny_dir), cache_dir)
    second.embed(TEXTS[:1])
    assert second.encoder.loaded  # not read from the first load's (random) vectors


# --- the eager path where no lazy one exists, and the same errors ----------------------------------------


def test_a_hub_name_has_no_lazy_encoder() -> None:
    config = TextEncoderConfig(model_name="some-org/some-model", device="cpu", offline=True)
    assert LazyTextEncoder.from_config(config) is None
    with pytest.raises(ConfigError, match="cannot load the config of model 'some-org/some-model'"):
        CachedTextEncoder.from_config(config, "unused")


def test_a_folder_that_cannot_be_described_loads_eagerly_with_its_error(tmp_path: Path) -> None:
    (tmp_path / "config-only").mkdir()
    (tmp_path / "config-only" / "config.json").write_text(json.dumps({"model_type": "bert"}))
    config = TextEncoderConfig(model_name=str(tmp_path / "config-only"), device="cpu")

    assert LazyTextEncoder.from_config(config) is None
    with pytest.raises(ConfigError) as eager:
        TextEncoder(config)
    with pytest.raises(ConfigError) as lazy:
        CachedTextEncoder.from_config(config, tmp_path / "cache")
    assert str(lazy.value) == str(eager.value)


@pytest.mark.parametrize(("changes", "run_id"), [
    ({"max_length": 200}, None),  # the tiny model has 128 positions
    ({}, ""),
    ({"device": "cuda:99"}, None),
    ({"model_name": "./no-such-folder/"}, None),
])
def test_lazy_construction_raises_the_eager_errors(tmp_path: Path, tiny_dir: Path, changes, run_id) -> None:
    config = tiny_config(tiny_dir, **changes)
    with pytest.raises(ConfigError) as eager:
        TextEncoder(config, run_id=run_id)
    with pytest.raises(ConfigError) as lazy:
        CachedTextEncoder.from_config(config, tmp_path / "cache", run_id=run_id)
    assert str(lazy.value) == str(eager.value)


def test_the_environments_tiny_bert_name_is_the_encoders() -> None:
    assert env_embeddings.TINY_BERT_NAME == TINY_BERT_NAME


def test_lookup_never_creates_a_folder(tmp_path: Path, tiny_dir: Path) -> None:
    lazy = LazyTextEncoder.from_config(tiny_config(tiny_dir), memo_file=tmp_path / MEMO_FILE)
    cache = EmbeddingCache(tmp_path / "cache")

    assert cache.lookup(lazy, TEXTS) is None
    assert cache.lookup(lazy, []).shape == (0, 32)
    assert not (tmp_path / "cache").exists() and not lazy.loaded
