"""The synthetic world: a catalogue, a population, a market and a log, whose true demand is known."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pricegym.config_checks import as_config
from pricegym.worlds.demand import MarketContext
from pricegym.worlds.schema import validate_transactions
from pricegym.worlds.splits import SPLIT_NAMES, Splits, make_splits
from pricegym.worlds.summary import format_quantiles, transactions_summary
from pricegym.worlds.synthetic.catalogue import CATEGORIES, build_catalogue
from pricegym.worlds.synthetic.config import SyntheticWorldConfig
from pricegym.worlds.synthetic.exposure_log import WorldParts, simulate_exposure_log
from pricegym.worlds.synthetic.ground_truth import GroundTruthDemand, draw_ground_truth
from pricegym.worlds.synthetic.incumbent import IncumbentPricingPolicy
from pricegym.worlds.synthetic.market import build_calendar, build_competitor_prices
from pricegym.worlds.synthetic.population import PRICE_ATTITUDES, build_customers, build_segments

RANDOM_STREAMS = ("catalogue", "population", "ground_truth", "market", "log")
"""Independent random streams spawned from the seed, so that e.g. a longer log keeps the same catalogue."""


class SyntheticWorld:
    """A world whose true demand is known, built reproducibly from a :class:`SyntheticWorldConfig`.

    Attributes:
        config: the configuration it was built from.
        parts: everything the log was simulated from (the attributes below, together).
        products, segments, customers: the catalogue and the population (one row each).
        ground_truth: the true purchase model, through the demand interface.
        incumbent: the pricing policy behind the logged prices.
        transactions: the validated exposure log (see :mod:`pricegym.worlds.schema`).
        splits: time and cold-start splits of the log.
    """

    name = "synthetic"
    response = "purchase_probability"

    def __init__(self, config: SyntheticWorldConfig, parts: WorldParts, transactions: pd.DataFrame) -> None:
        self.config = config
        self.parts = parts
        self.products = parts.products
        self.segments = parts.segments
        self.customers = parts.customers
        self.calendar = parts.calendar
        self.competitor_prices = parts.competitor_prices
        self.incumbent = parts.incumbent
        self._ground_truth = parts.ground_truth
        self.transactions = validate_transactions(transactions, source="synthetic world")
        self.splits: Splits = make_splits(
            self.transactions,
            validation_share=config.validation_share,
            test_share=config.test_share,
            cold_start_share=config.cold_start_share,
            seed=config.seed,
        )

    @classmethod
    def build(cls, config: SyntheticWorldConfig | None = None) -> SyntheticWorld:
        """Draw the catalogue, population, truth and market, then simulate the log."""
        config = as_config("synthetic world", SyntheticWorldConfig, config)
        streams = dict(zip(RANDOM_STREAMS, _spawn(config.seed, len(RANDOM_STREAMS)), strict=True))
        products = build_catalogue(config.n_products, streams["catalogue"])
        segments = build_segments(streams["population"])
        customers = build_customers(config.n_customers, segments, streams["population"])
        truth_rng = streams["ground_truth"]
        parameters = draw_ground_truth(segments, products, truth_rng)
        parts = WorldParts(
            products=products,
            segments=segments,
            customers=customers,
            calendar=build_calendar(config.start_date, config.n_days),
            competitor_prices=build_competitor_prices(products["list_price"].to_numpy(), config.n_days,
                                                      streams["market"]),
            ground_truth=GroundTruthDemand(parameters, customers, products, config.reference_effect),
            incumbent=IncumbentPricingPolicy.draw(segments, config.incumbent_price_noise, truth_rng),
        )
        return cls(config, parts, simulate_exposure_log(config, parts, streams["log"]))

    @property
    def ground_truth(self) -> GroundTruthDemand:
        """The true purchase model (customers index :attr:`customers`, products :attr:`products`)."""
        return self._ground_truth

    def all_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Customer and product indices of every customer x product pair, as a broadcastable grid."""
        return np.arange(len(self.customers))[:, None], np.arange(len(self.products))[None, :]

    def true_elasticity_table(self) -> pd.DataFrame:
        """Median true price elasticity at list price, by price attitude (rows) x category (columns),
        over every customer x product pair in a neutral market."""
        customers, products = self.all_pairs()
        elasticity = self.ground_truth.price_elasticity(
            customers, products, self.ground_truth.list_prices[products], MarketContext.neutral()
        )
        attitude = self.segments["attitude_index"].to_numpy()[self.customers["segment_index"].to_numpy()]
        category = self.products["category_index"].to_numpy()
        table = pd.DataFrame(
            [[np.median(elasticity[np.ix_(attitude == a, category == k)]) if np.any(category == k) else np.nan
              for k in range(len(CATEGORIES))] for a in range(len(PRICE_ATTITUDES))],
            index=[attitude_.name for attitude_ in PRICE_ATTITUDES],
            columns=[category_.name for category_ in CATEGORIES],
        )
        return table.round(2)

    def summary(self) -> dict[str, object]:
        """Counts, price variation, conversion, the true elasticities and optimal prices."""
        frame = self.transactions
        customers, products = self.all_pairs()
        list_price = self.ground_truth.list_prices[products]
        neutral = MarketContext.neutral()
        elasticity = self.ground_truth.price_elasticity(customers, products, list_price, neutral)
        revenue_optimum = self.ground_truth.optimal_price(customers, products, neutral) / list_price
        margin_optimum = self.ground_truth.optimal_price(
            customers, products, neutral, unit_costs=self.products["unit_cost"].to_numpy()[products]
        ) / list_price
        split_sizes = self.splits.assign(frame).value_counts()
        effect = self.config.reference_effect
        return {
            "world": f"synthetic (seed {self.config.seed})",
            **transactions_summary(frame),
            "segments": len(self.segments),
            "exposures": len(frame),
            "conversion rate": round(float(frame["quantity"].gt(0).mean()), 4),
            "exploration-priced share": round(float(frame["price_source"].eq("exploration").mean()), 3),
            "rows per split": ", ".join(f"{name} {int(split_sizes.get(name, 0))}" for name in SPLIT_NAMES),
            "reference price": f"theta {effect.theta}, gain {effect.gain}, loss {effect.loss}",
            "true elasticity at list price (5%, 50%, 95%)": format_quantiles(elasticity),
            "true revenue-optimal price / list (5%, 50%, 95%)": format_quantiles(revenue_optimum),
            "true margin-optimal price / list (5%, 50%, 95%)": format_quantiles(margin_optimum),
        }


def _spawn(seed: int, count: int) -> list[np.random.Generator]:
    return [np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(count)]
