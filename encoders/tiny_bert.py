"""A tiny, randomly initialised BERT built in code: for tests and smoke runs, no download.

Its WordPiece vocabulary holds the special tokens, every letter and digit (alone and as a ``##``
continuation, so any text tokenises), and the words of an optional corpus.
"""

from __future__ import annotations

import re
import string
import tempfile
from collections.abc import Iterable
from pathlib import Path

import torch
from transformers import BertConfig, BertModel, BertTokenizerFast

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
TINY_BERT_NAME = "tiny-random-bert"
"""The model name under which the encoders build this model instead of loading one."""


def tiny_vocabulary(corpus: Iterable[str] = ()) -> list[str]:
    """Special tokens, characters, continuation characters and the corpus's lower-case words."""
    characters = string.ascii_lowercase + string.digits + string.punctuation
    words = sorted({word for text in corpus for word in re.findall(r"[a-z0-9]+", text.lower())})
    return [*SPECIAL_TOKENS, *characters, *(f"##{c}" for c in characters), *(w for w in words if len(w) > 1)]


def tiny_bert(corpus: Iterable[str] = (), hidden_size: int = 32, layers: int = 2, seed: int = 0,
              directory: str | Path | None = None) -> tuple[BertModel, BertTokenizerFast]:
    """A randomly initialised BertModel and a matching tokenizer.

    Args:
        corpus: texts whose words become whole tokens (others are spelled by characters).
        hidden_size, layers: the model's size (attention heads: 2).
        seed: weight initialisation.
        directory: where the vocabulary file is kept (by default a temporary folder, removed once the
            tokenizer is loaded).
    """
    vocabulary = tiny_vocabulary(corpus)
    if directory is None:
        with tempfile.TemporaryDirectory(prefix="pricegym-tiny-bert-") as scratch:  # removed once loaded
            tokenizer = _tokenizer_from_vocabulary(vocabulary, Path(scratch))
    else:
        tokenizer = _tokenizer_from_vocabulary(vocabulary, Path(directory))
    config = BertConfig(
        vocab_size=len(vocabulary), hidden_size=hidden_size, num_hidden_layers=layers, num_attention_heads=2,
        intermediate_size=2 * hidden_size, max_position_embeddings=128,
    )
    torch.manual_seed(seed)
    return BertModel(config), tokenizer


def _tokenizer_from_vocabulary(vocabulary: list[str], directory: Path) -> BertTokenizerFast:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.txt").write_text("\n".join(vocabulary) + "\n")
    # from_pretrained on the folder: transformers 5 ignores the constructor's `vocab_file=` keyword
    return BertTokenizerFast.from_pretrained(str(directory), do_lower_case=True)
