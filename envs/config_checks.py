"""Checks and choices specific to the environments' typed configs (the generic checks live in
:mod:`pricegym.config_checks`), and the fingerprint of an episode's draws."""

from __future__ import annotations

import hashlib

import numpy as np

from pricegym.config_checks import check_choice
from pricegym.errors import ConfigError

DEMAND_SOURCES = ("ground_truth", "fitted")
ACTION_SPACES = ("box", "ladder")
REWARDS = ("revenue", "margin")
PRODUCT_POOLS = ("train", "cold_start")


def check_price_range(env_name: str, price_range: tuple[float, float] | None) -> None:
    if price_range is not None and not (len(price_range) == 2 and 0 < price_range[0] < price_range[1]):
        raise ConfigError(f"{env_name}: price_range must be (low, high) multiples of list price with "
                          f"0 < low < high; got {price_range!r}")


def check_demand_source(env_name: str, demand_source: str, demand_run: object) -> None:
    check_choice(env_name, "demand_source", demand_source, DEMAND_SOURCES)
    if demand_source == "fitted" and demand_run is None:
        raise ConfigError(f"{env_name}: demand_source='fitted' needs demand_run, the folder of a "
                          "`pricegym fit-demand` run; or use demand_source='ground_truth'")


def fingerprint(*arrays: np.ndarray) -> str:
    """A stable digest of arrays (equal across processes and runs, unlike ``hash``)."""
    digest = hashlib.blake2b(digest_size=12)
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
