"""Gymnasium pricing environments driven by a demand model.

Importing this package registers the environments::

    import gymnasium as gym
    import pricegym.envs  # noqa: F401

    env = gym.make("pricegym/Markdown-v0", horizon=20, initial_inventory=10)
"""

from gymnasium.envs.registration import register, registry

from pricegym.envs.config import MarkdownConfig
from pricegym.envs.markdown import MarkdownEnv

MARKDOWN_ID = "pricegym/Markdown-v0"

if MARKDOWN_ID not in registry:
    register(id=MARKDOWN_ID, entry_point="pricegym.envs.markdown:MarkdownEnv", disable_env_checker=False)

__all__ = ["MARKDOWN_ID", "MarkdownConfig", "MarkdownEnv"]
