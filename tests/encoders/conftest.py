"""A tiny randomly initialised BERT and its tokenizer, built in code (nothing is downloaded)."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import BertModel, BertTokenizerFast

from pricegym.encoders import TextEncoder, TextEncoderConfig
from pricegym.encoders.tiny_bert import tiny_bert

WORDS = ("cheap plastic phone case budget silicone cover premium oak cutting board water bottle steel "
         "glass desk lamp wireless headphones cotton throw blanket yoga mat leather backpack coffee mug "
         "ceramic kitchen knife vintage organic handmade compact for the with and a of in").split()
HIDDEN = 32


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-tokenizer")
    tiny_bert(WORDS, hidden_size=HIDDEN, directory=folder)
    return folder


@pytest.fixture(scope="session")
def tokenizer(tokenizer_dir: Path) -> BertTokenizerFast:
    built = BertTokenizerFast.from_pretrained(str(tokenizer_dir))
    assert built("cheap phone")["input_ids"][1:3] != [built.unk_token_id] * 2, "tiny vocab was not read"
    return built


@pytest.fixture()
def make_tiny_bert():
    """A factory: ``make_tiny_bert(seed)`` -> a fresh tiny BertModel for the tiny vocabulary."""
    return lambda seed=0: tiny_bert(WORDS, hidden_size=HIDDEN, seed=seed)[0].eval()


@pytest.fixture()
def tiny_model(make_tiny_bert) -> BertModel:
    return make_tiny_bert(0)


@pytest.fixture()
def tiny_encoder(tiny_model: BertModel, tokenizer: BertTokenizerFast) -> TextEncoder:
    config = TextEncoderConfig(model_name="tiny-bert", batch_size=3, device="cpu")
    return TextEncoder.from_model(tiny_model, tokenizer, config)
