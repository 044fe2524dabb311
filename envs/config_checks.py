"""Checks shared by the environments' typed configs: one clear :class:`ConfigError` per bad value."""

from __future__ import annotations

import hashlib
import math
from dataclasses import fields, replace
from typing import Any, TypeVar

import numpy as np

from pricegym.errors import ConfigError

Config = TypeVar("Config")

DEMAND_SOURCES = ("ground_truth", "fitted")
ACTION_SPACES = ("box", "ladder")
REWARDS = ("revenue", "margin")
PRODUCT_POOLS = ("train", "cold_start")


def check_choice(env_name: str, name: str, value: str, valid: tuple[str, ...]) -> None:
    """``value`` must be one of ``valid``."""
    if value not in valid:
        raise ConfigError(f"{env_name}: unknown {name} {value!r}; choose one of {', '.join(valid)}")


def check_positive_int(env_name: str, config: object, *names: str) -> None:
    """Each named field must be an integer > 0."""
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{env_name}: {name} must be a positive integer; got {value!r}")


def check_non_negative(env_name: str, config: object, *names: str) -> None:
    """Each named field must be a finite number >= 0."""
    check_finite(env_name, config, *names)
    for name in names:
        value = getattr(config, name)
        if not value >= 0:
            raise ConfigError(f"{env_name}: {name} must be >= 0; got {value!r}")


def check_non_negative_int(env_name: str, config: object, *names: str) -> None:
    """Each named field must be an integer >= 0."""
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{env_name}: {name} must be an integer >= 0; got {value!r}")


def check_finite(env_name: str, config: object, *names: str) -> None:
    """Each named field must be a finite real number (not NaN, not infinite)."""
    for name in names:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ConfigError(f"{env_name}: {name} must be a finite number; got {value!r}")


def check_price_range(env_name: str, price_range: tuple[float, float] | None) -> None:
    if price_range is not None and not (len(price_range) == 2 and 0 < price_range[0] < price_range[1]):
        raise ConfigError(f"{env_name}: price_range must be (low, high) multiples of list price with "
                          f"0 < low < high; got {price_range!r}")


def check_demand_source(env_name: str, demand_source: str, demand_run: object) -> None:
    check_choice(env_name, "demand_source", demand_source, DEMAND_SOURCES)
    if demand_source == "fitted" and demand_run is None:
        raise ConfigError(f"{env_name}: demand_source='fitted' needs demand_run, the folder of a "
                          "`pricegym fit-demand` run; or use demand_source='ground_truth'")


def with_overrides(env_name: str, config: Config, overrides: dict[str, Any]) -> Config:
    """``gymnasium.make(env_id, horizon=20)`` style keyword overrides of a config dataclass."""
    if not overrides:
        return config
    known = {field.name for field in fields(config)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"{env_name}: unknown option(s) {unknown}; valid options are {sorted(known)}")
    return replace(config, **overrides)


def fingerprint(*arrays: np.ndarray) -> str:
    """A stable digest of arrays (equal across processes and runs, unlike ``hash``)."""
    digest = hashlib.blake2b(digest_size=12)
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
