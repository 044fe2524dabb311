"""The LM embeddings the environments observe, and their deterministic reduction.

**Where they come from.** With a ``demand_run`` that holds fine-tuned embeddings (its
``embeddings.npz``), the products' and customers' vectors are the run's, under either demand
source. Otherwise (ground truth, or a run without embeddings) they are the configured text
encoder's (by default all-MiniLM-L6-v2) embeddings of the world's product texts and customer
profiles, computed once through the on-disk :class:`~pricegym.encoders.EmbeddingCache` (a
second process reads them back without loading the model; nothing is fitted).
``model_name="tiny-random-bert"`` builds the tiny random BERT of :mod:`pricegym.encoders.tiny_bert`
over the world's texts (seed 0), for tests.

**The reduction** (:class:`EmbeddingReduction`), fitted once per world, demand run and encoder:
``embedding_dim=None`` keeps the full vector (centred and divided by one overall scale);
an integer k keeps the first k principal components of a PCA on the catalogue's and the
population's embeddings (the two sets weighted equally, so that a large population does not drown
the catalogue), each scaled to unit variance over that set. Either way the values are clipped to
``[-5, 5]`` and the share of variance kept is recorded (``explained_variance``). The PCA is an SVD
with a fixed sign convention, so equal inputs give equal observations in every process. A cold-start
product is in the catalogue, so its embedding comes from its text alone, like any other's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pricegym.envs.observation import EMBEDDING_BOUND
from pricegym.errors import ConfigError

TINY_BERT_NAME = "tiny-random-bert"
"""``pricegym.encoders.tiny_bert.TINY_BERT_NAME``, spelled here so that an environment whose vectors are
all cached never imports that module (nor transformers' BERT with it)."""

DEFAULT_EMBEDDING_DIM = 48
"""Principal components kept by default. Measured on the default synthetic world with
all-MiniLM-L6-v2: 94.6% of the variance of the catalogue and population (weighted equally), and 93.3%
of the catalogue's alone (40 components would keep 92.2% and 89.6%)."""


@dataclass(frozen=True)
class EmbeddingReduction:
    """``transform(v) = clip(((v / prescale - mean) @ components.T) / scale, -5, 5)``.

    Attributes:
        prescale: the largest absolute entry of the fitting set (1 if none), so that huge vectors
            stay finite through the reduction.
        mean: ``[hidden]`` the fitting set's (weighted) mean vector.
        components: ``[dimension, hidden]`` orthonormal rows; None for the full vector (the identity).
        scale: ``[dimension]`` each output's standard deviation over the fitting set before scaling.
        explained_variance: share of the fitting set's total variance the kept components hold
            (1.0 for the full vector).
        source: where the vectors came from (the demand run, or the text encoder's identity).
    """

    prescale: float
    mean: np.ndarray
    components: np.ndarray | None
    scale: np.ndarray
    explained_variance: float
    source: str

    @property
    def dimension(self) -> int:
        return self.scale.size

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        """``[n, hidden]`` encoder vectors -> ``[n, dimension]`` float32 observation entries."""
        centred = np.asarray(vectors, float) / self.prescale - self.mean
        reduced = (centred if self.components is None else centred @ self.components.T) / self.scale
        return np.clip(reduced, -EMBEDDING_BOUND, EMBEDDING_BOUND).astype(np.float32)


@dataclass(frozen=True)
class ObservedEmbeddings:
    """The reduced embedding of every product and every demand row, and the reduction that made them."""

    reduction: EmbeddingReduction
    products: np.ndarray
    customers: np.ndarray


def fit_reduction(products: np.ndarray, customers: np.ndarray | None, dimension: int | None,
                  source: str) -> EmbeddingReduction:
    """PCA (``dimension`` components, at most the vectors' size) or the full vector, fitted on the
    products and customers, each set weighing one half (the products alone without customers)."""
    sets = [np.asarray(products, float)] + ([] if customers is None else [np.asarray(customers, float)])
    vectors = np.concatenate(sets)
    largest = float(np.abs(vectors).max(initial=0.0))
    prescale = largest if np.isfinite(largest) and largest > 0 else 1.0
    vectors = vectors / prescale
    weights = np.concatenate([np.full(len(part), 1.0 / (len(part) * len(sets))) for part in sets])
    mean = weights @ vectors
    centred = (vectors - mean) * np.sqrt(weights)[:, None]
    hidden = vectors.shape[1]
    if dimension is None:
        overall = float(np.sqrt((centred ** 2).sum() / hidden))
        return EmbeddingReduction(prescale, mean, None, np.full(hidden, overall if overall > 0 else 1.0), 1.0,
                                  source)
    _, singular, rows = np.linalg.svd(centred, full_matrices=False)
    kept = min(dimension, rows.shape[0])
    components = rows[:kept].copy()
    signs = np.sign(components[np.arange(kept), np.abs(components).argmax(axis=1)])
    components *= np.where(signs == 0, 1.0, signs)[:, None]  # the largest entry of each component is positive
    total = float((singular ** 2).sum())
    scale = singular[:kept].copy()
    scale[scale <= 1e-9 * max(singular[0], 1e-300)] = 1.0  # a direction without variance stays at 0
    explained = float((singular[:kept] ** 2).sum() / total) if total > 0 else 1.0
    return EmbeddingReduction(prescale, mean, components, scale, explained, source)


def observed_embeddings(market, env_name: str, demand_run: Path | None, text_encoder, cache_dir: Path,
                        dimension: int | None) -> ObservedEmbeddings:
    """The reduced embeddings of ``market``'s products and demand rows (cached on the market, per encoder,
    cache folder and dimension: fitted once per world, run and encoder)."""
    cache = market.__dict__.setdefault("_observed_embeddings", {})
    key = (text_encoder, Path(cache_dir), dimension)
    if key not in cache:
        products, customers, source = _raw_embeddings(market, env_name, demand_run, text_encoder, cache_dir)
        reduction = fit_reduction(products, customers, dimension, source)
        reduced_customers = np.zeros((market.customer_weights.size, 0), np.float32) if customers is None \
            else reduction.transform(customers)
        cache[key] = ObservedEmbeddings(reduction, reduction.transform(products), reduced_customers)
    return cache[key]


def _raw_embeddings(market, env_name: str, demand_run: Path | None, text_encoder, cache_dir: Path
                    ) -> tuple[np.ndarray, np.ndarray | None, str]:
    if market.product_embeddings.shape[1] > 0:  # a demand run's fine-tuned embeddings
        return market.product_embeddings, market.customer_embeddings, f"demand run {demand_run}"
    return text_embeddings(market.product_texts, market.customer_texts, text_encoder, cache_dir, env_name)


def text_embeddings(product_texts: tuple[str, ...], customer_texts: tuple[str, ...], config, cache_dir: Path,
                    env_name: str = "environment") -> tuple[np.ndarray, np.ndarray | None, str]:
    """The text encoder's vectors of every product text and customer text, through the embedding cache."""
    from pricegym.encoders.embedding_cache import CachedTextEncoder

    if not product_texts:
        raise ConfigError(f"{env_name}: the world has no product texts to embed; set observe_embeddings=False")
    distinct_customers = tuple(sorted(set(customer_texts)))
    if config.model_name == TINY_BERT_NAME:
        from pricegym.encoders.text_encoder import TextEncoder
        from pricegym.encoders.tiny_bert import tiny_bert

        model, tokenizer = tiny_bert(distinct_customers + tuple(product_texts), seed=0)
        cached = CachedTextEncoder(TextEncoder.from_model(model, tokenizer, config), cache_dir)
    else:  # the model is loaded only if a text is missing from the cache
        cached = CachedTextEncoder.from_config(config, cache_dir)
    distinct = sorted(set(product_texts) | set(distinct_customers))
    vectors = cached.embed(distinct).astype(float)
    row = {text: index for index, text in enumerate(distinct)}
    products = vectors[[row[text] for text in product_texts]]
    customers = vectors[[row[text] for text in customer_texts]] if customer_texts else None
    return products, customers, f"text encoder {cached.identity}"


def product_embedding_table(env_name: str, config, market
                            ) -> tuple[EmbeddingReduction | None, np.ndarray]:
    """The reduction and ``[products, d]`` reduced product embeddings (d = 0, no reduction, without them)."""
    if not config.observe_embeddings:
        return None, np.zeros((market.list_prices.size, 0), np.float32)
    observed = observed_embeddings(market, env_name, config.demand_run, config.text_encoder,
                                   config.embedding_cache_dir, config.embedding_dim)
    return observed.reduction, observed.products
