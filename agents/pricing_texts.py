"""The text the supervised pricer reads: customer, market and product, in one sequence.

One input text per (customer profile, context bucket, product)::

    "{customer} [SEP] {market} [SEP] Unit cost 42% of list price. {product title and description}"

* the **customer** part is the customer's profile (synthetic world) or the customer type's profile
  (online-retail, :data:`pricegym.encoders.demand_rows.CUSTOMER_TYPE_PROFILES`);
* the **market** part names the context bucket (:class:`ContextBuckets`), e.g. ``"winter"``;
* the **product** part is the product's title and description, opened by its unit cost as a share
  of list price wherever that share differs between products. A seller knows its costs, and
  cost-plus pricing is common practice (the synthetic incumbent is cost-plus); leaving the cost
  out would make the baseline a straw man. Where every product has the same share (online-retail)
  the sentence tells nothing and is left out.

The short, informative parts come first, so that truncation to ``max_length`` tokens only ever
cuts the end of a long product description. The separator is the tokenizer's own (``[SEP]`` for
BERT models).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pricegym.errors import ConfigError
from pricegym.worlds.demand import MarketContext
from pricegym.worlds.schema import SEASONS

WEEKDAY_NAMES: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

CONTEXT_SCHEMES: dict[str, tuple[str, ...]] = {
    "none": (),
    "holiday": ("holiday",),
    "season": ("season",),
    "season-holiday": ("season", "holiday"),
    "weekday-season-holiday": ("weekday", "season", "holiday"),
}
"""Context bucket schemes, coarsest first: which market conditions a bucket tells apart."""

_SIZES = {"weekday": 7, "season": len(SEASONS), "holiday": 2}
DEFAULT_SEPARATOR = "[SEP]"


@dataclass(frozen=True)
class ContextBuckets:
    """Market contexts grouped into buckets (weekday x season x holiday, or coarser).

    A bucket index is a mixed-radix number over the scheme's fields (weekday 0-6, season index into
    :data:`~pricegym.worlds.schema.SEASONS`, holiday 0/1), in the order the scheme names them.
    The default, ``"season"``, has 4 buckets: neither world's prices follow the weekday, and
    holidays are too rare to learn from (7 days a year in the synthetic world; the online retailer
    trades on few UK bank holidays). Each bucket costs one model run per (row, product) of the
    pricing table.
    """

    scheme: str = "season"

    def __post_init__(self) -> None:
        if self.scheme not in CONTEXT_SCHEMES:
            raise ConfigError(f"context buckets: scheme must be one of {', '.join(CONTEXT_SCHEMES)}; "
                              f"got {self.scheme!r}")

    @property
    def fields(self) -> tuple[str, ...]:
        return CONTEXT_SCHEMES[self.scheme]

    @property
    def count(self) -> int:
        """How many buckets there are."""
        return int(np.prod([_SIZES[name] for name in self.fields], dtype=np.int64))

    def index(self, weekday: np.ndarray, season: np.ndarray, holiday: np.ndarray) -> np.ndarray:
        """The bucket of each market context (arrays broadcast together)."""
        values = {"weekday": np.asarray(weekday, dtype=np.int64), "season": np.asarray(season, dtype=np.int64),
                  "holiday": np.asarray(holiday).astype(np.int64)}
        bucket = np.zeros(np.broadcast_shapes(*(v.shape for v in values.values())), dtype=np.int64)
        for name in self.fields:
            bucket = bucket * _SIZES[name] + values[name]
        return bucket

    def of_context(self, context: MarketContext) -> np.ndarray:
        """The bucket of each context of a :class:`~pricegym.worlds.demand.MarketContext`."""
        return self.index(context.weekday, context.season, context.holiday)

    def of_frame(self, frame: pd.DataFrame) -> np.ndarray:
        """The bucket of each row of a schema-valid table (``weekday``, ``season`` names, ``holiday``)."""
        season = pd.Index(SEASONS).get_indexer(frame["season"])
        return self.index(frame["weekday"].to_numpy(), season, frame["holiday"].to_numpy())

    def texts(self) -> tuple[str, ...]:
        """The market part of the input text of every bucket, e.g. ``"winter, no holiday"``."""
        if not self.fields:
            return ("any day",)
        texts = []
        for bucket in range(self.count):
            parts, rest = {}, bucket
            for name in reversed(self.fields):
                rest, parts[name] = divmod(rest, _SIZES[name])
            words = {"weekday": lambda i: WEEKDAY_NAMES[i], "season": lambda i: SEASONS[i],
                     "holiday": lambda i: "holiday" if i else "no holiday"}
            texts.append(", ".join(words[name](parts[name]) for name in self.fields))
        return tuple(texts)


def product_parts(product_texts: Sequence[str], list_prices: np.ndarray, unit_costs: np.ndarray,
                  state_unit_cost: bool = True) -> tuple[str, ...]:
    """The product part of each product's input text (see the module docstring).

    The unit-cost sentence is added when ``state_unit_cost`` and the cost share (rounded to a
    percent) is not the same for every product.
    """
    share = np.rint(100.0 * np.asarray(unit_costs, float) / np.asarray(list_prices, float)).astype(np.int64)
    if not state_unit_cost or np.unique(share).size <= 1:
        return tuple(product_texts)
    return tuple(f"Unit cost {percent}% of list price. {text}" for text, percent in zip(product_texts, share,
                                                                                          strict=True))


def compose_texts(customer_parts: Sequence[str], context_parts: Sequence[str], product_parts_: Sequence[str],
                  separator: str = DEFAULT_SEPARATOR) -> list[str]:
    """``"{customer} {sep} {context} {sep} {product}"`` for each triple (sequences of equal length)."""
    return [f"{customer} {separator} {context} {separator} {product}"
            for customer, context, product in zip(customer_parts, context_parts, product_parts_, strict=True)]
