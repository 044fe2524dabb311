"""The embedding cache: each text encoded once per key, across instances; bad folders are DataErrors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pricegym.encoders import (
    CachedTextEncoder,
    EmbeddingCache,
    TextEncoder,
    measure_embedding_speed,
    text_hash,
)
from pricegym.errors import DataError


class SpyEncoder:
    """Delegates to a TextEncoder and records every text it is asked to encode."""

    def __init__(self, encoder: TextEncoder) -> None:
        self._encoder = encoder
        self.calls: list[list[str]] = []

    def __getattr__(self, name: str):
        return getattr(self._encoder, name)

    def encode(self, texts, progress: bool = False) -> np.ndarray:
        self.calls.append(list(texts))
        return self._encoder.encode(texts, progress=progress)

    @property
    def encoded(self) -> list[str]:
        return [text for call in self.calls for text in call]


def shard_paths(folder: Path) -> list[Path]:
    return sorted(folder.glob("shard-*.npz"))


def test_each_text_is_encoded_once_across_cache_instances(tmp_path: Path, tiny_encoder: TextEncoder) -> None:
    spy = SpyEncoder(tiny_encoder)
    first = EmbeddingCache(tmp_path)

    a = first.get_or_encode(spy, ["mug", "glass water bottle", "mug"])
    b = first.get_or_encode(spy, ["glass water bottle", "yoga mat"])
    assert spy.encoded == ["mug", "glass water bottle", "yoga mat"]

    second = EmbeddingCache(tmp_path)  # another run on the same folder
    c = second.get_or_encode(spy, ["yoga mat", "mug", "glass water bottle"])

    assert spy.encoded == ["mug", "glass water bottle", "yoga mat"]  # nothing encoded again
    direct = tiny_encoder.encode(["mug", "glass water bottle", "yoga mat"])
    assert a.dtype == np.float32 and a.shape == (3, 32)
    np.testing.assert_array_equal(a, direct[[0, 1, 0]])
    np.testing.assert_array_equal(b, direct[[1, 2]])
    np.testing.assert_array_equal(c, direct[[2, 0, 1]])
    assert len(shard_paths(second.folder_for(tiny_encoder))) == 2
    assert second.cached_count(tiny_encoder) == 3
    assert not list(tmp_path.rglob(".tmp-*"))  # atomic writes leave no temporary files


def test_the_cache_cannot_be_changed_through_a_result(tmp_path: Path, tiny_encoder: TextEncoder) -> None:
    cache = EmbeddingCache(tmp_path)
    vectors = cache.get_or_encode(tiny_encoder, ["mug"])
    vectors[:] = 0.0
    assert np.abs(cache.get_or_encode(tiny_encoder, ["mug"])).max() > 0


def test_empty_request_returns_an_empty_array(tmp_path: Path, tiny_encoder: TextEncoder) -> None:
    spy = SpyEncoder(tiny_encoder)
    out = EmbeddingCache(tmp_path).get_or_encode(spy, [])
    assert out.shape == (0, 32) and out.dtype == np.float32 and spy.calls == []


@pytest.mark.parametrize("change", [{"pooling": "cls"}, {"max_length": 8}, {"run_id": "fine-tuned-run-1"}])
def test_each_part_of_the_key_gets_its_own_entries(tmp_path: Path, tiny_encoder: TextEncoder, change) -> None:
    base = SpyEncoder(tiny_encoder)
    other = SpyEncoder(tiny_encoder.with_options(**change))
    cache = EmbeddingCache(tmp_path)

    cache.get_or_encode(base, ["mug", "yoga mat"])
    cache.get_or_encode(other, ["mug", "yoga mat"])
    cache.get_or_encode(base, ["mug"])

    assert other.encoded == ["mug", "yoga mat"]  # not served from the base key's vectors
    assert base.encoded == ["mug", "yoga mat"]
    folders = sorted(path for path in tmp_path.iterdir() if path.is_dir())
    assert len(folders) == 2
    keys = [json.loads((folder / "key.json").read_text()) for folder in folders]
    field, value = next(iter(change.items()))
    if field == "run_id":
        assert any(key["model"].endswith(f"run={value}") for key in keys)
    else:
        assert sorted(key[field] for key in keys) == sorted([getattr(tiny_encoder.config, field), value])


def test_another_models_vectors_are_not_served(tmp_path: Path, tiny_encoder: TextEncoder, make_tiny_bert,
                                               tokenizer) -> None:
    other = SpyEncoder(TextEncoder.from_model(make_tiny_bert(seed=3), tokenizer, tiny_encoder.config))
    cache = EmbeddingCache(tmp_path)
    cache.get_or_encode(tiny_encoder, ["mug"])
    assert np.abs(cache.get_or_encode(other, ["mug"]) - tiny_encoder.encode(["mug"])).max() > 1e-3
    assert other.encoded == ["mug"]


def test_a_folder_of_another_key_is_a_data_error(tmp_path: Path, tiny_encoder: TextEncoder) -> None:
    EmbeddingCache(tmp_path).get_or_encode(tiny_encoder, ["mug"])
    cls_encoder = tiny_encoder.with_options(pooling="cls")
    # The folder the cls key expects holds the mean key's vectors (a copy, a collision, a hand edit).
    EmbeddingCache(tmp_path).folder_for(tiny_encoder).rename(EmbeddingCache(tmp_path).folder_for(cls_encoder))

    with pytest.raises(DataError, match=r'key\.json.*another key: expected .*"pooling": "cls".*got .*'
                                        r'"pooling": "mean".*delete .* or use another cache directory'):
        EmbeddingCache(tmp_path).get_or_encode(cls_encoder, ["mug"])


def test_a_folder_without_key_file_is_a_data_error(tmp_path: Path, tiny_encoder: TextEncoder) -> None:
    cache = EmbeddingCache(tmp_path)
    cache.get_or_encode(tiny_encoder, ["mug"])
    (cache.folder_for(tiny_encoder) / "key.json").unlink()
    with pytest.raises(DataError, match="without its key file"):
        EmbeddingCache(tmp_path).get_or_encode(tiny_encoder, ["mug"])


def test_a_corrupt_shard_is_a_data_error(tmp_path: Path, tiny_encoder: TextEncoder) -> None:
    cache = EmbeddingCache(tmp_path)
    cache.get_or_encode(tiny_encoder, ["mug"])
    shard = shard_paths(cache.folder_for(tiny_encoder))[0]
    shard.write_bytes(b"not a zip archive")

    with pytest.raises(DataError, match="corrupt embedding cache shard.*unreadable.*delete") as raised:
        EmbeddingCache(tmp_path).get_or_encode(tiny_encoder, ["mug"])
    assert raised.value.source == str(shard)


def test_a_shard_of_another_width_is_a_data_error(tmp_path: Path, tiny_encoder: TextEncoder) -> None:
    cache = EmbeddingCache(tmp_path)
    cache.get_or_encode(tiny_encoder, ["mug"])
    shard = shard_paths(cache.folder_for(tiny_encoder))[0]
    hashes = np.frombuffer(text_hash("mug"), dtype=np.uint8).reshape(1, 32)
    with shard.open("wb") as handle:
        np.savez(handle, hashes=hashes, vectors=np.zeros((1, 7), dtype=np.float32))

    with pytest.raises(DataError, match="vectors 7 wide, but the encoder's hidden size is 32"):
        EmbeddingCache(tmp_path).get_or_encode(tiny_encoder, ["mug"])


def test_a_shard_missing_its_hashes_is_a_data_error(tmp_path: Path, tiny_encoder: TextEncoder) -> None:
    cache = EmbeddingCache(tmp_path)
    cache.get_or_encode(tiny_encoder, ["mug"])
    shard = shard_paths(cache.folder_for(tiny_encoder))[0]
    with shard.open("wb") as handle:
        np.savez(handle, vectors=np.zeros((1, 32), dtype=np.float32))

    with pytest.raises(DataError, match="corrupt embedding cache shard"):
        EmbeddingCache(tmp_path).get_or_encode(tiny_encoder, ["mug"])


def test_hashes_ending_in_a_zero_byte_round_trip(tmp_path: Path, tiny_encoder: TextEncoder) -> None:
    text = next(f"text {i}" for i in range(10_000) if text_hash(f"text {i}").endswith(b"\x00"))
    spy = SpyEncoder(tiny_encoder)
    EmbeddingCache(tmp_path).get_or_encode(spy, [text])
    EmbeddingCache(tmp_path).get_or_encode(spy, [text])
    assert spy.encoded == [text]


def test_cached_text_encoder_embeds_through_the_cache(tmp_path: Path, tiny_encoder: TextEncoder) -> None:
    spy = SpyEncoder(tiny_encoder)
    embedder = CachedTextEncoder(spy, tmp_path)

    vectors = embedder.embed(["mug", "yoga mat"])
    again = CachedTextEncoder(spy, tmp_path).embed(["yoga mat"])

    assert embedder.hidden_size == 32 and embedder.identity == tiny_encoder.identity
    np.testing.assert_array_equal(vectors, tiny_encoder.encode(["mug", "yoga mat"]))
    np.testing.assert_array_equal(again[0], vectors[1])
    assert spy.encoded == ["mug", "yoga mat"]


def test_measure_embedding_speed(tmp_path: Path, tiny_encoder: TextEncoder) -> None:
    (tmp_path / "kept").mkdir()
    texts = [f"cheap plastic phone case {i}" for i in range(40)]

    result = measure_embedding_speed(tiny_encoder, texts, tmp_path)

    assert result["texts"] == 40 and result["unique_texts"] == 40
    assert result["uncached_texts_per_s"] > 0 and result["cached_texts_per_s"] > 0
    assert result["cached_seconds"] < result["uncached_seconds"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["kept"]  # its scratch folder is removed
