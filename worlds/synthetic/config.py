"""The one typed configuration of the synthetic world."""

from __future__ import annotations

from dataclasses import asdict, field, replace
from typing import Annotated

from pydantic import AfterValidator

from pricegym.config_checks import IsoDate, Seed, config_dataclass, integer, number
from pricegym.errors import ConfigError
from pricegym.worlds.demand import ReferencePriceEffect


def _ordered(price_range: tuple[float, float]) -> tuple[float, float]:
    if not price_range[0] < price_range[1]:
        raise ValueError(f"must be (low, high) multiples of the list price with low < high; got {price_range!r}")
    return price_range


MAX_EXPOSURES = 5_000_000
"""Logged exposures at most: each takes about 0.7 kB while the world is built (3.5 GB here)."""
MAX_CUSTOMER_PRODUCT_PAIRS = 2**26
"""Customers x products at most: worlds and environments keep tables over every pair (utility at list price,
price sensitivity, purchase probability), 512 MB each at this size."""

Share = number(0.0, 1.0)
HeldOutShare = number(0.0, 1.0, high_open=True)
PriceMultiple = number(0.01, 100.0)


@config_dataclass("synthetic world")
class SyntheticWorldConfig:
    """Size, seed and documented parameters of the synthetic world.

    Attributes:
        seed: every random draw of the world (catalogue, population, truth, log) follows from it.
        n_products: products in the catalogue.
        n_customers: persistent customers, each a member of one segment; ``n_customers x n_products``
            is at most :data:`MAX_CUSTOMER_PRODUCT_PAIRS` (the demand tables of every pair must fit in
            memory: either at its largest with the other's default fits).
        n_exposures: logged exposures (one customer sees one product at one price); at most five
            million, which take about 4 GB and 15 seconds to build.
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

    seed: Seed = 0
    n_products: integer(5, 80_000) = 160
    n_customers: integer(1, 400_000) = 800
    n_exposures: integer(1, MAX_EXPOSURES) = 60_000
    n_days: integer(1, 100_000) = 364
    start_date: IsoDate = "2024-01-01"
    exploration_share: Share = 0.2
    exploration_price_range: Annotated[tuple[PriceMultiple, PriceMultiple], AfterValidator(_ordered)] = (0.6, 1.4)
    incumbent_price_noise: number(0.0, 2.0) = 0.05
    reference_effect: ReferencePriceEffect = field(default_factory=ReferencePriceEffect)
    validation_share: HeldOutShare = 0.15
    test_share: HeldOutShare = 0.15
    cold_start_share: HeldOutShare = 0.2

    def __post_init__(self) -> None:
        pairs = self.n_customers * self.n_products
        if pairs > MAX_CUSTOMER_PRODUCT_PAIRS:
            raise ConfigError(f"synthetic world: n_customers x n_products = {self.n_customers:,} x {self.n_products:,} "
                              f"= {pairs:,} pairs, more than the {MAX_CUSTOMER_PRODUCT_PAIRS:,} whose demand tables "
                              "fit in memory; lower n_customers or n_products")
        if self.validation_share + self.test_share >= 1.0:
            raise ConfigError("synthetic world: validation_share + test_share must be below 1 so that training "
                              f"keeps some days; got {self.validation_share} + {self.test_share}")

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary of every parameter."""
        return asdict(self)


DEMAND_LOG_EXPOSURES = 1_000_000
"""Exposures a demand model is fitted on by default (``pricegym fit-demand``, the main job's demand stage)."""
DEMAND_LOG_EXPLORATION_SHARE = 0.4
"""Share of them at randomised prices."""


def demand_log(config: SyntheticWorldConfig) -> SyntheticWorldConfig:
    """The same world with the longer exploration log a demand model is fitted on by default.

    The customers, products and true demand do not depend on the log (they are drawn before it), so a model
    fitted on this log fits the world ``config`` describes, whose own shorter log sets the environments' price
    ranges. Price slopes per segment x category are what the log must identify, and they need the rows: on the
    default world the fitted elasticity's error falls from 0.52 (60,000 exposures, 20% randomised) to 0.27
    (this log; see the README's demand-model section).
    """
    return replace(config, n_exposures=max(config.n_exposures, DEMAND_LOG_EXPOSURES),
                   exploration_share=max(config.exploration_share, DEMAND_LOG_EXPLORATION_SHARE))
