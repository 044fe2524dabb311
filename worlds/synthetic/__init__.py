"""A synthetic world whose true demand is known: catalogue, population, market, truth and log."""

from pricegym.worlds.synthetic.config import SyntheticWorldConfig
from pricegym.worlds.synthetic.ground_truth import GroundTruthDemand, GroundTruthParameters
from pricegym.worlds.synthetic.incumbent import IncumbentPricingPolicy
from pricegym.worlds.synthetic.world import SyntheticWorld

__all__ = [
    "GroundTruthDemand",
    "GroundTruthParameters",
    "IncumbentPricingPolicy",
    "SyntheticWorld",
    "SyntheticWorldConfig",
]
