"""The flat, bounded observations of the pricing environments, and where each part sits in them.

Every environment exposes its :class:`FeatureLayout` as ``env.unwrapped.observation_layout``: the
named parts of the observation vector in order, each with its slice, size, bounds and a one-line
meaning, so that a features extractor finds (for example) the LM embedding parts without reading
environment internals::

    layout = env.unwrapped.observation_layout
    for part in layout.embedding_parts():
        vectors = observation[part.slice].reshape(-1, layout.embedding_dim)
    print(layout.describe())
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gymnasium import spaces

MARKET_FEATURES = 7 + 4 + 1  # weekday one-hot, season one-hot, holiday
SCALE_CAP = 10.0
EMBEDDING_BOUND = 5.0
"""Reduced (and full) embeddings are standardised over the world's catalogue and population and
clipped to [-EMBEDDING_BOUND, EMBEDDING_BOUND]."""


@dataclass(frozen=True)
class ObservationPart:
    """One named part of an observation vector.

    Attributes:
        name: the part's name (also the key of ``env.unwrapped.slices``).
        size: its number of entries (0 when absent, e.g. embeddings with ``observe_embeddings=False``).
        low, high: the bounds of every entry.
        meaning: one line saying what the entries are.
        start: the index of its first entry in the vector.
        embedding: True for the parts that hold LM embeddings (``size`` = items x ``embedding_dim``).
    """

    name: str
    size: int
    low: float
    high: float
    meaning: str
    start: int = 0
    embedding: bool = False

    @property
    def slice(self) -> slice:
        return slice(self.start, self.start + self.size)


@dataclass(frozen=True)
class FeatureLayout:
    """A flat bounded observation made of named parts laid end to end.

    Built from ``(name, size, low, high, meaning)`` tuples (a sixth item, True, marks an embedding
    part); ``embedding_dim`` is the size of one embedding (0 when the observation holds none).
    """

    parts: tuple[ObservationPart, ...]
    embedding_dim: int = 0

    @classmethod
    def of(cls, parts: list[tuple], embedding_dim: int = 0) -> FeatureLayout:
        start, placed = 0, []
        for name, size, low, high, meaning, *embedding in parts:
            placed.append(ObservationPart(name, int(size), float(low), float(high), meaning, start,
                                          bool(embedding and embedding[0])))
            start += int(size)
        return cls(tuple(placed), int(embedding_dim))

    @property
    def size(self) -> int:
        return sum(part.size for part in self.parts)

    def __getitem__(self, name: str) -> ObservationPart:
        for part in self.parts:
            if part.name == name:
                return part
        raise KeyError(f"no observation part {name!r}; the parts are {', '.join(self.names())}")

    def names(self) -> tuple[str, ...]:
        return tuple(part.name for part in self.parts)

    def embedding_parts(self) -> tuple[ObservationPart, ...]:
        """The parts holding LM embeddings (empty, or of size 0, without them)."""
        return tuple(part for part in self.parts if part.embedding and part.size)

    def slices(self) -> dict[str, slice]:
        return {part.name: part.slice for part in self.parts}

    def space(self) -> spaces.Box:
        low = np.concatenate([np.full(part.size, part.low, np.float32) for part in self.parts])
        high = np.concatenate([np.full(part.size, part.high, np.float32) for part in self.parts])
        return spaces.Box(low, high, dtype=np.float32)

    def describe(self) -> str:
        """A Markdown table of the parts: name, slice, size, bounds, meaning."""
        lines = ["| part | slice | size | bounds | meaning |", "|---|---|---|---|---|"]
        lines += [f"| {part.name} | {part.start}:{part.start + part.size} | {part.size} | "
                  f"[{part.low:g}, {part.high:g}] | {part.meaning} |" for part in self.parts]
        return "\n".join(lines)


def markdown_layout(n_products: int, embedding_dim: int) -> FeatureLayout:
    """Markdown-v0's layout for K products and d-dimensional embeddings (d = 0: none)."""
    k = n_products
    return FeatureLayout.of([
        ("product_embeddings", k * embedding_dim, -EMBEDDING_BOUND, EMBEDDING_BOUND,
         "each product's LM embedding (reduced), product after product in slot order", True),
        ("inventory_left", k, 0.0, 1.0, "units left / initial units, per product"),
        ("time_left", 1, 0.0, 1.0, "periods left / horizon"),
        ("price_position", k, 0.0, 1.0, "current price's position in its allowed range, per product"),
        ("list_price", k, 0.0, SCALE_CAP, "list price / catalogue median list price, per product"),
        ("recent_sales", k, 0.0, SCALE_CAP, "last period's units sold / arrival rate, per product"),
        ("market", MARKET_FEATURES, 0.0, 1.0, "next period's weekday (7), season (4) one-hots and holiday (1)"),
        ("competitor_gap", k, -1.0, 1.0, "competitor price / list price - 1, clipped (0: unknown), per product"),
    ], embedding_dim)


def market_features(weekday: int, season: int, holiday: bool) -> np.ndarray:
    features = np.zeros(MARKET_FEATURES, dtype=np.float32)
    features[weekday] = 1.0
    features[7 + season] = 1.0
    features[11] = float(holiday)
    return features
