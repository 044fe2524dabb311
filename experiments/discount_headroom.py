"""Headroom of PersonalizedDiscount-v0, per scenario: the bounds against the best uniform discount and the rules.

One column per scenario (:mod:`pricegym.envs.discount_scenarios`) and demand source. Every policy
plays the same episodes (common random numbers: one seed, identical customers and
willingness to pay). Margins are realised (simulated) returns, pooled over episodes; the
hindsight bound (``upper_bound``) is computed on each episode's own draws, and no policy may
exceed it on any episode; the expected bound (Lagrangian, non-clairvoyant) is the tighter
yardstick of what a policy that does not see the future could gain. ``expected bound % above
best uniform`` is the room that personalisation may fill, and each rule's ``% of gap captured``
is how much of it the rule fills: ``(rule - best uniform) / (expected bound - best uniform)``::

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


def headroom_policies() -> list:
    """The rules the table compares: the listed baselines and the rule that personalises by the text."""
    from pricegym.agents.discount_baselines import DISCOUNT_BASELINES
    from pricegym.agents.text_discount_rule import TextSegmentDiscountPolicy

    return [policy() for policy in (*DISCOUNT_BASELINES, TextSegmentDiscountPolicy)]


def discount_headroom(config: PersonalizedDiscountConfig, episodes: int, seed: int = 0,
                      progress: bool = True) -> dict[str, float]:
    """Pooled mean margin per episode of each rule, of the best uniform discount in hindsight, and of both
    bounds, and the bound violations.

    The best uniform discount in hindsight is the fixed discount (of the candidates the best-fixed rule
    plans over, the list price included) with the highest mean on the evaluated episodes themselves: the
    most any one discount for everyone could have earned on them.
    """
    from tqdm.auto import tqdm

    from pricegym.agents.rollout import episode_return
    from pricegym.envs import PersonalizedDiscountEnv
    from pricegym.envs.discount_bounds import expected_bound, hindsight_bound

    env = PersonalizedDiscountEnv(config)
    policies = headroom_policies()
    uniform = _uniform_policies(env)
    totals = dict.fromkeys(["upper_bound", "expected_bound", *(policy.name for policy in policies)], 0.0)
    uniform_totals = dict.fromkeys(uniform, 0.0)
    violations = 0
    for episode in tqdm(range(episodes), desc=f"PersonalizedDiscount-v0 headroom ({config.scenario}, "
                        f"{config.demand_source})", disable=not progress):
        returns = {policy.name: episode_return(env, policy, seed + episode) for policy in policies}
        uniform_returns = {share: episode_return(env, policy, seed + episode) for share, policy in uniform.items()}
        bound = hindsight_bound(env).value  # of the episode's draws, the same for every policy
        violations += sum(value > bound + 1e-9 for value in [*returns.values(), *uniform_returns.values()])
        for share, value in uniform_returns.items():
            uniform_totals[share] += value
        totals["upper_bound"] += bound
        totals["expected_bound"] += expected_bound(env).value
        for name, value in returns.items():
            totals[name] += value
    means = {name: total / episodes for name, total in totals.items()}
    best_share = max(uniform_totals, key=uniform_totals.get)
    means["best uniform (hindsight)"] = uniform_totals[best_share] / episodes
    means["best uniform discount"] = best_share
    means["bound violations"] = violations
    return means


def _uniform_policies(env) -> dict:
    """One fixed-discount rule per candidate share of the best-fixed rule (the list price included)."""
    from pricegym.agents.discount_baselines import (
        BestFixedDiscountPolicy,
        FixedDiscountPolicy,
        fixed_discount_candidates,
    )

    shares = fixed_discount_candidates(env, BestFixedDiscountPolicy().candidates)
    return {float(share): FixedDiscountPolicy(share) for share in shares}


def headroom_row(config: PersonalizedDiscountConfig, episodes: int, seed: int = 0, progress: bool = True) -> dict:
    """One table column: the bounds' mean margins, each rule as a % of both, the gap between the expected
    bound and the best uniform discount, and the share of that gap each personalising rule captures."""
    means = discount_headroom(config, episodes, seed, progress)
    expected, uniform = means["expected_bound"], means["best uniform (hindsight)"]
    economics = config.economics
    row = {"scenario": config.scenario, "demand source": config.demand_source, "episodes": episodes,
           "unit cost scale": economics.unit_cost_scale, "discount budget %": 100.0 * economics.discount_budget,
           "reward": economics.reward,
           "upper_bound (hindsight)": means["upper_bound"], "expected bound": expected,
           "best uniform (hindsight)": uniform, "best uniform discount %": 100.0 * means["best uniform discount"],
           "expected bound % above best uniform": 100.0 * (expected / uniform - 1.0)}
    for policy in headroom_policies():
        name = policy.name
        row[f"{name} % of upper_bound"] = 100.0 * means[name] / means["upper_bound"]
        row[f"{name} % of expected bound"] = 100.0 * means[name] / expected
        row[f"{name} % of gap captured"] = 100.0 * (means[name] - uniform) / (expected - uniform)
    row["bound violations"] = means["bound violations"]
    return row


def main(argv: list[str] | None = None) -> int:
    def rows(demand_source: str, demand_run: Path | None, episodes: int, seed: int) -> list[dict]:
        from pricegym.envs import PersonalizedDiscountConfig
        from pricegym.envs.discount_scenarios import SCENARIOS

        return [headroom_row(PersonalizedDiscountConfig(scenario=scenario, demand_source=demand_source,
                                                        demand_run=demand_run), episodes, seed)
                for scenario in SCENARIOS]

    return headroom_main(argv, "pricegym.experiments.discount_headroom",
                         "Headroom table of PersonalizedDiscount-v0: one column per scenario and demand source.",
                         rows)


if __name__ == "__main__":
    sys.exit(main())
