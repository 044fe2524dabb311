"""Gymnasium pricing environments driven by a demand model.

Importing this package registers the environments::

    import gymnasium as gym
    import pricegym.envs  # noqa: F401

    env = gym.make("pricegym/Markdown-v0", horizon=20, initial_inventory=10)
    env = gym.make("pricegym/PersonalizedDiscount-v0", scenario="promotion-budget", n_customers=50)
    env = gym.make("pricegym/Competition-v0", rivals=("undercut", "random"))
"""

from gymnasium.envs.registration import register, registry

from pricegym.envs.competition import CompetitionEnv
from pricegym.envs.competition_config import CompetitionConfig
from pricegym.envs.config import MarkdownConfig
from pricegym.envs.discount_config import PersonalizedDiscountConfig
from pricegym.envs.markdown import MarkdownEnv
from pricegym.envs.personalized_discount import PersonalizedDiscountEnv

MARKDOWN_ID = "pricegym/Markdown-v0"
PERSONALIZED_DISCOUNT_ID = "pricegym/PersonalizedDiscount-v0"
COMPETITION_ID = "pricegym/Competition-v0"

ENTRY_POINTS = {
    MARKDOWN_ID: "pricegym.envs.markdown:MarkdownEnv",
    PERSONALIZED_DISCOUNT_ID: "pricegym.envs.personalized_discount:PersonalizedDiscountEnv",
    COMPETITION_ID: "pricegym.envs.competition:CompetitionEnv",
}

# order_enforce=False: the environments refuse a step before reset themselves, with the same
# pricegym.errors.EnvStateError whether made by gym.make or constructed directly.
for env_id, entry_point in ENTRY_POINTS.items():
    if env_id not in registry:
        register(id=env_id, entry_point=entry_point, disable_env_checker=False, order_enforce=False)

__all__ = ["COMPETITION_ID", "MARKDOWN_ID", "PERSONALIZED_DISCOUNT_ID", "CompetitionConfig", "CompetitionEnv",
           "MarkdownConfig", "MarkdownEnv", "PersonalizedDiscountConfig", "PersonalizedDiscountEnv"]
