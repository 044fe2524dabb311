"""An SB3 features extractor that reads an environment's observation layout.

The observation of every pricing environment is a flat bounded vector whose named parts are described by
its :class:`~pricegym.envs.observation.FeatureLayout` (``env.unwrapped.observation_layout``).
:class:`LayoutFeaturesExtractor` splits it into

* the LM embeddings (``layout.embedding_parts()``): every d-dimensional item of every embedding part (each
  of Markdown's K products, PersonalizedDiscount's visitor and viewed product) goes through ONE learned
  linear projection ``d -> embedding_projection``, shared across products and customers, and the projected
  items are concatenated in observation order;
* the numeric parts (everything else): one hidden layer of ``numeric_hidden`` units with ReLU;

and returns both concatenated (``features_dim = items x embedding_projection + numeric_hidden``). Without
embeddings (``observe_embeddings=False``: ``layout.embedding_dim == 0``) only the MLP remains.

Use it through :func:`layout_policy_kwargs`::

    from stable_baselines3 import PPO
    from pricegym.agents.features import layout_policy_kwargs
    from pricegym.envs import make_vec

    options = {"horizon": 30}
    model = PPO("MlpPolicy", make_vec("pricegym/Markdown-v0", 8, **options),
                policy_kwargs=layout_policy_kwargs("pricegym/Markdown-v0", **options))

The layout is a frozen dataclass, so the policy kwargs pickle (``model.save`` / ``PPO.load``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from pricegym.envs.observation import FeatureLayout


def _check_layout(observation_space: spaces.Space, layout: FeatureLayout) -> None:
    """Raise a one-line ValueError unless ``layout`` describes ``observation_space``."""
    if not isinstance(layout, FeatureLayout):
        raise ValueError(f"LayoutFeaturesExtractor needs a FeatureLayout (env.unwrapped.observation_layout), "
                         f"got {type(layout).__name__}")
    if not isinstance(observation_space, spaces.Box) or len(observation_space.shape) != 1:
        raise ValueError(f"LayoutFeaturesExtractor needs a flat Box observation space, got {observation_space}")
    if observation_space.shape[0] != layout.size:
        raise ValueError(f"the observation layout does not match the observation space: the layout has "
                         f"{layout.size} entries ({', '.join(layout.names())}), the space "
                         f"{observation_space.shape[0]}; build the layout from the same environment options")
    for part in layout.embedding_parts():
        if layout.embedding_dim <= 0 or part.size % layout.embedding_dim:
            raise ValueError(f"the observation layout's embedding part {part.name!r} has {part.size} entries, "
                             f"not a multiple of its embedding_dim {layout.embedding_dim}")


def _positive(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"LayoutFeaturesExtractor: {name} must be a positive integer, got {value!r}")
    return int(value)


class LayoutFeaturesExtractor(BaseFeaturesExtractor):
    """Embedding parts through one shared linear projection per item, numeric parts through an MLP.

    Args:
        observation_space: the flat ``Box`` the layout describes (SB3 passes it).
        layout: the environment's :class:`~pricegym.envs.observation.FeatureLayout`.
        embedding_projection: the size each d-dimensional embedding item is projected to.
        numeric_hidden: the width of the numeric parts' hidden layer (ReLU).

    Attributes:
        n_items: the number of embedding items (0 without embeddings), e.g. K for Markdown-v0 and 2 for
            PersonalizedDiscount-v0 (visitor, viewed product).
        projection: the shared ``nn.Linear(d, embedding_projection)`` (None without embeddings).
        numeric: the numeric parts' ``Linear + ReLU`` (None when the observation is all embeddings).

    Raises:
        ValueError: (one line) when the layout does not describe the observation space, or a size is not
            a positive integer.
    """

    def __init__(self, observation_space: spaces.Box, layout: FeatureLayout, embedding_projection: int = 16,
                 numeric_hidden: int = 64):
        _check_layout(observation_space, layout)
        embedding_projection = _positive("embedding_projection", embedding_projection)
        numeric_hidden = _positive("numeric_hidden", numeric_hidden)
        embedding_index = [np.arange(part.start, part.start + part.size) for part in layout.embedding_parts()]
        embedded = np.concatenate(embedding_index) if embedding_index else np.zeros(0, np.int64)
        numeric_index = np.setdiff1d(np.arange(layout.size), embedded)
        dim = layout.embedding_dim
        n_items = embedded.size // dim if embedded.size else 0
        features_dim = n_items * embedding_projection + (numeric_hidden if numeric_index.size else 0)
        if features_dim == 0:
            raise ValueError("LayoutFeaturesExtractor: the observation layout has no entries to extract")
        super().__init__(observation_space, features_dim)
        self.layout = layout
        self.n_items = n_items
        self.embedding_projection = embedding_projection
        self.register_buffer("embedding_index", torch.as_tensor(embedded, dtype=torch.long), persistent=False)
        self.register_buffer("numeric_index", torch.as_tensor(numeric_index, dtype=torch.long), persistent=False)
        self.projection = nn.Linear(dim, embedding_projection) if n_items else None
        self.numeric = (nn.Sequential(nn.Linear(numeric_index.size, numeric_hidden), nn.ReLU())
                        if numeric_index.size else None)

    def project_embeddings(self, observations: torch.Tensor) -> torch.Tensor:
        """Each embedding item through the shared projection: ``[batch, n_items, embedding_projection]``."""
        if self.projection is None:
            return observations.new_zeros((observations.shape[0], 0, self.embedding_projection))
        items = observations.index_select(1, self.embedding_index)
        return self.projection(items.reshape(observations.shape[0], self.n_items, self.layout.embedding_dim))

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """``[batch, layout.size]`` observations to ``[batch, features_dim]`` features."""
        features = []
        if self.projection is not None:
            features.append(self.project_embeddings(observations).flatten(1))
        if self.numeric is not None:
            features.append(self.numeric(observations.index_select(1, self.numeric_index)))
        return torch.cat(features, dim=1) if len(features) > 1 else features[0]


def env_layout(env_id: str, **env_options: Any) -> FeatureLayout:
    """The observation layout of ``env_id`` built once with ``env_options`` (the environment is closed)."""
    import gymnasium as gym

    import pricegym.envs  # noqa: F401  (registers the environments)

    env = gym.make(env_id, **env_options)
    try:
        return env.unwrapped.observation_layout
    finally:
        env.close()


def layout_policy_kwargs(env_id: str, **env_options: Any) -> dict[str, Any]:
    """SB3 ``policy_kwargs`` naming :class:`LayoutFeaturesExtractor` with ``env_id``'s layout.

    Builds the environment once (``gymnasium.make(env_id, **env_options)``) to read its layout; pass the
    same options as the training environment. Add ``embedding_projection`` / ``numeric_hidden`` to
    ``features_extractor_kwargs``, or ``net_arch`` etc. to the dict, as needed.
    """
    return {"features_extractor_class": LayoutFeaturesExtractor,
            "features_extractor_kwargs": {"layout": env_layout(env_id, **env_options)}}
