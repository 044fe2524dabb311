"""The typed config of ``pricegym benchmark``: which environments, policies, agents, seasons and intervals.

A benchmark is a YAML file (``experiments/benchmarks/<name>.yaml``)::

    name: markdown
    episodes: 200                 # held-out seasons per environment, seeds first_seed, first_seed + 1, ...
    pricer_run: runs/fit-pricer/synthetic-seed0      # the supervised BERT baseline (omit: no supervised rows)
    demand_run: runs/fit-demand/synthetic-seed0      # for `demand: fitted` blocks
    environments:
      - env: pricegym/Markdown-v0
        demand: ground_truth      # the demand the seasons are simulated with
        env_kwargs: {}            # options of every policy's environment (the agents add their observation's)
        policies: [oracle, myopic, best fixed price, supervised BERT pricer, list price]   # [] = all registered
        agents:
          - name: PPO (layout)
            runs: [runs/train/markdown-ppo-layout*]     # pricegym train runs; one per training seed (globs)

Every field is checked when the file is read, so an unknown key, environment or policy is one line before
anything runs.
"""

from __future__ import annotations

import glob
from dataclasses import field
from pathlib import Path
from typing import Any, Literal

from pricegym.agents.optimum_evaluation import HELD_OUT_SEED
from pricegym.config_checks import Seed, config_dataclass, integer, number, optional
from pricegym.errors import ConfigError
from pricegym.experiments.benchmark_registry import environment_entry, policy_spec

DemandName = Literal["ground_truth", "fitted"]


@config_dataclass("benchmark agent")
class AgentRuns:
    """A trained agent: its name in the tables and its ``pricegym train`` runs, one per training seed.

    Attributes:
        name: the policy name in the tables (e.g. ``PPO (layout)``).
        runs: run folders or glob patterns; each must be a finished run on the block's environment.
    """

    name: str
    runs: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ConfigError("benchmark agent: name must not be empty")
        if not self.runs:
            raise ConfigError(f"benchmark agent {self.name!r}: runs must list at least one run folder or pattern")

    def run_folders(self) -> list[Path]:
        """The run folders, globs expanded in sorted order (ConfigError when a pattern matches nothing)."""
        folders: list[Path] = []
        for pattern in self.runs:
            matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
            if not matches or not all(Path(match).exists() for match in matches):
                raise ConfigError(f"benchmark agent {self.name!r}: no run folder matches {pattern!r}; train it "
                                  f"first (pricegym train --out ...) or fix the path")
            folders.extend(Path(match) for match in matches)
        return list(dict.fromkeys(folders))


@config_dataclass("benchmark environment")
class EnvironmentBlock:
    """One environment of the benchmark.

    Attributes:
        env: a pricegym environment id.
        demand: the demand the seasons are simulated with (``fitted`` needs the benchmark's ``demand_run``).
        env_kwargs: the environment's options (scenario, sizes, product_pool ...), the same for every policy.
        policies: registered policies to play (empty: all of them; see ``benchmark_registry``).
        agents: trained agents to play.
        label: a name for this block in the tables (default: env id, scenario and product pool).
    """

    env: str
    demand: DemandName = "ground_truth"
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    policies: tuple[str, ...] = ()
    agents: tuple[AgentRuns, ...] = ()
    label: optional(str) = None

    def __post_init__(self) -> None:
        entry = environment_entry(self.env)
        for name in self.policies:
            policy_spec(self.env, name)
        for reserved in ("demand_source", "demand_run"):
            if reserved in self.env_kwargs:
                raise ConfigError(f"benchmark environment {self.env}: set the demand with `demand:` (and the "
                                  f"benchmark's demand_run), not env_kwargs.{reserved}")
        names = [*(self.policies or entry.names), *(agent.name for agent in self.agents)]
        if len(set(names)) != len(names):
            raise ConfigError(f"benchmark environment {self.env}: policy names repeat ({', '.join(names)}); "
                              "give each agent a name of its own")

    def policy_names(self) -> tuple[str, ...]:
        return self.policies or environment_entry(self.env).names

    def display_name(self) -> str:
        if self.label:
            return self.label
        extras = [str(self.env_kwargs[key]) for key in ("scenario", "product_pool") if key in self.env_kwargs]
        return self.env if not extras else f"{self.env} ({', '.join(extras)})"


@config_dataclass("benchmark")
class BenchmarkConfig:
    """A whole benchmark: every policy of every block plays the same seeded seasons.

    Attributes:
        name: the benchmark's name.
        episodes: seasons per environment block.
        first_seed: the first season's seed (held-out seeds: training seeds stay below 1,000,000).
        confidence_level: of every interval.
        bootstrap_resamples: of ``scipy.stats.bootstrap``.
        demand_run: a ``pricegym fit-demand`` run: the fitted demand of ``demand: fitted`` blocks.
        pricer_run: a ``pricegym fit-pricer`` run: the supervised baseline (without it, no supervised rows and
            no uplift).
        environments: the blocks.
    """

    name: str
    environments: tuple[EnvironmentBlock, ...]
    episodes: integer(1, 100_000) = 100
    first_seed: Seed = HELD_OUT_SEED
    confidence_level: number(0.5, 0.999) = 0.95
    bootstrap_resamples: integer(99, 1_000_000) = 9999
    demand_run: optional(str) = None
    pricer_run: optional(str) = None

    def __post_init__(self) -> None:
        if not self.environments:
            raise ConfigError("benchmark: environments must list at least one environment block")
        if self.demand_run is None and any(block.demand == "fitted" for block in self.environments):
            raise ConfigError("benchmark: a block says `demand: fitted` but the benchmark has no demand_run; add "
                              "demand_run: <a pricegym fit-demand run>")
        labels = [block.display_name() + f" [{block.demand}]" for block in self.environments]
        if len(set(labels)) != len(labels):
            raise ConfigError(f"benchmark: two blocks share a name ({', '.join(labels)}); give one a `label:`")

    @property
    def seeds(self) -> list[int]:
        return list(range(self.first_seed, self.first_seed + self.episodes))
