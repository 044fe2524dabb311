"""Small vectorised helpers shared by the online-retail modules (no Python loop per row)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd


def take_text(values: np.ndarray | pd.Index | pd.Series, positions: np.ndarray) -> pd.Series:
    """``values[positions]`` as a string Series, built without converting every row's string."""
    return pd.Series(pd.array(np.asarray(values, dtype=object), dtype=str).take(positions))


def map_unique(values: pd.Series, transform: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``transform(values)``, computed once per distinct value (fast on repetitive text columns).

    Missing values stay missing whatever ``transform`` does to them.
    """
    codes, uniques = pd.factorize(values)
    mapped = transform(pd.Series(uniques, dtype=values.dtype))
    return pd.Series(mapped.array.take(codes, allow_fill=True), index=values.index, name=values.name)


def most_common(keys: pd.Series, values: pd.Series) -> pd.Series:
    """The most common non-missing value per key, ties broken by the smallest value.

    Returns a Series indexed by the distinct keys (sorted) that have at least one value.
    """
    present = keys.notna().to_numpy() & values.notna().to_numpy()
    key_codes, key_uniques = pd.factorize(keys[present], sort=True)
    value_codes, value_uniques = pd.factorize(values[present], sort=True)
    pairs = key_codes.astype(np.int64) * max(len(value_uniques), 1) + value_codes
    pair_ids, counts = np.unique(pairs, return_counts=True)
    pair_keys, pair_values = np.divmod(pair_ids, max(len(value_uniques), 1))
    order = np.lexsort((pair_values, -counts, pair_keys))
    first = order[np.r_[True, pair_keys[order][1:] != pair_keys[order][:-1]]] if order.size else order
    return pd.Series(
        np.asarray(value_uniques)[pair_values[first]],
        index=pd.Index(np.asarray(key_uniques)[pair_keys[first]], name=keys.name),
        name=values.name,
        dtype=values.dtype,
    )
