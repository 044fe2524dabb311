"""The synthetic customer population: segments with text profiles, and their members.

A segment is a life stage x a price attitude, with a favourite category drawn per world; every
customer belongs to one segment and lives in a city. The customer's text profile reads, for
example, "price-sensitive student in Lyon who buys stationery". The city is flavour: it does not
move demand, and a demand model must learn to ignore it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pricegym.worlds.synthetic.catalogue import CATEGORIES


@dataclass(frozen=True)
class PriceAttitude:
    """How a segment weighs price, quality and the competition."""

    name: str
    price_sensitivity: float  # typical beta: utility lost per +100% of list price
    quality_weight: float  # utility per quality tier step
    competitor_weight: float  # utility per +100% of a rival's price (relative to list)


PRICE_ATTITUDES: tuple[PriceAttitude, ...] = (
    PriceAttitude("price-sensitive", 2.6, 0.1, 1.5),
    PriceAttitude("value-seeking", 1.8, 0.4, 1.0),
    PriceAttitude("quality-focused", 1.2, 0.8, 0.4),
)

LIFE_STAGES: dict[str, float] = {  # life stage -> multiplier of price sensitivity
    "student": 1.25,
    "young professional": 0.9,
    "parent of young children": 1.1,
    "retiree": 1.0,
    "small-business owner": 0.85,
}

CITIES: tuple[str, ...] = ("Lyon", "Manchester", "Berlin", "Milan", "Rotterdam", "Barcelona", "Leeds", "Toulouse")


def build_segments(rng: np.random.Generator) -> pd.DataFrame:
    """One row per life stage x price attitude, with a favourite category drawn at random.

    Columns: ``segment``, ``life_stage``, ``attitude``, ``attitude_index``, ``sensitivity_multiplier``,
    ``favourite_category``, ``favourite_category_index``.
    """
    rows = []
    for life_stage, multiplier in LIFE_STAGES.items():
        for attitude_index, attitude in enumerate(PRICE_ATTITUDES):
            favourite = int(rng.integers(len(CATEGORIES)))
            rows.append({
                "segment": f"{attitude.name} {life_stage}",
                "life_stage": life_stage,
                "attitude": attitude.name,
                "attitude_index": attitude_index,
                "sensitivity_multiplier": multiplier,
                "favourite_category": CATEGORIES[favourite].name,
                "favourite_category_index": favourite,
            })
    return pd.DataFrame(rows)


def build_customers(n_customers: int, segments: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Persistent customers: segment, city, text profile, shopping activity and an idiosyncratic taste.

    ``activity`` (log-normal) sets how often a customer shows up in the log; ``taste`` (normal,
    sd 0.3, not in the text) shifts their utility for everything - the part of demand no text
    can explain.
    """
    segment_index = rng.integers(len(segments), size=n_customers)
    city = rng.choice(CITIES, size=n_customers)
    members = segments.iloc[segment_index].reset_index(drop=True)
    customer_text = [
        f"{row.attitude} {row.life_stage} in {home} who buys {row.favourite_category}"
        for row, home in zip(members.itertuples(), city, strict=True)
    ]
    return pd.DataFrame({
        "customer_id": [f"C{index:05d}" for index in range(n_customers)],
        "customer_text": customer_text,
        "segment_index": segment_index,
        "segment": members["segment"],
        "city": city,
        "activity": rng.lognormal(0.0, 0.5, n_customers),
        "taste": rng.normal(0.0, 0.3, n_customers),
    })
