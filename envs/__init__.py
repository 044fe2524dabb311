"""Gymnasium pricing environments driven by a demand model.

Importing this package registers the environments::

    import gymnasium as gym
    import pricegym.envs  # noqa: F401

    env = gym.make("pricegym/Markdown-v0", horizon=20, initial_inventory=10)
    env = gym.make("pricegym/PersonalizedDiscount-v0", scenario="promotion-budget", n_customers=50)
    env = gym.make("pricegym/Competition-v0", rivals=("undercut", "random"))

Each also steps B episodes at once through its batched core (:mod:`pricegym.envs.vector`)::

    vec_env = pricegym.envs.make_vec("pricegym/Markdown-v0", n_envs=256)          # an SB3 VecEnv
    envs = gym.make_vec("pricegym/Markdown-v0", num_envs=1024, vectorization_mode="vector_entry_point")
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
VECTOR_ENTRY_POINTS = {
    MARKDOWN_ID: "pricegym.envs.vector:markdown_vector",
    PERSONALIZED_DISCOUNT_ID: "pricegym.envs.vector:personalized_discount_vector",
    COMPETITION_ID: "pricegym.envs.vector:competition_vector",
}

# order_enforce=False: the environments refuse a step before reset themselves, with the same
# pricegym.errors.EnvStateError whether made by gym.make or constructed directly.
for env_id, entry_point in ENTRY_POINTS.items():
    if env_id not in registry:
        register(id=env_id, entry_point=entry_point, vector_entry_point=VECTOR_ENTRY_POINTS[env_id],
                 disable_env_checker=False, order_enforce=False)


def make_vec(env_id: str, n_envs: int = 8, seed: int | None = None, **options):
    """An SB3 ``VecEnv`` of ``n_envs`` episodes of ``env_id`` stepped together by its batched core
    (:func:`pricegym.envs.vector.make_vec`; ``options`` are the environment's config options)."""
    from pricegym.envs.vector import make_vec as make_batched_vec_env

    return make_batched_vec_env(env_id, n_envs, seed=seed, **options)

__all__ = ["COMPETITION_ID", "MARKDOWN_ID", "PERSONALIZED_DISCOUNT_ID", "CompetitionConfig", "CompetitionEnv",
           "MarkdownConfig", "MarkdownEnv", "PersonalizedDiscountConfig", "PersonalizedDiscountEnv", "make_vec"]
