"""The text encoder: dynamic padding keeps vectors and order, pooling, accepted models, devices, identity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import (
    BartConfig,
    BertConfig,
    DistilBertConfig,
    GPT2Config,
    LlamaConfig,
    RobertaConfig,
    T5Config,
)

from pricegym.encoders import TextEncoder, TextEncoderConfig, pool, require_encoder_only, resolve_device
from pricegym.encoders.text_encoder import packaged_model_dir, resolve_model_source
from pricegym.errors import ConfigError

TEXTS = [
    "premium oak cutting board with a handmade steel kitchen knife",
    "mug",
    "cheap plastic phone case",
    "wireless headphones",
    "vintage leather backpack for the desk lamp and a ceramic coffee mug in cotton",
    "mug",
    "budget silicone phone cover",
    "glass water bottle",
]


def test_encode_keeps_input_order_and_matches_one_text_at_a_time(tiny_encoder: TextEncoder) -> None:
    lengths = {len(ids) for ids in tiny_encoder.tokenize(TEXTS)}
    assert len(lengths) >= 4  # the batches (batch_size 3) really are padded

    vectors = tiny_encoder.encode(TEXTS)

    assert vectors.shape == (len(TEXTS), 32) and vectors.dtype == np.float32
    one_by_one = np.stack([tiny_encoder.encode([text])[0] for text in TEXTS])
    np.testing.assert_allclose(vectors, one_by_one, atol=1e-5, rtol=0)
    assert np.abs(vectors[0] - vectors[2]).max() > 1e-3  # distinct texts, distinct vectors
    np.testing.assert_array_equal(vectors[1], vectors[5])  # a repeated text gets the same row


def test_encode_deduplicates_and_handles_empty_input(tiny_encoder: TextEncoder, monkeypatch) -> None:
    seen: list[list[int]] = []
    original = tiny_encoder.tokenize
    monkeypatch.setattr(tiny_encoder, "tokenize", lambda texts: seen.append(list(texts)) or original(texts))

    tiny_encoder.encode(["mug", "mug", "glass water bottle", "mug"])

    assert seen == [["mug", "glass water bottle"]]
    empty = tiny_encoder.encode([])
    assert empty.shape == (0, 32) and empty.dtype == np.float32
    with pytest.raises(TypeError, match="single string"):
        tiny_encoder.encode("mug")


def test_encode_restores_training_mode(tiny_encoder: TextEncoder) -> None:
    tiny_encoder.model.train()
    first = tiny_encoder.encode(TEXTS[:3])
    assert tiny_encoder.model.training
    np.testing.assert_array_equal(first, tiny_encoder.encode(TEXTS[:3]))  # dropout was off while encoding


def test_mean_pooling_ignores_padding() -> None:
    torch.manual_seed(1)
    hidden = torch.randn(2, 5, 4)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    padded = hidden.clone()
    padded[0, 3:] = 1e6  # whatever sits at padded positions must not matter

    pooled = pool(padded, mask, "mean")

    torch.testing.assert_close(pooled[0], hidden[0, :3].mean(dim=0))
    torch.testing.assert_close(pooled[1], hidden[1].mean(dim=0))
    torch.testing.assert_close(pool(padded, mask, "cls"), padded[:, 0])
    with pytest.raises(ConfigError, match="mean, cls"):
        pool(hidden, mask, "max")


def test_pooling_choice_reaches_the_vectors(tiny_encoder: TextEncoder) -> None:
    tokens = tiny_encoder.tokenizer(["cheap plastic phone case"], return_tensors="pt")
    with torch.no_grad():
        states = tiny_encoder.model(input_ids=tokens["input_ids"],
                                    attention_mask=tokens["attention_mask"]).last_hidden_state
    mean = tiny_encoder.encode(["cheap plastic phone case"])[0]
    cls = tiny_encoder.with_options(pooling="cls").encode(["cheap plastic phone case"])[0]
    np.testing.assert_allclose(mean, states[0].mean(dim=0).numpy(), atol=1e-5)
    np.testing.assert_allclose(cls, states[0, 0].numpy(), atol=1e-5)


@pytest.mark.parametrize("config_class", [BertConfig, DistilBertConfig, RobertaConfig])
def test_encoder_only_models_pass_the_check(tmp_path: Path, config_class) -> None:
    config = config_class()
    require_encoder_only(config, config.model_type)  # no error
    config.save_pretrained(tmp_path)
    # Past the check, loading fails only for want of weights and tokenizer files.
    with pytest.raises(ConfigError, match="cannot load model"):
        TextEncoder(TextEncoderConfig(model_name=str(tmp_path), device="cpu"))


@pytest.mark.parametrize("config_class, kind", [
    (GPT2Config, "decoder-only"), (LlamaConfig, "decoder-only"),
    (T5Config, "encoder-decoder"), (BartConfig, "encoder-decoder"),
])
def test_other_models_are_refused_before_loading_weights(tmp_path: Path, config_class, kind: str) -> None:
    config = config_class()
    config.save_pretrained(tmp_path)  # a config only: loading weights would fail with another message

    with pytest.raises(ConfigError, match=kind) as raised:
        TextEncoder(TextEncoderConfig(model_name=str(tmp_path), device="cpu"))
    assert config.model_type in str(raised.value)


def test_a_bert_configured_as_decoder_is_refused() -> None:
    with pytest.raises(ConfigError, match="is_decoder"):
        require_encoder_only(BertConfig(is_decoder=True), "bert-as-decoder")


def test_unknown_models_are_one_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist.*local directory with config.json"):
        TextEncoder(TextEncoderConfig(model_name=str(tmp_path / "no-such-model")))
    BertConfig().save_pretrained(tmp_path / "config-only")
    with pytest.raises(ConfigError, match="cannot load model .*config-only.*all-MiniLM-L6-v2"):
        TextEncoder(TextEncoderConfig(model_name=str(tmp_path / "config-only"), device="cpu"))
    with pytest.raises(ConfigError, match="cannot load the config of model 'no-such-org-xyz/no-such-model'"):
        TextEncoder(TextEncoderConfig(model_name="no-such-org-xyz/no-such-model", device="cpu", offline=True))
    with pytest.raises(ConfigError, match="cannot be looked up .*File name too long"):
        TextEncoder(TextEncoderConfig(model_name=str(tmp_path / ("x" * 5_000)), device="cpu", offline=True))


def test_default_model_aliases_resolve_to_the_packaged_weights() -> None:
    folder = packaged_model_dir()
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
    assert resolve_model_source("all-MiniLM-L6-v2") == ("all-MiniLM-L6-v2", str(folder))
    assert resolve_model_source("sentence-transformers/all-MiniLM-L6-v2") == ("all-MiniLM-L6-v2", str(folder))
    assert resolve_model_source("bert-base-uncased") == ("bert-base-uncased", None)  # a hub name


def test_devices() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    for bad in ("tpu", "gpu", "cuda:x", "CPU"):
        with pytest.raises(ConfigError, match="auto, cpu, cuda, cuda:N"):
            TextEncoderConfig(device=bad)
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            resolve_device("cuda")
    with pytest.raises(ConfigError, match="does not exist|CUDA is not available"):
        resolve_device("cuda:99")


@pytest.mark.parametrize("field, value", [
    ("pooling", "max"), ("max_length", 0), ("batch_size", -1), ("dtype", "float16"), ("model_name", ""),
])
def test_bad_config_values(field: str, value) -> None:
    with pytest.raises(ConfigError, match=field):
        TextEncoderConfig(**{field: value})


def test_max_length_beyond_the_model_positions_is_refused(tiny_model, tokenizer) -> None:
    positions = tiny_model.config.max_position_embeddings
    with pytest.raises(ConfigError, match=f"exceeds the {positions} positions"):
        TextEncoder.from_model(tiny_model, tokenizer, TextEncoderConfig(max_length=positions + 1, device="cpu"))


def test_identity_covers_weights_tokenizer_and_run_id(tiny_encoder: TextEncoder, make_tiny_bert, tokenizer,
                                                      tokenizer_dir: Path) -> None:
    def identity(model, run_id=None, tok=tokenizer) -> str:
        return TextEncoder.from_model(model, tok, tiny_encoder.config, run_id=run_id).identity

    same_weights = make_tiny_bert(seed=0)
    assert identity(same_weights) == tiny_encoder.identity  # same label, tensors and tokenizer
    assert identity(make_tiny_bert(seed=1)) != tiny_encoder.identity
    assert identity(same_weights, run_id="run-7") != tiny_encoder.identity
    assert "run=run-7" in identity(same_weights, run_id="run-7")
    cased = type(tokenizer).from_pretrained(str(tokenizer_dir), do_lower_case=False)
    assert identity(same_weights, tok=cased) != tiny_encoder.identity

    before = tiny_encoder.identity
    optimizer = torch.optim.SGD(tiny_encoder.model.parameters(), lr=0.1)
    tokens = tokenizer(["cheap plastic phone case"], return_tensors="pt")
    tiny_encoder.model(input_ids=tokens["input_ids"]).last_hidden_state.sum().backward()
    optimizer.step()  # fine-tuning in place changes the vectors, hence the identity
    assert tiny_encoder.identity != before


def test_a_saved_directory_loads_to_the_same_vectors(tmp_path: Path, tiny_encoder: TextEncoder) -> None:
    tiny_encoder.model.save_pretrained(tmp_path / "tiny")
    tiny_encoder.tokenizer.save_pretrained(tmp_path / "tiny")

    loaded = TextEncoder(TextEncoderConfig(model_name=str(tmp_path / "tiny"), device="cpu"))

    assert loaded.hidden_size == 32
    assert loaded.identity.startswith(str((tmp_path / "tiny").resolve()))
    assert "weights=files:" in loaded.identity  # fingerprinted from the files, not re-hashed
    np.testing.assert_allclose(loaded.encode(TEXTS), tiny_encoder.encode(TEXTS), atol=1e-5)


def test_a_fine_tuned_copy_on_disk_has_another_identity(tmp_path: Path, tiny_encoder: TextEncoder) -> None:
    model = tiny_encoder.model
    model.save_pretrained(tmp_path / "base")
    tiny_encoder.tokenizer.save_pretrained(tmp_path / "base")
    with torch.no_grad():
        model.encoder.layer[0].output.dense.bias.add_(0.1)
    model.save_pretrained(tmp_path / "tuned")
    tiny_encoder.tokenizer.save_pretrained(tmp_path / "tuned")

    def identity_without_path(folder: str) -> str:
        return TextEncoder(TextEncoderConfig(model_name=folder, device="cpu")).identity.split("|", 1)[1]

    assert identity_without_path(str(tmp_path / "base")) != identity_without_path(str(tmp_path / "tuned"))


def test_packaged_minilm_loads_offline_and_ranks_similar_products_closer() -> None:
    encoder = TextEncoder(TextEncoderConfig())

    assert encoder.hidden_size == 384
    assert encoder.model.config.num_hidden_layers == 6 and len(encoder.model.encoder.layer) == 6
    assert encoder.identity.startswith("all-MiniLM-L6-v2|weights=files:")
    texts = ["cheap plastic phone case", "budget silicone phone cover", "premium oak cutting board"]
    vectors = encoder.encode(texts)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    similar, unrelated = float(unit[0] @ unit[1]), float(unit[0] @ unit[2])
    assert similar > unrelated + 0.2, (similar, unrelated)
