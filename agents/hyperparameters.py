"""Hyperparameters of ``pricegym train`` in rl-zoo3's YAML format, keyed by environment id.

The defaults live in ``agents/hyperparams/<algo>.yml``; a file of the user's updates them key by key
(:func:`load_hyperparams`). :func:`resolve_hyperparams` checks every key against the algorithm's
arguments and splits them into what the trainer reads (``n_envs``, ``n_timesteps``, ``policy``,
``normalize``, ``policy_kwargs``, pricegym's ``features_extractor``, ``noise_type``/``noise_std``) and
the algorithm's own arguments (rl-zoo's ``lin_<x>`` schedules included). :func:`build_model` builds SB3's
model from them, turning what SB3, torch or the features extractor refuse in them into a one-line
:class:`~pricegym.errors.ConfigError` that names the hyperparameter.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pricegym.errors import ConfigError

ALGORITHMS: tuple[str, ...] = ("a2c", "dqn", "ppo", "sac", "td3")
"""The SB3 algorithms ``pricegym train`` knows (mirrored by :data:`pricegym.train_commands.ALGORITHMS`)."""

DISCRETE_ONLY = frozenset({"dqn"})
CONTINUOUS_ONLY = frozenset({"sac", "td3"})

HYPERPARAMS_DIR = Path(__file__).resolve().parent / "hyperparams"
"""Where the default hyperparameters live, one ``<algo>.yml`` per algorithm."""

DEFAULT_N_ENVS = 8
DEFAULT_STEPS = 100_000


RL_ZOO_KEYS_REFUSED = ("frame_stack", "env_wrapper", "vec_env_wrapper", "callback", "env_kwargs")
"""rl-zoo keys that ``pricegym train`` does not read (environment options go on the command line)."""

PRICEGYM_KEYS = ("n_envs", "n_timesteps", "policy", "normalize", "policy_kwargs", "features_extractor", "noise_type",
                 "noise_std")
"""Keys read by the trainer itself; every other key is an argument of the algorithm."""

SCHEDULE_KEYS = ("learning_rate", "clip_range", "clip_range_vf")
"""The algorithms' arguments that take a number or a schedule (rl-zoo's ``lin_<x>``)."""


def read_hyperparams_file(path: Path) -> dict[str, Any]:
    """A YAML file of hyperparameters keyed by environment id."""
    try:
        loaded = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"hyperparameter file {path} does not exist; pass an existing YAML file") from None
    except OSError as error:
        raise ConfigError(f"cannot read hyperparameter file {path}: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"hyperparameter file {path} is not valid YAML ({' '.join(str(error).split())})") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict) or not all(isinstance(value, dict | type(None)) for value in loaded.values()):
        raise ConfigError(f"hyperparameter file {path} must map environment ids to hyperparameters "
                          "(rl-zoo3's format, e.g. `pricegym/Markdown-v0:` then indented `key: value` lines)")
    return loaded


def load_hyperparams(algo: str, env_id: str, override_file: Path | None = None) -> dict[str, Any]:
    """The hyperparameters of ``algo`` on ``env_id``: ``agents/hyperparams/<algo>.yml``'s entry, updated key by
    key by ``override_file``'s entry (which may stand alone when the defaults have none)."""
    default_file = HYPERPARAMS_DIR / f"{algo}.yml"
    defaults = read_hyperparams_file(default_file) if default_file.is_file() else {}
    merged = dict(defaults.get(env_id) or {})
    if override_file is not None:
        overrides = read_hyperparams_file(override_file)
        if env_id not in overrides:
            raise ConfigError(f"hyperparameter file {override_file} has no entry for {env_id}; it has "
                              f"{sorted(overrides) or 'none'}; add a `{env_id}:` section")
        merged.update(overrides[env_id] or {})
    elif env_id not in defaults:
        raise ConfigError(f"no default {algo} hyperparameters for {env_id} in {default_file}; "
                          f"pass --hyperparams FILE with a `{env_id}:` section")
    return merged


def _evaluate_kwargs(text: str, what: str) -> dict[str, Any]:
    """rl-zoo's ``"dict(...)"`` strings (``policy_kwargs``, ``normalize``), with ``nn``/``th`` in scope."""
    import torch
    from torch import nn

    try:
        value = eval(text, {"__builtins__": {"dict": dict, "list": list, "tuple": tuple, "True": True,  # noqa: S307
                                             "False": False, "None": None}}, {"nn": nn, "th": torch, "torch": torch})
    except Exception as error:  # a user's expression: any failure is theirs
        raise ConfigError(f"hyperparameter {what} = {text!r} cannot be evaluated ({type(error).__name__}: "
                          f"{error}); write it as rl-zoo does, e.g. \"dict(net_arch=[64, 64])\"") from None
    if not isinstance(value, dict):
        raise ConfigError(f"hyperparameter {what} must be a dict, e.g. \"dict(net_arch=[64, 64])\"; got {text!r}")
    return value


def as_kwargs(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        return _evaluate_kwargs(value, what)
    if isinstance(value, dict):
        return dict(value)
    raise ConfigError(f"hyperparameter {what} must be a dict or a \"dict(...)\" string; got {value!r}")


def _schedule(value: Any) -> Any:
    """rl-zoo's ``lin_<start>`` strings as a linear schedule from ``start`` to 0; other values unchanged."""
    if isinstance(value, str) and value.startswith("lin_"):
        from stable_baselines3.common.utils import LinearSchedule

        try:
            start = float(value[len("lin_"):])
        except ValueError:
            raise ConfigError(f"expected lin_<number> (e.g. lin_3e-4); got {value!r}") from None
        return LinearSchedule(start, 0.0, 1.0)
    return value


@dataclass
class ResolvedHyperparams:
    """Hyperparameters split into what the trainer reads and the algorithm's own arguments."""

    n_envs: int
    n_timesteps: int
    policy: str
    normalize: dict[str, Any] | None
    policy_kwargs: dict[str, Any]
    algo_kwargs: dict[str, Any]
    noise_type: str | None = None
    noise_std: float = 0.1

    def action_noise(self, action_space):
        """rl-zoo's ``noise_type`` (normal or ornstein-uhlenbeck) of ``noise_std`` on each action dimension."""
        if self.noise_type is None:
            return None
        import numpy as np
        from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

        size = int(np.prod(action_space.shape))
        noise_class = NormalActionNoise if self.noise_type == "normal" else OrnsteinUhlenbeckActionNoise
        return noise_class(mean=np.zeros(size), sigma=self.noise_std * np.ones(size))


def resolve_hyperparams(algo: str, env_id: str, raw: dict[str, Any], env_kwargs: dict[str, Any]
                        ) -> ResolvedHyperparams:
    """Check ``raw`` against ``algo``'s arguments and split it (see :class:`ResolvedHyperparams`)."""
    algo_class = algorithm_class(algo)
    refused = [key for key in raw if key in RL_ZOO_KEYS_REFUSED]
    if refused:
        raise ConfigError(f"hyperparameter(s) {refused} are not read by pricegym train; remove them "
                          "(environment options go in --env-kwargs)")
    accepted = set(inspect.signature(algo_class.__init__).parameters) - {"self", "policy", "env", "seed", "device",
                                                                         "tensorboard_log", "_init_setup_model"}
    unknown = sorted(key for key in raw if key not in PRICEGYM_KEYS and key not in accepted)
    if unknown:
        raise ConfigError(f"unknown {algo} hyperparameter(s) {unknown}; {algo} accepts "
                          f"{sorted(accepted | set(PRICEGYM_KEYS))}")
    for key in SCHEDULE_KEYS:
        value = raw.get(key, 0.0)
        if not (isinstance(value, int | float) and not isinstance(value, bool) or isinstance(value, str)
                and value.startswith("lin_") or callable(value) or (key == "clip_range_vf" and value is None)):
            raise ConfigError(f"hyperparameter {key} must be a number or lin_<number> (a linear schedule, e.g. "
                              f"lin_3e-4); got {value!r}{_yaml_number_hint(value)}")
    normalize = raw.get("normalize", False)
    if isinstance(normalize, bool):
        normalize_kwargs = {} if normalize else None
    else:
        normalize_kwargs = as_kwargs(normalize, "normalize")
    if normalize_kwargs is not None and "gamma" in raw:
        normalize_kwargs.setdefault("gamma", raw["gamma"])  # as rl-zoo: returns discounted as the agent does
    policy_kwargs = as_kwargs(raw.get("policy_kwargs"), "policy_kwargs")
    extractor = raw.get("features_extractor")
    if extractor not in (None, "mlp", "flatten"):
        if extractor != "layout":
            raise ConfigError(f"features_extractor must be 'layout' or 'mlp'; got {extractor!r}")
        try:
            from pricegym.agents.features import layout_policy_kwargs
        except ImportError:
            raise ConfigError("features_extractor: layout needs pricegym.agents.features, which this installation "
                              "lacks; remove the key to train the plain MlpPolicy") from None
        layout_kwargs = layout_policy_kwargs(env_id, **env_kwargs)
        extractor_kwargs = {**layout_kwargs.get("features_extractor_kwargs", {}),
                            **policy_kwargs.get("features_extractor_kwargs", {})}
        policy_kwargs = {**layout_kwargs, **policy_kwargs, "features_extractor_kwargs": extractor_kwargs}
    n_envs = raw.get("n_envs", DEFAULT_N_ENVS)
    n_timesteps = raw.get("n_timesteps", DEFAULT_STEPS)
    for name, value in (("n_envs", n_envs), ("n_timesteps", n_timesteps)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"hyperparameter {name} must be a positive integer; got {value!r}")
    noise_type = raw.get("noise_type")
    if noise_type not in (None, "normal", "ornstein-uhlenbeck"):
        raise ConfigError(f"noise_type must be normal or ornstein-uhlenbeck; got {noise_type!r}")
    if noise_type is not None and "action_noise" not in accepted:
        raise ConfigError(f"{algo} takes no action noise; remove noise_type and noise_std")
    noise_std = raw.get("noise_std", 0.1)
    if isinstance(noise_std, bool) or not isinstance(noise_std, int | float) or noise_std < 0:
        raise ConfigError(f"noise_std must be a number >= 0; got {noise_std!r}")
    algo_kwargs = {key: _schedule(value) for key, value in raw.items() if key not in PRICEGYM_KEYS}
    return ResolvedHyperparams(n_envs=int(n_envs), n_timesteps=int(n_timesteps),
                               policy=str(raw.get("policy", "MlpPolicy")), normalize=normalize_kwargs,
                               policy_kwargs=policy_kwargs, algo_kwargs=algo_kwargs, noise_type=noise_type,
                               noise_std=float(noise_std))


def algorithm_class(algo: str):
    """SB3's class for ``algo`` (one of :data:`ALGORITHMS`)."""
    import stable_baselines3 as sb3

    classes = {"a2c": sb3.A2C, "dqn": sb3.DQN, "ppo": sb3.PPO, "sac": sb3.SAC, "td3": sb3.TD3}
    if algo not in classes:
        raise ConfigError(f"unknown algorithm {algo!r}; expected one of {', '.join(ALGORITHMS)}")
    return classes[algo]


def build_model(algo: str, hyper: ResolvedHyperparams, raw: dict[str, Any], source: str, env: Any,
                **fixed: Any) -> Any:
    """SB3's ``algo`` model of ``hyper`` (resolved from ``raw``, read from ``source``) on ``env``, with its action
    noise; ``fixed``: the trainer's own arguments (seed, device, tensorboard_log, verbose).

    What SB3, torch or a features extractor refuse in the user's hyperparameters is raised as a one-line
    :class:`~pricegym.errors.ConfigError` that names the hyperparameter and what it takes: the policy and
    ``policy_kwargs`` (its keys, the features extractor built once with its ``features_extractor_kwargs``)
    are checked first; then a ValueError, TypeError or SB3's AssertionError from the construction itself
    (an algorithm argument or a policy_kwargs value SB3 or torch refuse). Nothing else is caught.
    """
    algo_class = algorithm_class(algo)
    check_policy(algo, hyper.policy, env.observation_space, source)
    check_policy_kwargs(algo_class.policy_aliases[hyper.policy], hyper, raw, env.observation_space, source)
    noise = hyper.action_noise(env.action_space)
    arguments = {**hyper.algo_kwargs, **({} if noise is None else {"action_noise": noise}), **fixed}
    try:
        return algo_class(hyper.policy, env, policy_kwargs=hyper.policy_kwargs or None, **arguments)
    except (ValueError, TypeError, AssertionError) as error:
        if isinstance(error, ConfigError):
            raise
        if any(key in str(error) for key in (*hyper.algo_kwargs, *hyper.policy_kwargs)):
            fix = "fix the hyperparameter this names"
        elif raw.get("policy_kwargs") is not None:
            fix = f"fix policy_kwargs = {raw['policy_kwargs']!r} (the networks) or the hyperparameter at fault"
        else:
            fix = "fix the hyperparameter at fault"
        raise ConfigError(f"{algo} refuses its hyperparameters ({source}): {_refusal(error)}; {fix}") from None


def check_policy(algo: str, policy: str, observation_space: Any, source: str) -> None:
    """``policy`` must be one of SB3's policy names for ``algo`` that fits the observation space (pricegym's
    observations are flat vectors: ``MlpPolicy``)."""
    aliases = sorted(getattr(algorithm_class(algo), "policy_aliases", {}))
    if policy not in aliases:
        raise ConfigError(f"unknown {algo} policy {policy!r} ({source}); expected one of {', '.join(aliases)} "
                          "(pricegym's flat observations take MlpPolicy)")
    flat = getattr(observation_space, "shape", None) is not None and len(observation_space.shape) == 1
    if policy != "MlpPolicy" and flat:
        needs = "image" if policy == "CnnPolicy" else "dict"
        raise ConfigError(f"policy {policy} ({source}) needs {needs} observations, and the environment's are a flat "
                          "vector; use policy: MlpPolicy (features_extractor: layout for its embeddings)")


def check_policy_kwargs(policy_class: Any, hyper: ResolvedHyperparams, raw: dict[str, Any], observation_space: Any,
                        source: str) -> None:
    """``policy_kwargs``' keys must be ``policy_class``'s, and its features extractor (if it names one) must build
    on ``observation_space`` with its ``features_extractor_kwargs``, as SB3 will build it."""
    kwargs, given = hyper.policy_kwargs, f"policy_kwargs = {raw.get('policy_kwargs')!r}"
    if raw.get("features_extractor") == "layout":
        given += " with features_extractor: layout"
    takes = _arguments(policy_class, {"observation_space", "action_space", "lr_schedule", "use_sde"})
    unknown = sorted(set(kwargs) - set(takes)) if takes is not None else []
    if unknown:
        raise ConfigError(f"hyperparameter {given} ({source}) has unknown key(s) {unknown}; {hyper.policy} takes "
                          f"{', '.join(takes)}")
    if "features_extractor_class" not in kwargs and "features_extractor_kwargs" not in kwargs:
        return
    default = inspect.signature(policy_class.__init__).parameters.get("features_extractor_class")
    extractor = kwargs.get("features_extractor_class") or getattr(default, "default", None)
    extractor_kwargs = kwargs.get("features_extractor_kwargs") or {}
    if not isinstance(extractor, type) or not isinstance(extractor_kwargs, dict):
        raise ConfigError(f"hyperparameter {given} ({source}): features_extractor_class must be a class and "
                          f"features_extractor_kwargs a dict, e.g. \"dict(features_extractor_kwargs=dict(...))\"")
    try:
        extractor(observation_space, **extractor_kwargs)
    except (ValueError, TypeError, AssertionError) as error:
        if isinstance(error, ConfigError):
            raise
        names = _arguments(extractor, {"observation_space", "layout"})
        raise ConfigError(f"hyperparameter {given} ({source}): its features extractor {extractor.__name__} refuses "
                          f"features_extractor_kwargs {sorted(set(extractor_kwargs) - {'layout'})}: "
                          f"{_refusal(error)}; fix features_extractor_kwargs in policy_kwargs ({extractor.__name__} "
                          f"takes {'any keyword' if names is None else ', '.join(names) or 'no keyword'})") from None


def _yaml_number_hint(value: Any) -> str:
    """What to write instead of a number YAML read as text (``3e-4``: YAML 1.1 wants a dot, ``3.0e-4``)."""
    try:
        number = float(value) if isinstance(value, str) else None
    except ValueError:
        number = None
    return "" if number is None else f" (YAML reads {value} as text: write {number!r})"


def _refusal(error: BaseException) -> str:
    return f"{type(error).__name__}: {' '.join(str(error).split())}"


def _arguments(callable_class: Any, internal: set[str]) -> list[str] | None:
    """The keyword arguments ``callable_class(...)`` takes, but ``internal`` ones (set by SB3 or pricegym); None
    when it takes any (``**kwargs``)."""
    parameters = inspect.signature(callable_class.__init__).parameters.values()
    if any(parameter.kind is parameter.VAR_KEYWORD for parameter in parameters):
        return None
    return [parameter.name for parameter in parameters if parameter.name not in internal | {"self"}
            and parameter.kind is not parameter.VAR_POSITIONAL]
