"""Build a world by name: the one place that knows every world's constructor."""

from __future__ import annotations

from dataclasses import field, replace
from pathlib import Path
from typing import Literal

from pricegym.config_checks import Seed, as_config, config_dataclass, number
from pricegym.worlds import WORLD_NAMES, World
from pricegym.worlds.synthetic.config import SyntheticWorldConfig, demand_log

WorldName = Literal[WORLD_NAMES]


@config_dataclass("world")
class WorldConfig:
    """Which world to build, and its own configuration.

    Attributes:
        name: one of :data:`~pricegym.worlds.WORLD_NAMES`.
        synthetic: the synthetic world's configuration (used when ``name == "synthetic"``).
        data_path: the online-retail CSV (None: the download cache).
        unit_cost_share: online-retail unit cost as a share of list price.
        seed: online-retail split seed (the synthetic world's seed is in ``synthetic``).
    """

    name: WorldName = "synthetic"
    synthetic: SyntheticWorldConfig = field(default_factory=SyntheticWorldConfig)
    data_path: Path | None = None
    unit_cost_share: number(0.0, 1.0, high_open=True) = 0.6
    seed: Seed = 0


def load_world(config: WorldConfig | dict | str | None = None) -> World:
    """Build the synthetic world or load the online-retail one, as ``config`` says (a :class:`WorldConfig`, a
    dictionary of its options, a world name, or None for the default synthetic world)."""
    config = WorldConfig(name=config) if isinstance(config, str) else as_config("world", WorldConfig, config)
    if config.name == "synthetic":
        from pricegym.worlds.synthetic import SyntheticWorld

        return SyntheticWorld.build(config.synthetic)
    from pricegym.worlds.online_retail import OnlineRetailConfig, load_online_retail

    return load_online_retail(
        OnlineRetailConfig(data_path=config.data_path, unit_cost_share=config.unit_cost_share, seed=config.seed)
    )


def demand_fit_world(config: WorldConfig) -> WorldConfig:
    """The world a demand model is fitted on by default: the synthetic world with its longer exploration log
    (:func:`~pricegym.worlds.synthetic.config.demand_log`); the online-retail world as it is."""
    return replace(config, synthetic=demand_log(config.synthetic)) if config.name == "synthetic" else config
