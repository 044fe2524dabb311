"""The synthetic catalogue: products described in natural language from their attributes.

Each product has a category, a brand, a material, a colour and a quality tier; its title and
description are written from them, so a language model reading the text can recover what drives
demand (category, brand, quality) and must learn to ignore what does not (colour, wording).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Category:
    """A product category: what its products are called, made of and cost."""

    name: str
    nouns: tuple[str, ...]
    materials: tuple[str, ...]
    brands: tuple[str, ...]
    base_price: float


CATEGORIES: tuple[Category, ...] = (
    Category("stationery", ("notebook", "fountain pen", "desk organiser", "sketchbook", "planner"),
             ("recycled paper", "leather", "bamboo", "kraft card"), ("Papeterie Lune", "Inkwell", "Scribo"), 12.0),
    Category("kitchen", ("chef's knife", "cutting board", "frying pan", "mixing bowl", "teapot"),
             ("stainless steel", "cast iron", "oak", "ceramic"), ("Nordvik", "Casa Forno", "Kitchin"), 35.0),
    Category("electronics accessories", ("phone case", "USB-C charger", "wireless earbuds", "laptop stand",
                                         "power bank"),
             ("aluminium", "silicone", "recycled plastic", "fabric"), ("Voltari", "Pixelnest", "Ampere&Co"), 40.0),
    Category("apparel", ("hoodie", "rain jacket", "wool scarf", "running shorts", "denim shirt"),
             ("organic cotton", "merino wool", "recycled polyester", "linen"),
             ("Fjellgear", "Maison Bleu", "Urbanloom"),
             45.0),
    Category("home decor", ("table lamp", "throw blanket", "scented candle", "wall clock", "vase"),
             ("glass", "ceramic", "rattan", "soy wax"), ("Hygge House", "Lumiere", "Terracotta Lane"), 30.0),
    Category("toys", ("building blocks set", "plush bear", "puzzle", "wooden train", "board game"),
             ("beech wood", "plush fabric", "cardboard", "BPA-free plastic"),
             ("Kidoodle", "Toyland", "Little Oak"), 25.0),
    Category("garden", ("watering can", "plant pot", "pruning shears", "bird feeder", "seed kit"),
             ("galvanised steel", "terracotta", "recycled plastic", "cedar"), ("GreenThumb", "Jardin Vert", "Sprout"),
             20.0),
    Category("personal care", ("face cream", "shampoo bar", "beard oil", "bath salts", "hand soap"),
             ("shea butter", "argan oil", "lavender", "sea salt"), ("Pure Botanica", "Savonnerie", "Dermacalm"), 15.0),
)

COLOURS: tuple[str, ...] = ("black", "white", "navy", "sage green", "terracotta", "mustard yellow", "grey", "natural")

QUALITY_TIERS: tuple[str, ...] = ("budget", "standard", "premium")
"""Quality tiers, with quality scores -1, 0, +1 and list-price multipliers :data:`TIER_PRICE_MULTIPLIER`."""

TIER_PRICE_MULTIPLIER: tuple[float, ...] = (0.7, 1.0, 1.6)
TIER_WORDING: tuple[str, ...] = ("An affordable, no-frills", "A well-made everyday", "A premium, carefully crafted")


def build_catalogue(n_products: int, rng: np.random.Generator) -> pd.DataFrame:
    """Draw ``n_products`` products with attributes, text, list price and unit cost.

    Returns a frame indexed 0..n-1 with columns ``product_id``, ``product_text``, ``category``,
    ``category_index``, ``brand``, ``material``, ``colour``, ``quality_tier``, ``quality``,
    ``list_price``, ``unit_cost``.
    """
    category_index = rng.integers(len(CATEGORIES), size=n_products)
    tier_index = rng.choice(len(QUALITY_TIERS), size=n_products, p=[0.3, 0.45, 0.25])
    rows = [_product_attributes(CATEGORIES[c], t, rng) for c, t in zip(category_index, tier_index, strict=True)]
    products = pd.DataFrame(rows)
    base_price = np.array([CATEGORIES[c].base_price for c in category_index])
    list_price = base_price * np.take(TIER_PRICE_MULTIPLIER, tier_index) * rng.lognormal(0.0, 0.2, n_products)
    products["product_id"] = [f"P{index:04d}" for index in range(n_products)]
    products["category_index"] = category_index
    products["quality_tier"] = np.take(QUALITY_TIERS, tier_index)
    products["quality"] = tier_index - 1.0
    products["list_price"] = np.round(list_price, 2)
    products["unit_cost"] = np.round(products["list_price"] * rng.uniform(0.35, 0.6, n_products), 2)
    products["product_text"] = [_product_text(row, tier) for row, tier in zip(rows, tier_index, strict=True)]
    return products[["product_id", "product_text", "category", "category_index", "brand", "material", "colour",
                     "quality_tier", "quality", "list_price", "unit_cost"]]


def _product_attributes(category: Category, tier: int, rng: np.random.Generator) -> dict[str, str]:
    return {
        "category": category.name,
        "noun": str(rng.choice(category.nouns)),
        "brand": str(rng.choice(category.brands)),
        "material": str(rng.choice(category.materials)),
        "colour": str(rng.choice(COLOURS)),
        "tier_wording": TIER_WORDING[tier],
    }


def _product_text(attributes: dict[str, str], tier: int) -> str:
    title = f"{attributes['brand']} {attributes['material']} {attributes['noun']}, {attributes['colour']}"
    description = (
        f"{attributes['tier_wording']} {attributes['noun']} in {attributes['colour']} {attributes['material']} "
        f"from {attributes['brand']}, for the {attributes['category']} shelf ({QUALITY_TIERS[tier]} range)."
    )
    return f"{title}. {description}"
