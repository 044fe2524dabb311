"""pricegym: a reinforcement-learning simulator for dynamic and personalized e-commerce pricing.

The data flows one way: ``pricegym.worlds`` (customers, products, markets and their transactions)
-> ``pricegym.encoders`` (text -> embeddings; the demand model) -> ``pricegym.envs`` (Gymnasium
environments) -> ``pricegym.agents`` (SB3 agents and baseline policies) -> ``pricegym.experiments``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pricegym")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
