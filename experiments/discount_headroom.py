"""Headroom of PersonalizedDiscount-v0: the bounds against the best fixed discount, the myopic rule and others.

Every policy plays the same episodes (common random numbers: one seed, identical customers and
willingness to pay). Margins are realised (simulated) returns, pooled over episodes; the
hindsight bound (``upper_bound``) is computed on each episode's own draws, and no policy may
exceed it on any episode; the expected bound (Lagrangian, non-clairvoyant) is the tighter
yardstick of what a policy that does not see the future could gain::

    python -m pricegym.experiments.discount_headroom --episodes 20
    python -m pricegym.experiments.discount_headroom --demand-run runs/fit-demand/synthetic-seed0
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pricegym.experiments.headroom_cli import headroom_main

if TYPE_CHECKING:  # imported where used, so that --help answers at once
    from pricegym.envs import PersonalizedDiscountConfig


def discount_headroom(config: PersonalizedDiscountConfig, episodes: int, seed: int = 0,
                      progress: bool = True) -> dict[str, float]:
    """Pooled mean margin per episode of each listed baseline and both bounds, and bound violations."""
    from tqdm.auto import tqdm

    from pricegym.agents.discount_baselines import DISCOUNT_BASELINES
    from pricegym.agents.rollout import episode_return
    from pricegym.envs import PersonalizedDiscountEnv
    from pricegym.envs.discount_bounds import expected_bound, hindsight_bound

    env = PersonalizedDiscountEnv(config)
    policies = [policy() for policy in DISCOUNT_BASELINES]
    totals = dict.fromkeys(["upper_bound", "expected_bound", *(policy.name for policy in policies)], 0.0)
    violations = 0
    for episode in tqdm(range(episodes), desc=f"PersonalizedDiscount-v0 headroom ({config.demand_source})",
                        disable=not progress):
        returns = {policy.name: episode_return(env, policy, seed + episode) for policy in policies}
        bound = hindsight_bound(env).value
        violations += sum(value > bound + 1e-9 for value in returns.values())
        totals["upper_bound"] += bound
        totals["expected_bound"] += expected_bound(env).value
        for name, value in returns.items():
            totals[name] += value
    means = {name: total / episodes for name, total in totals.items()}
    means["bound violations"] = violations
    return means


def headroom_row(config: PersonalizedDiscountConfig, episodes: int, seed: int = 0, progress: bool = True) -> dict:
    """One table row: the bounds' mean margins and each rule as a % of both."""
    from pricegym.agents.discount_baselines import DISCOUNT_BASELINES

    means = discount_headroom(config, episodes, seed, progress)
    row = {"demand source": config.demand_source, "episodes": episodes,
           "upper_bound (hindsight)": means["upper_bound"], "expected bound": means["expected_bound"]}
    for policy in DISCOUNT_BASELINES:
        name = policy.name
        row[f"{name} % of upper_bound"] = 100.0 * means[name] / means["upper_bound"]
        row[f"{name} % of expected bound"] = 100.0 * means[name] / means["expected_bound"]
    row["bound violations"] = means["bound violations"]
    return row


def main(argv: list[str] | None = None) -> int:
    def row(demand_source: str, demand_run: Path | None, episodes: int, seed: int) -> dict:
        from pricegym.envs import PersonalizedDiscountConfig

        config = PersonalizedDiscountConfig(demand_source=demand_source, demand_run=demand_run)
        return headroom_row(config, episodes, seed)

    return headroom_main(argv, "pricegym.experiments.discount_headroom",
                         "Headroom table of PersonalizedDiscount-v0 on its default config.", row)


if __name__ == "__main__":
    sys.exit(main())
