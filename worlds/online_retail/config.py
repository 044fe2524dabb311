"""The one typed configuration of the online-retail world."""

from __future__ import annotations

from dataclasses import field
from pathlib import Path

from pricegym.config_checks import Seed, config_dataclass, config_to_dict, number
from pricegym.errors import ConfigError


def default_cache_dir() -> Path:
    """Where the downloaded data set is kept: ``~/.cache/pricegym``."""
    return Path.home() / ".cache" / "pricegym"


HeldOutShare = number(0.0, 1.0, high_open=True)


@config_dataclass("online-retail world")
class OnlineRetailConfig:
    """Where the UCI Online Retail data come from, and how the world is cut and costed.

    Attributes:
        data_path: a CSV (plain or gzip) in the layout of ``online_retail.csv.gz``; None fetches
            the UCI original into ``cache_dir`` (see :func:`~pricegym.worlds.online_retail.fetch_online_retail`).
        cache_dir: the download cache, used only when ``data_path`` is None.
        unit_cost_share: ``unit_cost = unit_cost_share * list_price``; the data record no costs,
            so margins rest on this documented assumption.
        validation_share, test_share: calendar shares of the time split.
        cold_start_share: share of products held out as new products.
        seed: which products are held out.
    """

    data_path: Path | None = None
    cache_dir: Path = field(default_factory=default_cache_dir)
    unit_cost_share: HeldOutShare = 0.6
    validation_share: HeldOutShare = 0.15
    test_share: HeldOutShare = 0.15
    cold_start_share: HeldOutShare = 0.2
    seed: Seed = 0

    def __post_init__(self) -> None:
        if self.validation_share + self.test_share >= 1.0:
            raise ConfigError(
                "online-retail world: validation_share + test_share must be below 1 so that training keeps "
                f"some time; received {self.validation_share} + {self.test_share}; lower one of them"
            )

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary of every parameter (paths as strings)."""
        return config_to_dict(self)
