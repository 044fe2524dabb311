"""The one typed configuration of the synthetic world."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

from pricegym.errors import ConfigError
from pricegym.worlds.demand import ReferencePriceEffect


@dataclass(frozen=True)
class SyntheticWorldConfig:
    """Size, seed and documented parameters of the synthetic world.

    Attributes:
        seed: every random draw of the world (catalogue, population, truth, log) follows from it.
        n_products: products in the catalogue.
        n_customers: persistent customers, each a member of one segment.
        n_exposures: logged exposures (one customer sees one product at one price).
        n_days: length of the logged period, in days from ``start_date``.
        start_date: first day of the log (ISO date).
        exploration_share: share of exposures priced uniformly at random in
            ``exploration_price_range`` x list price instead of by the incumbent policy, so that price
            response is identifiable.
        exploration_price_range: bounds of the randomised prices, as multiples of the list price.
        incumbent_price_noise: standard deviation of the incumbent's log-price noise.
        reference_effect: the reference-price memory (theta) and its gain/loss coefficients.
        validation_share, test_share: calendar shares of the time split.
        cold_start_share: share of products held out as new products.
    """

    seed: int = 0
    n_products: int = 160
    n_customers: int = 800
    n_exposures: int = 60_000
    n_days: int = 364
    start_date: str = "2024-01-01"
    exploration_share: float = 0.2
    exploration_price_range: tuple[float, float] = (0.6, 1.4)
    incumbent_price_noise: float = 0.05
    reference_effect: ReferencePriceEffect = field(default_factory=ReferencePriceEffect)
    validation_share: float = 0.15
    test_share: float = 0.15
    cold_start_share: float = 0.2

    def __post_init__(self) -> None:
        for name in ("n_products", "n_customers", "n_exposures", "n_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ConfigError(f"synthetic world: {name} must be a positive integer; got {value!r}")
        if self.n_products < 5:
            raise ConfigError(
                f"synthetic world: n_products must be at least 5 so that every split holds products; "
                f"got {self.n_products}"
            )
        if not 0.0 <= self.exploration_share <= 1.0:
            raise ConfigError(f"synthetic world: exploration_share must lie in [0, 1]; got {self.exploration_share}")
        low, high = self.exploration_price_range
        if not 0.0 < low < high:
            raise ConfigError(
                f"synthetic world: exploration_price_range must be (low, high) with 0 < low < high; "
                f"got {self.exploration_price_range}"
            )
        if self.incumbent_price_noise < 0:
            raise ConfigError(
                f"synthetic world: incumbent_price_noise must be >= 0; got {self.incumbent_price_noise}"
            )
        try:
            pd.Timestamp(self.start_date)
        except ValueError as error:
            raise ConfigError(
                f"synthetic world: start_date must be an ISO date such as 2024-01-01; got {self.start_date!r}"
            ) from error

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary of every parameter."""
        return asdict(self)
