"""Environment speed figures of ``pricegym bench-speed``: steps per second of every environment.

For each of Markdown-v0, PersonalizedDiscount-v0 and Competition-v0:

* ``env_steps_per_s/<EnvId>``: the default configuration driven by fitted demand tables (the
  ``--demand-run`` folder if given, else tables of the same shape reduced from the ground truth);
* ``env_floor_steps_per_s/<EnvId>``: the same environment driven by the synthetic world's
  closed-form numpy logit (the ground truth), in the same run.

Both take uniformly random actions for ``steps`` steps, resets included, seeded, and count the
non-finite rewards (every step) and final observations (every episode's end; checking every
observation would slow the loop being timed) met on the way (the figure's ``non_finite`` key must
be 0).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from pricegym.encoders.demand_tables import DemandTables
from pricegym.envs import (
    CompetitionConfig,
    CompetitionEnv,
    MarkdownConfig,
    MarkdownEnv,
    PersonalizedDiscountConfig,
    PersonalizedDiscountEnv,
)
from pricegym.experiments.bench_speed import BenchContext, register_figure
from pricegym.experiments.decision_speed import truth_tables
from pricegym.worlds.registry import WorldConfig, load_world

FULL_STEPS = 1_000_000
QUICK_STEPS = 20_000


ENVIRONMENTS = {
    "Markdown-v0": (MarkdownEnv, MarkdownConfig),
    "PersonalizedDiscount-v0": (PersonalizedDiscountEnv, PersonalizedDiscountConfig),
    "Competition-v0": (CompetitionEnv, CompetitionConfig),
}


def run_random_steps(env, steps: int, seed: int) -> tuple[float, int, int]:
    """Steps per second, episodes and non-finite values over ``steps`` random-action steps."""
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(min(steps, 10_000))]
    env.reset(seed=seed)
    episodes, non_finite = 0, 0
    started = time.perf_counter()
    for step in range(steps):
        observation, reward, terminated, truncated, _ = env.step(actions[step % len(actions)])
        if not np.isfinite(reward):
            non_finite += 1
        if terminated or truncated:
            non_finite += int(not np.all(np.isfinite(observation)))
            env.reset()
            episodes += 1
    return steps / (time.perf_counter() - started), episodes, non_finite


def _tables_run(context: BenchContext) -> Path:
    """A fit-demand-like run folder for the default world: the user's, or tables from the truth."""
    if context.config.demand_run is not None:
        return context.config.demand_run

    def write() -> Path:
        world = load_world(WorldConfig())
        derived = truth_tables(world)
        prices = world.transactions.groupby("product_id")["price"].agg(["min", "max"])
        tables = DemandTables(derived.intercept, derived.slope, derived.list_prices, derived.context_weights,
                              derived.reference_effect, derived.response,
                              price_ranges=prices.reindex(world.products["product_id"]).to_numpy(),
                              customer_ids=tuple(world.customers["customer_id"]),
                              product_ids=tuple(world.products["product_id"]))
        return tables.save(context.scratch_folder("pricegym-bench-tables-"))

    return context.once("markdown_tables_run", write)


def _figure(name: str, env: MarkdownEnv, context: BenchContext, source: str) -> dict:
    steps = QUICK_STEPS if context.quick else FULL_STEPS
    rate, episodes, non_finite = run_random_steps(env, steps, context.config.seed)
    return {"name": name, "value": round(rate, 1), "unit": "steps/s", "device": "cpu", "steps": steps,
            "episodes": episodes, "non_finite": non_finite, "demand": source, "actions": "uniformly random"}


def _fitted_figure(env_name: str):
    def figure(context: BenchContext) -> dict:
        run = _tables_run(context)
        source = str(run) if context.config.demand_run is not None else "tables reduced from the ground truth"
        env_class, config_class = ENVIRONMENTS[env_name]
        env = env_class(config_class(demand_source="fitted", demand_run=run))
        return _figure(f"env_steps_per_s/{env_name}", env, context, source)
    return figure


def _floor_figure(env_name: str):
    def figure(context: BenchContext) -> dict:
        env_class, config_class = ENVIRONMENTS[env_name]
        env = env_class(config_class(demand_source="ground_truth"))
        return _figure(f"env_floor_steps_per_s/{env_name}", env, context, "closed-form numpy logit (ground truth)")
    return figure


for _env_name in ENVIRONMENTS:
    register_figure(f"env_steps_per_s/{_env_name}")(_fitted_figure(_env_name))
    register_figure(f"env_floor_steps_per_s/{_env_name}")(_floor_figure(_env_name))
