"""pricegym's hyperparameters as an rl_zoo3 Python config, with the layout features extractor resolved.

rl_zoo3 (the optional extra ``pip install 'pricegym[zoo]'``) reads ``-conf some.python.module`` as that module's
``hyperparams`` mapping, keyed by environment id. This module's :data:`hyperparams` is
``agents/hyperparams/ppo_layout.yml`` with pricegym's own key ``features_extractor: layout`` turned into real
SB3 ``policy_kwargs`` (``features_extractor_class=LayoutFeaturesExtractor``,
``features_extractor_kwargs={"layout": <the environment's FeatureLayout>}``), so that::

    python -m rl_zoo3.train --algo ppo --env pricegym/Markdown-v0 --gym-packages pricegym.envs \\
        -conf pricegym.agents.zoo_hyperparams -n 2048

trains PPO with :class:`~pricegym.agents.features.LayoutFeaturesExtractor` (also for
``pricegym/Competition-v0`` and ``pricegym/PersonalizedDiscount-v0``).

* Lazy: building a layout makes the environment once (about 1-2 s), so an entry is built only when rl_zoo3
  asks for it (rl_zoo3 lists the keys, then indexes the one environment it trains); each environment's
  layout is built at most once per process. Every lookup returns a fresh dict, which rl_zoo3 may mutate.
* Environment options: the layout is built with the entry's ``env_kwargs`` when the YAML entry has one (the
  default options otherwise). rl_zoo3's command-line ``--env-kwargs`` are not visible here: when they change
  the observation (e.g. ``--env-kwargs observe_embeddings:False``), training stops at once with
  LayoutFeaturesExtractor's one-line ValueError ("the observation layout does not match the observation
  space ..."). Put such options in the YAML entry's ``env_kwargs`` instead (pricegym's own ``pricegym train``
  refuses ``env_kwargs`` in a hyperparameter file, so keep such a file for rl_zoo3 only).
* rl_zoo3's ``--hyperparams policy_kwargs:...`` on the command line replaces the whole ``policy_kwargs``,
  layout extractor included; other ``--hyperparams`` overrides (``n_envs:8 n_steps:16``...) keep it.
* rl_zoo3 steps ``n_envs`` Python environments in a ``DummyVecEnv``, not pricegym's batched core
  (:func:`pricegym.envs.make_vec`), so ppo_layout.yml's 256 environments run much slower under rl_zoo3 than
  under ``pricegym train``; ``--hyperparams n_envs:8 n_steps:256 batch_size:256`` suits rl_zoo3 better.

Another YAML file of pricegym's format: write a two-line Python file and pass its path to ``-conf``::

    # my_zoo_conf.py
    from pricegym.agents.zoo_hyperparams import zoo_hyperparams
    hyperparams = zoo_hyperparams("agents/hyperparams/ppo_layout.yml")  # or any YAML keyed by env id
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pricegym.agents.hyperparameters import HYPERPARAMS_DIR, as_kwargs, read_hyperparams_file
from pricegym.errors import ConfigError

LAYOUT_YAML = HYPERPARAMS_DIR / "ppo_layout.yml"
"""The YAML file behind this module's :data:`hyperparams`."""

EXTRACTOR_KEY = "features_extractor"
"""pricegym's own hyperparameter key, which rl_zoo3 does not know."""


class ZooHyperparams(Mapping[str, dict[str, Any]]):
    """rl-zoo hyperparameters keyed by environment id, read from one of pricegym's YAML files.

    ``self[env_id]`` is a fresh dict of that entry with ``features_extractor: layout`` resolved into
    ``policy_kwargs`` (``features_extractor: mlp`` / ``flatten`` is dropped); the layout is built on the first
    lookup of ``env_id`` and cached. Listing the keys builds nothing.

    Args:
        path: a YAML file keyed by environment id (rl-zoo3's format, pricegym's ``features_extractor`` allowed).

    Raises:
        ConfigError: (one line) when the file cannot be read, or, on lookup, when an entry's
            ``features_extractor``, ``policy_kwargs`` or ``env_kwargs`` is invalid.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._raw: dict[str, Any] = read_hyperparams_file(self.path)
        self._layout_kwargs: dict[str, dict[str, Any]] = {}

    def __getitem__(self, env_id: str) -> dict[str, Any]:
        entry = copy.deepcopy(self._raw[env_id] or {})  # KeyError for an unknown id, as a dict; YAML anchors
        extractor = entry.pop(EXTRACTOR_KEY, None)
        if extractor in (None, "mlp", "flatten"):
            return entry
        if extractor != "layout":
            raise ConfigError(f"{self.path}: {env_id}: features_extractor must be 'layout' or 'mlp'; got "
                              f"{extractor!r}")
        policy_kwargs = as_kwargs(entry.get("policy_kwargs"), f"policy_kwargs of {env_id}")
        layout_kwargs = self._layout_policy_kwargs(env_id, entry.get("env_kwargs"))
        extractor_kwargs = {**layout_kwargs["features_extractor_kwargs"],
                            **policy_kwargs.get("features_extractor_kwargs", {})}
        entry["policy_kwargs"] = {**layout_kwargs, **policy_kwargs, "features_extractor_kwargs": extractor_kwargs}
        return entry

    def _layout_policy_kwargs(self, env_id: str, env_kwargs: Any) -> dict[str, Any]:
        """``layout_policy_kwargs(env_id, **env_kwargs)``, built once per environment id."""
        if env_id not in self._layout_kwargs:
            if env_kwargs is not None and not isinstance(env_kwargs, dict):
                raise ConfigError(f"{self.path}: {env_id}: env_kwargs must be a mapping of environment options; "
                                  f"got {env_kwargs!r}")
            from pricegym.agents import features  # torch and SB3: imported only when a layout is built

            self._layout_kwargs[env_id] = features.layout_policy_kwargs(env_id, **(env_kwargs or {}))
        return self._layout_kwargs[env_id]

    def __contains__(self, env_id: object) -> bool:
        return env_id in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __repr__(self) -> str:
        return f"ZooHyperparams({str(self.path)!r}, keys={list(self._raw)})"


def zoo_hyperparams(path: str | Path) -> ZooHyperparams:
    """The rl_zoo3 ``hyperparams`` of a pricegym YAML file (a path, or a file name in agents/hyperparams/,
    e.g. ``"ppo_layout.yml"``)."""
    given = Path(path)
    if not given.is_file() and not given.is_absolute() and (HYPERPARAMS_DIR / given).is_file():
        given = HYPERPARAMS_DIR / given
    return ZooHyperparams(given)


hyperparams: ZooHyperparams = ZooHyperparams(LAYOUT_YAML)
"""What ``rl_zoo3.train -conf pricegym.agents.zoo_hyperparams`` reads: ppo_layout.yml, layouts resolved."""
