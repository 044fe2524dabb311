"""How fast texts become vectors, without and with the embedding cache (for ``pricegym bench-speed``)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pricegym.encoders.embedding_cache import EmbeddingCache
from pricegym.encoders.text_encoder import TextEncoder, as_text_list
from pricegym.errors import ConfigError


def measure_embedding_speed(encoder: TextEncoder, texts: Sequence[str], cache_dir: str | os.PathLike[str],
                            warmup: int = 8) -> dict[str, Any]:
    """Texts per second through ``encoder`` uncached (encode + write a shard) and cached (read back).

    Both passes run on a fresh subfolder of ``cache_dir``, removed afterwards, so a cache already there
    is neither used nor changed. The cached pass opens a new :class:`EmbeddingCache`, as a later run
    would, so it includes reading the shard from disk. ``warmup`` texts are encoded first, untimed.
    Rates count all ``texts`` (duplicates included; they are encoded once).
    """
    texts = as_text_list(texts)
    if not texts:
        raise ConfigError("measure_embedding_speed: texts is empty; pass at least one text")
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-embedding-", dir=cache_dir))
    try:
        if warmup > 0:
            encoder.encode(texts[:warmup])
        started = time.perf_counter()
        EmbeddingCache(scratch).get_or_encode(encoder, texts)
        uncached = time.perf_counter() - started
        started = time.perf_counter()
        EmbeddingCache(scratch).get_or_encode(encoder, texts)
        cached = time.perf_counter() - started
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {
        "model": encoder.identity,
        "device": str(encoder.device),
        "texts": len(texts),
        "unique_texts": len(set(texts)),
        "batch_size": encoder.config.batch_size,
        "max_length": encoder.config.max_length,
        "uncached_seconds": uncached,
        "cached_seconds": cached,
        "uncached_texts_per_s": len(texts) / max(uncached, 1e-9),
        "cached_texts_per_s": len(texts) / max(cached, 1e-9),
    }
