"""Checks shared by the typed configs of the environments and trainers: one clear :class:`ConfigError`
per bad value, saying what was expected and what was received."""

from __future__ import annotations

import math
from dataclasses import fields, replace
from typing import Any, TypeVar

from pricegym.errors import ConfigError

Config = TypeVar("Config")

# ``owner`` names what is being configured ("Markdown-v0", "pricer training"): every message starts with it.


def check_choice(owner: str, name: str, value: str, valid: tuple[str, ...]) -> None:
    """``value`` must be one of ``valid``."""
    if value not in valid:
        raise ConfigError(f"{owner}: unknown {name} {value!r}; choose one of {', '.join(valid)}")


def check_positive_int(owner: str, config: object, *names: str) -> None:
    """Each named field must be an integer > 0."""
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{owner}: {name} must be a positive integer; got {value!r}")


def check_non_negative(owner: str, config: object, *names: str) -> None:
    """Each named field must be a finite number >= 0."""
    check_finite(owner, config, *names)
    for name in names:
        value = getattr(config, name)
        if not value >= 0:
            raise ConfigError(f"{owner}: {name} must be >= 0; got {value!r}")


def check_non_negative_int(owner: str, config: object, *names: str) -> None:
    """Each named field must be an integer >= 0."""
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{owner}: {name} must be an integer >= 0; got {value!r}")


def check_finite(owner: str, config: object, *names: str) -> None:
    """Each named field must be a finite real number (not NaN, not infinite)."""
    for name in names:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ConfigError(f"{owner}: {name} must be a finite number; got {value!r}")


def with_overrides(owner: str, config: Config, overrides: dict[str, Any]) -> Config:
    """``gymnasium.make(env_id, horizon=20)`` style keyword overrides of a config dataclass."""
    if not overrides:
        return config
    known = {field.name for field in fields(config)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"{owner}: unknown option(s) {unknown}; valid options are {sorted(known)}")
    return replace(config, **overrides)
