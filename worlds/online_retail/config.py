"""The one typed configuration of the online-retail world."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from pricegym.errors import ConfigError


def default_cache_dir() -> Path:
    """Where the downloaded data set is kept: ``~/.cache/pricegym``."""
    return Path.home() / ".cache" / "pricegym"


@dataclass(frozen=True)
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
    unit_cost_share: float = 0.6
    validation_share: float = 0.15
    test_share: float = 0.15
    cold_start_share: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        if self.data_path is not None:
            if not isinstance(self.data_path, str | Path):
                raise ConfigError(
                    f"online-retail world: data_path must be a path or None; received {self.data_path!r}; "
                    "pass the path of online_retail.csv.gz or leave it None to download the data"
                )
            object.__setattr__(self, "data_path", Path(self.data_path))
        if not isinstance(self.cache_dir, str | Path):
            raise ConfigError(
                f"online-retail world: cache_dir must be a path; received {self.cache_dir!r}; "
                "pass a writable folder such as ~/.cache/pricegym"
            )
        object.__setattr__(self, "cache_dir", Path(self.cache_dir))
        self._check_share("unit_cost_share", self.unit_cost_share, "0 <= share < 1 (costs below list prices)")
        for name in ("validation_share", "test_share", "cold_start_share"):
            self._check_share(name, getattr(self, name), "0 <= share < 1")
        if self.validation_share + self.test_share >= 1.0:
            raise ConfigError(
                "online-retail world: validation_share + test_share must be below 1 so that training keeps "
                f"some time; received {self.validation_share} + {self.test_share}; lower one of them"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(
                f"online-retail world: seed must be a non-negative integer; received {self.seed!r}; "
                "pass for example seed=0"
            )

    @staticmethod
    def _check_share(name: str, value: object, expected: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < 1.0:
            raise ConfigError(
                f"online-retail world: {name} must be a number with {expected}; received {value!r}; "
                f"pass a value such as {OnlineRetailConfig.__dataclass_fields__[name].default}"
            )

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary of every parameter (paths as strings)."""
        values = asdict(self)
        values["data_path"] = None if self.data_path is None else str(self.data_path)
        values["cache_dir"] = str(self.cache_dir)
        return values
