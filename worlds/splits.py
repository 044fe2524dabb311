"""Train/validation/test splits shared by every world.

Two questions need two splits:

* **by time**: train on the past, validate on the next weeks, test on the last weeks
  (``validation_share`` and ``test_share`` of the calendar span, by timestamp);
* **cold start by product**: a share of products is held out entirely; their rows form
  ``cold_start_test`` and never appear in train, validation or test. New products are where text
  should earn its keep.

A :class:`Splits` is defined by two cut-off timestamps and a set of held-out product ids, so the
same split applies to any table with ``timestamp`` and ``product_id`` columns (transactions, the
online-retail demand panel...).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pricegym.errors import ConfigError

SPLIT_NAMES: tuple[str, ...] = ("train", "validation", "test", "cold_start_test")


@dataclass(frozen=True)
class Splits:
    """Cut-off times and held-out products that assign every row to one of :data:`SPLIT_NAMES`."""

    validation_start: pd.Timestamp
    test_start: pd.Timestamp
    cold_start_products: frozenset[str]

    def assign(self, frame: pd.DataFrame) -> pd.Series:
        """The split name of every row of ``frame`` (needs ``timestamp`` and ``product_id``)."""
        timestamps = frame["timestamp"]
        names = np.where(
            timestamps < self.validation_start,
            "train",
            np.where(timestamps < self.test_start, "validation", "test"),
        ).astype(object)
        names[frame["product_id"].isin(self.cold_start_products).to_numpy()] = "cold_start_test"
        return pd.Series(names, index=frame.index, name="split")

    def rows(self, frame: pd.DataFrame, split: str) -> pd.DataFrame:
        """The rows of ``frame`` in ``split``."""
        if split not in SPLIT_NAMES:
            raise ConfigError(f"unknown split {split!r}; choose one of {SPLIT_NAMES}")
        return frame[self.assign(frame) == split]


def make_splits(
    frame: pd.DataFrame,
    *,
    validation_share: float = 0.15,
    test_share: float = 0.15,
    cold_start_share: float = 0.2,
    seed: int = 0,
) -> Splits:
    """Cut ``frame``'s calendar span by time and hold out a random share of its products.

    Args:
        frame: a table with ``timestamp`` and ``product_id`` columns.
        validation_share, test_share: shares of the calendar span (from first to last timestamp)
            given to validation and test; the rest, first in time, is training.
        cold_start_share: share of distinct products held out as new products.
        seed: which products are held out.
    """
    for name, share in (("validation_share", validation_share), ("test_share", test_share),
                        ("cold_start_share", cold_start_share)):
        if not 0.0 <= share < 1.0:
            raise ConfigError(f"{name} must lie in [0, 1); got {share}")
    if validation_share + test_share >= 1.0:
        raise ConfigError(
            f"validation_share + test_share must leave time for training; got {validation_share + test_share}"
        )
    first, last = frame["timestamp"].min(), frame["timestamp"].max()
    span = last - first
    products = np.sort(frame["product_id"].unique())
    n_cold = int(round(cold_start_share * products.size))
    cold = np.random.default_rng(seed).choice(products, size=n_cold, replace=False)
    return Splits(
        validation_start=first + span * (1.0 - validation_share - test_share),
        test_start=first + span * (1.0 - test_share),
        cold_start_products=frozenset(str(product) for product in cold),
    )
