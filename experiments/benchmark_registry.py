"""The benchmark's one registry: environment id -> its policies, what each knows, and its yardstick.

Every policy is a factory ``(vec_env, resources) -> policy`` whose ``predict(observations, deterministic=True)``
acts on a whole batch of seasons, like an SB3 model; ``resources`` holds what some policies need beyond the
environment (the supervised pricer's run). The yardstick of each season (the optimum, or an upper bound where
no policy attains one) comes from :func:`pricegym.agents.optimum_evaluation.optimum_returns`; the ``oracle``
policy is the rule that plays the optimum (None where there is only a bound).

Each policy says what it knows:

* ``the true demand`` - the rule plans with the demand the environment simulates (the synthetic world's truth
  under ``demand: ground_truth``, the fitted tables under ``demand: fitted``);
* ``the supervised pricer's table`` - only the BERT price regressor's predictions, no demand model;
* ``what it observes`` - the observation (and, for learning rules, the sales it sees);
* ``nothing`` - random prices;
* ``the evaluated seasons themselves`` - the best uniform discount in hindsight (PersonalizedDiscount-v0), a
  yardstick rather than a rule: see :mod:`pricegym.experiments.benchmark_hindsight`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pricegym.errors import ConfigError
from pricegym.experiments.benchmark_hindsight import BEST_UNIFORM, BEST_UNIFORM_KNOWS

MARKDOWN_ID = "pricegym/Markdown-v0"
COMPETITION_ID = "pricegym/Competition-v0"
DISCOUNT_ID = "pricegym/PersonalizedDiscount-v0"
SUPERVISED = "supervised BERT pricer"
"""The baseline every uplift is measured against."""
ORACLE = "oracle"
OBSERVATION_OPTIONS = ("observe_embeddings", "embedding_dim", "action_space", "ladder_size", "text_encoder")
"""An agent's environment options that shape only what it observes and how it acts (not the seasons): taken
from its run, the rest from the block."""

PolicyFactory = Callable[[Any, dict[str, Any]], Any]


@dataclass(frozen=True)
class PolicySpec:
    """A registered policy: how to build it on a VecEnv, what it knows, and whether it needs a pricer run."""

    factory: PolicyFactory | None
    knows: str
    needs: str | None = None
    single: bool = False
    """A single-environment policy (``begin_episode(env)`` then ``predict``), played season by season: its
    factory is called with ``vec_env=None``."""
    in_hindsight: bool = False
    """Chosen on the evaluated seasons themselves (no factory): the best uniform discount of
    :mod:`~pricegym.experiments.benchmark_hindsight`."""


@dataclass(frozen=True)
class EnvironmentEntry:
    """An environment's policies (by benchmark name) and the kind of its yardstick."""

    policies: dict[str, PolicySpec]
    yardstick: str
    hindsight_bound: bool = False
    """Whether each season also has a clairvoyant bound that every policy is checked against (and a gap
    between the best uniform discount and the yardstick that rows report their share of)."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.policies)


def _rule(path: str, **kwargs: Any) -> PolicyFactory:
    """A factory of the batched rule ``module:Class`` with keyword arguments, imported when built (a
    single-environment policy, built with ``vec_env=None``, takes only the keyword arguments)."""
    module_name, class_name = path.split(":")

    def build(vec_env: Any, resources: dict[str, Any]) -> Any:
        import importlib

        rule_class = getattr(importlib.import_module(f"pricegym.agents.{module_name}"), class_name)
        return rule_class(**kwargs) if vec_env is None else rule_class(vec_env, **kwargs)

    return build


def _supervised(vec_env: Any, resources: dict[str, Any]) -> Any:
    from pricegym.agents.supervised_policy import supervised_policy_factory

    return supervised_policy_factory(resources["pricer_run"])(vec_env)


def _single(path: str, **kwargs: Any) -> PolicyFactory:
    """A factory of the single-environment policy ``module:Class`` (built once, planned on its own seeds)."""
    return _rule(path, **kwargs)


def _thompson(prior: str) -> PolicyFactory:
    return _rule("thompson_pricing:BatchedThompsonPricingRule", prior=prior)


TRUE = "the true demand"
OBSERVED = "what it observes"
PRICER = "the supervised pricer's table (no demand model)"

_SUPERVISED_SPEC = PolicySpec(_supervised, PRICER, needs="pricer_run")

REGISTRY: dict[str, EnvironmentEntry] = {
    MARKDOWN_ID: EnvironmentEntry(yardstick="the dynamic program's exact expected return (optimum)", policies={
        ORACLE: PolicySpec(_rule("batched_markdown_rules:BatchedDynamicProgramRule"), TRUE),
        "myopic": PolicySpec(_rule("batched_markdown_rules:BatchedMyopicRule"), TRUE),
        "best fixed price": PolicySpec(_rule("batched_markdown_rules:BatchedBestFixedPriceRule"), TRUE),
        "Thompson sampling (fitted prior)": PolicySpec(_thompson("fitted"), f"prior from {TRUE}; then {OBSERVED}"),
        "Thompson sampling (flat prior)": PolicySpec(_thompson("flat"), OBSERVED),
        SUPERVISED: _SUPERVISED_SPEC,
        "list price": PolicySpec(_rule("batched_rules:BatchedListPriceRule"), "the list prices"),
        "random": PolicySpec(_rule("batched_rules:BatchedRandomRule"), "nothing"),
    }),
    COMPETITION_ID: EnvironmentEntry(yardstick="the best response's exact expected return (optimum)", policies={
        ORACLE: PolicySpec(_rule("batched_competition_rules:BatchedBestResponseRule"), f"{TRUE} and the rivals' rules"),
        "myopic": PolicySpec(_rule("batched_competition_rules:BatchedCompetitionMyopicRule"),
                             f"{TRUE} and the rivals' rules"),
        "best fixed price": PolicySpec(_rule("batched_competition_rules:BatchedCompetitionFixedPriceRule"),
                                       f"{TRUE} and the rivals' rules"),
        "Thompson sampling (fitted prior)": PolicySpec(_thompson("fitted"), f"prior from {TRUE}; then {OBSERVED}"),
        "Thompson sampling (flat prior)": PolicySpec(_thompson("flat"), OBSERVED),
        SUPERVISED: _SUPERVISED_SPEC,
        "list price": PolicySpec(_rule("batched_competition_rules:BatchedCompetitionListPriceRule"),
                                 "the list prices"),
        "random": PolicySpec(_rule("batched_rules:BatchedRandomRule"), "nothing"),
    }),
    DISCOUNT_ID: EnvironmentEntry(yardstick="the expected Lagrangian bound (an upper bound no policy attains)",
                                  hindsight_bound=True, policies={
        "steady-state price (true demand)": PolicySpec(_rule("batched_rules:BatchedSteadyStateDiscountRule"),
                                                       "each visit's true demand and the reference-price memory"),
        "myopic (true demand)": PolicySpec(_rule("batched_rules:BatchedMyopicDiscountRule"),
                                           "each visit's true demand"),
        "text segments": PolicySpec(_single("text_discount_rule:TextSegmentDiscountPolicy"),
                                    "the observation (LM embeddings), fitted on simulated episodes of its own",
                                    single=True),
        "best fixed discount": PolicySpec(_single("discount_baselines:BestFixedDiscountPolicy"),
                                          "the true demand, planned on simulated episodes of its own", single=True),
        BEST_UNIFORM: PolicySpec(None, BEST_UNIFORM_KNOWS, in_hindsight=True),
        SUPERVISED: _SUPERVISED_SPEC,
        "list price": PolicySpec(_rule("batched_rules:BatchedListPriceRule"), "the list prices"),
        "random": PolicySpec(_rule("batched_rules:BatchedRandomRule"), "nothing"),
    }),
}


def environment_entry(env_id: str) -> EnvironmentEntry:
    """The registry's entry of ``env_id`` (ConfigError, one line, for an unknown one)."""
    if env_id not in REGISTRY:
        raise ConfigError(f"benchmark: unknown environment {env_id!r}; expected one of {', '.join(REGISTRY)}")
    return REGISTRY[env_id]


def policy_spec(env_id: str, name: str) -> PolicySpec:
    """The registered policy ``name`` of ``env_id`` (ConfigError listing the known ones otherwise)."""
    entry = environment_entry(env_id)
    if name not in entry.policies:
        raise ConfigError(f"benchmark: unknown policy {name!r} for {env_id}; expected one of "
                          f"{', '.join(map(repr, entry.names))} (trained agents go under `agents:`)")
    return entry.policies[name]
