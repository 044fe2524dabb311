"""``pricegym benchmark``: every policy on the same seeded seasons, against the supervised baseline and the optimum.

For each environment block of a :class:`~pricegym.experiments.benchmark_config.BenchmarkConfig`, every
registered policy (:mod:`pricegym.experiments.benchmark_registry`) and every trained agent (each of its
training seeds) plays the same held-out seasons in one batched environment (common random numbers: season i
is the season the single environment plays after ``reset(seed=first_seed + i)``, whatever the policy). The
rows (one per block and policy) carry the statistics of :mod:`pricegym.experiments.benchmark_stats`; the
run folder holds::

    benchmark.json   config, config hash, versions, git commit, device, yardsticks and the rows
    benchmark.csv    the rows
    benchmark.md     the table
    seasons.csv      one return per (block, policy, training seed, season): what every plot reads
    trajectories.json  the first season of each block, step by step, per policy (reward, prices, inventory)
    run.json         command line, versions, git commit, seed
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pricegym.config_checks import config_to_dict
from pricegym.errors import ConfigError
from pricegym.experiments.benchmark_config import AgentRuns, BenchmarkConfig, EnvironmentBlock
from pricegym.experiments.benchmark_hindsight import (
    BEST_UNIFORM,
    BEST_UNIFORM_KNOWS,
    HindsightYardsticks,
    best_uniform,
    bound_violations,
    gap_captured_pct,
    hindsight_bounds,
    hindsight_summary,
)
from pricegym.experiments.benchmark_registry import (
    OBSERVATION_OPTIONS,
    ORACLE,
    SUPERVISED,
    environment_entry,
    policy_spec,
)
from pricegym.experiments.benchmark_stats import mean_interval, pct_of_yardstick, risk_view, uplift_interval

TRAJECTORY_SLOT = 0
"""The season whose steps ``trajectories.json`` records (the block's first seed)."""


@dataclass
class SeasonTracker:
    """Per season: sell-through and mean discount, and the steps of one season (for the trajectory plots)."""

    n_seasons: int
    units_sold: np.ndarray = field(init=False)
    inventory: np.ndarray = field(init=False)
    discount_sum: np.ndarray = field(init=False)
    steps: np.ndarray = field(init=False)
    trajectory: dict[str, list] = field(default_factory=lambda: {"reward": [], "price_ratio": [], "inventory_left": []})

    def __post_init__(self) -> None:
        self.units_sold, self.inventory = np.zeros(self.n_seasons), np.full(self.n_seasons, np.nan)
        self.discount_sum, self.steps = np.zeros(self.n_seasons), np.zeros(self.n_seasons)

    def observe(self, context: dict[str, Any], infos: dict[str, Any], alive: np.ndarray) -> None:
        """Accumulate one step of every season still being played."""
        list_price = np.asarray(context["list_price"], dtype=float)
        if "discount" in infos:
            ratio = 1.0 - np.asarray(infos["discount"], dtype=float)
        else:
            price = np.asarray(infos.get("prices", infos.get("price")), dtype=float)
            ratio = price / list_price
        discount = 1.0 - (ratio.mean(axis=1) if ratio.ndim == 2 else ratio)
        self.discount_sum += np.where(alive, discount, 0.0)
        self.steps += alive
        if "initial_inventory" in context and "units_sold" in infos:
            initial = np.asarray(context["initial_inventory"], dtype=float).reshape(self.n_seasons, -1).sum(axis=1)
            self.inventory = np.where(np.isnan(self.inventory), initial, self.inventory)
            sold = np.asarray(infos["units_sold"], dtype=float).reshape(self.n_seasons, -1).sum(axis=1)
            self.units_sold += np.where(alive, sold, 0.0)
        if alive[TRAJECTORY_SLOT]:
            slot = TRAJECTORY_SLOT
            self.trajectory["reward"].append(float(infos["reward"][slot]))
            self.trajectory["price_ratio"].append(np.atleast_1d(ratio[slot]).round(6).tolist())
            left = context.get("inventory_left")
            self.trajectory["inventory_left"].append(None if left is None else np.atleast_1d(left[slot]).tolist())

    def sell_through(self) -> np.ndarray | None:
        return None if np.isnan(self.inventory).all() else self.units_sold / self.inventory

    def mean_discount(self) -> np.ndarray:
        return self.discount_sum / np.maximum(self.steps, 1)


@dataclass
class PolicyResult:
    """What one policy did on a block: ``[n_train_seeds, n_seasons]`` returns and its season metrics."""

    name: str
    kind: str
    knows: str
    returns: np.ndarray
    sell_through: np.ndarray | None
    mean_discount: np.ndarray
    trained_on: str | None = None
    train_seeds: list[int] = field(default_factory=list)
    train_steps: int | None = None
    train_wall_s: float | None = None
    trajectory: dict[str, list] | None = None


def play(policy: Any, block: EnvironmentBlock, seeds: list[int], options: dict[str, Any],
         vec_normalize: Any = None) -> tuple[np.ndarray, SeasonTracker]:
    """The policy's returns on the seasons ``seeds`` and its tracker, through the evaluation's batched VecEnv."""
    from pricegym.agents.optimum_evaluation import episode_returns

    tracker = SeasonTracker(len(seeds))
    returns = episode_returns(policy, block.env, seeds, vec_normalize=vec_normalize, step_observer=tracker.observe,
                              **options)
    return returns, tracker


def play_single(policy: Any, block: EnvironmentBlock, seeds: list[int],
                options: dict[str, Any]) -> tuple[np.ndarray, SeasonTracker]:
    """A single-environment policy season by season on the same seeds (season i of a batch is the single
    environment after ``reset(seed=seeds[i])``, so the seasons are the batched policies')."""
    from pricegym.agents.optimum_evaluation import single_env

    env = single_env(block.env, options)
    tracker = SeasonTracker(len(seeds))
    returns = np.zeros(len(seeds))
    for index, seed in enumerate(seeds):
        observation, _ = env.reset(seed=seed)
        policy.begin_episode(env)
        done, alive = False, np.zeros(len(seeds), dtype=bool)
        alive[index] = True
        while not done:
            action, _ = policy.predict(observation, deterministic=True)
            observation, reward, terminated, truncated, info = env.step(action)
            returns[index] += float(reward)
            step = {"discount": np.full(len(seeds), float(info["discount"])),  # single policies: PD-v0's
                    "reward": np.full(len(seeds), float(reward))}
            tracker.observe({"list_price": np.ones(len(seeds))}, step, alive)
            done = terminated or truncated
    return returns, tracker


def block_options(config: BenchmarkConfig, block: EnvironmentBlock) -> dict[str, Any]:
    """The environment options every policy of ``block`` shares (demand included)."""
    options = dict(block.env_kwargs)
    if block.demand == "fitted":
        options.update(demand_source="fitted", demand_run=config.demand_run)
    return options


def rule_result(config: BenchmarkConfig, block: EnvironmentBlock, name: str, options: dict[str, Any]) -> PolicyResult:
    """A registered policy on the block's seasons (rules see the observation without embeddings)."""
    spec = policy_spec(block.env, name)
    resources = {"pricer_run": config.pricer_run}
    if spec.single:  # reads the observation as the environment gives it (embeddings included)
        returns, tracker = play_single(spec.factory(None, resources), block, config.seeds, options)
    else:
        returns, tracker = play(lambda vec_env: spec.factory(vec_env, resources), block, config.seeds,
                                {**options, "observe_embeddings": False})
    kind = "oracle" if name == ORACLE else ("supervised" if name == SUPERVISED else "rule")
    knows = spec.knows if block.demand != "fitted" else spec.knows.replace("true demand", "fitted demand tables")
    return PolicyResult(name=name, kind=kind, knows=knows, returns=returns[None, :],
                        sell_through=tracker.sell_through(), mean_discount=tracker.mean_discount(),
                        trajectory=tracker.trajectory)


def agent_result(config: BenchmarkConfig, block: EnvironmentBlock, agent: AgentRuns,
                 options: dict[str, Any]) -> PolicyResult:
    """A trained agent, each of its runs (training seeds) on the block's seasons."""
    from pricegym.agents.trained_runs import load_trained_run

    runs = [load_trained_run(folder) for folder in agent.run_folders()]
    returns, trackers, trained_on = [], [], set()
    for run in runs:
        if run.env_id != block.env:
            raise ConfigError(f"benchmark agent {agent.name!r}: {run.folder} was trained on {run.env_id}, not "
                              f"{block.env}; list it under that environment's block")
        observation = {key: run.env_kwargs[key] for key in OBSERVATION_OPTIONS if key in run.env_kwargs}
        if run.env_kwargs.get("demand_run") and "demand_run" not in options:
            # trained on a fitted run, played on the truth: it still observes that run's fine-tuned embeddings
            # (under the truth a demand run changes nothing but the embeddings: the seasons and the price ranges
            # stay the block's, so its actions map onto the truth's ranges, not the fitted ones it trained on)
            observation["demand_run"] = run.env_kwargs["demand_run"]
        played, tracker = play(run.model, block, config.seeds, {**options, **observation}, run.vec_normalize)
        returns.append(played)
        trackers.append(tracker)
        trained_on.add(f"{run.env_kwargs.get('demand_source', 'ground_truth')} demand, "
                       f"{run.env_kwargs.get('product_pool', 'train')} products")
    sell = [tracker.sell_through() for tracker in trackers]
    return PolicyResult(name=agent.name, kind="agent", knows="what it observes", returns=np.stack(returns),
                        sell_through=None if sell[0] is None else np.mean(sell, axis=0),
                        mean_discount=np.mean([tracker.mean_discount() for tracker in trackers], axis=0),
                        trained_on="; ".join(sorted(trained_on)), train_seeds=[int(run.record["seed"]) for run in runs],
                        train_steps=int(np.mean([run.num_timesteps for run in runs])),
                        train_wall_s=float(np.mean([run.wall_s for run in runs])), trajectory=trackers[0].trajectory)


def row(config: BenchmarkConfig, block: EnvironmentBlock, result: PolicyResult, yardstick: np.ndarray | None,
        supervised: PolicyResult | None, hindsight: HindsightYardsticks | None = None) -> dict[str, Any]:
    """One row of ``benchmark.json`` (the hindsight columns are None for an environment without them)."""
    level, resamples = config.confidence_level, config.bootstrap_resamples
    values: dict[str, Any] = {
        "env": block.display_name(), "env_id": block.env, "scenario": block.env_kwargs.get("scenario"),
        "product_pool": block.env_kwargs.get("product_pool", "train"), "policy": result.name, "kind": result.kind,
        "knows": result.knows, "demand": block.demand, "trained_on": result.trained_on,
        "n_episodes": int(result.returns.shape[1]), "n_train_seeds": int(result.returns.shape[0]),
        **mean_interval(result.returns, level, resamples),
        "pct_of_oracle": pct_of_yardstick(result.returns, yardstick),
        "uplift_vs_supervised_pct": None, "uplift_ci95_low": None, "uplift_ci95_high": None,
        **risk_view(result.returns),
        "sell_through": None if result.sell_through is None else float(np.mean(result.sell_through)),
        "mean_discount": float(np.mean(result.mean_discount)),
        "train_steps": result.train_steps, "train_wall_s": result.train_wall_s,
        "pct_of_hindsight_bound": None if hindsight is None else pct_of_yardstick(result.returns, hindsight.bound),
        "bound_violations": bound_violations(result.returns, None if hindsight is None else hindsight.bound),
        "gap_captured_pct": None if hindsight is None else gap_captured_pct(result.returns, hindsight.best_returns,
                                                                            yardstick),
    }
    if supervised is not None:
        values.update(uplift_interval(result.returns, supervised.returns, level, resamples))
    return values


def benchmark_block(config: BenchmarkConfig, block: EnvironmentBlock,
                    progress: Any = None) -> tuple[list[PolicyResult], np.ndarray, HindsightYardsticks | None]:
    """Every policy and agent of ``block`` on its seasons, the per-season yardstick, and the hindsight figures
    of an environment that has them."""
    from pricegym.agents.optimum_evaluation import optimum_returns

    options = block_options(config, block)
    results = []
    for name in block.policy_names():
        spec = policy_spec(block.env, name)
        if spec.needs == "pricer_run" and config.pricer_run is None:
            continue  # no supervised pricer given: its rows (and the uplifts) are left out, as the table says
        if spec.in_hindsight:
            continue  # chosen on the seasons themselves, below
        results.append(rule_result(config, block, name, options))
        if progress is not None:
            progress(f"{block.display_name()}: {name}")
    for agent in block.agents:
        results.append(agent_result(config, block, agent, options))
        if progress is not None:
            progress(f"{block.display_name()}: {agent.name}")
    yardstick = optimum_returns(block.env, config.seeds, **{**options, "observe_embeddings": False})
    hindsight = hindsight_yardsticks(config, block, options, results)
    if hindsight is not None and progress is not None:
        progress(f"{block.display_name()}: hindsight bound and best uniform discount")
    return results, yardstick, hindsight


def hindsight_yardsticks(config: BenchmarkConfig, block: EnvironmentBlock, options: dict[str, Any],
                         results: list[PolicyResult]) -> HindsightYardsticks | None:
    """The block's hindsight bound per season and its best uniform discount (appended to ``results`` as a row
    when the block plays it); None for an environment without them."""
    if not environment_entry(block.env).hindsight_bound:
        return None
    rule_options = {**options, "observe_embeddings": False}
    share, best_returns, tracker, means = best_uniform(
        block.env, options, lambda factory: play(factory, block, config.seeds, rule_options))
    if BEST_UNIFORM in block.policy_names():
        results.append(PolicyResult(name=BEST_UNIFORM, kind="hindsight", knows=BEST_UNIFORM_KNOWS,
                                    returns=best_returns[None, :], sell_through=tracker.sell_through(),
                                    mean_discount=tracker.mean_discount(), trajectory=tracker.trajectory))
    return HindsightYardsticks(bound=hindsight_bounds(block.env, config.seeds, options), best_share=share,
                               best_returns=best_returns, candidate_means=means)


def config_hash(config: BenchmarkConfig) -> str:
    """A short hash of the config's content."""
    return hashlib.sha256(json.dumps(config_to_dict(config), sort_keys=True, default=str).encode()).hexdigest()[:16]


def run_benchmark(config: BenchmarkConfig, progress: Any = None) -> dict[str, Any]:
    """Every block; the report (rows, yardsticks, per-season returns and trajectories)."""
    rows, seasons, trajectories, yardsticks = [], [], {}, {}
    for block in config.environments:
        environment_entry(block.env)
        results, yardstick, hindsight = benchmark_block(config, block, progress)
        supervised = next((result for result in results if result.name == SUPERVISED), None)
        label = block.display_name()
        yardsticks[f"{label} [{block.demand}]"] = {"env": label, "kind": environment_entry(block.env).yardstick,
                                                   "demand": block.demand, "mean": float(np.mean(yardstick)),
                                                   **({} if hindsight is None else hindsight_summary(hindsight,
                                                                                                     yardstick))}
        for result in results:
            rows.append(row(config, block, result, yardstick, supervised, hindsight))
            for seed_index, returns in enumerate(result.returns):
                seed = result.train_seeds[seed_index] if result.train_seeds else None
                seasons.extend({"env": label, "demand": block.demand, "policy": result.name, "train_seed": seed,
                                "season_seed": season_seed, "return": float(value),
                                "yardstick": float(yardstick[index])}
                               for index, (season_seed, value) in enumerate(zip(config.seeds, returns, strict=True)))
            trajectories.setdefault(f"{label} [{block.demand}]", {})[result.name] = result.trajectory
    return {"rows": rows, "seasons": seasons, "trajectories": trajectories, "yardsticks": yardsticks}


def device_name() -> str:
    """What the benchmark ran on (the agents' policies run on CPU or CUDA)."""
    import platform

    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, {gpu}"


def write_outputs(folder: Path, config: BenchmarkConfig, report: dict[str, Any], argv: list[str]) -> None:
    """benchmark.json/.csv/.md, seasons.csv, trajectories.json and run.json into ``folder`` (a partial folder)."""
    import pandas as pd

    from pricegym.experiments.benchmark_table import markdown_table
    from pricegym.run_records import git_commit, package_versions, write_run_record

    record = {"name": config.name, "config": config_to_dict(config), "config_hash": config_hash(config),
              "versions": package_versions(), "git": git_commit(), "device": device_name(),
              "seeds": {"first": config.first_seed, "episodes": config.episodes},
              "yardsticks": report["yardsticks"], "rows": report["rows"]}
    (folder / "benchmark.json").write_text(json.dumps(record, indent=1, default=str))
    pd.DataFrame(report["rows"]).to_csv(folder / "benchmark.csv", index=False)
    (folder / "benchmark.md").write_text(markdown_table(record))
    pd.DataFrame(report["seasons"]).to_csv(folder / "seasons.csv", index=False)
    (folder / "trajectories.json").write_text(json.dumps(report["trajectories"]))
    write_run_record(folder, argv, config.first_seed)
