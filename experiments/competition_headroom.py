"""Headroom of Competition-v0: the best response to the rivals against the best fixed price and the myopic rule.

Exact expected season returns: every policy is evaluated by the same recursion as the dynamic
program over (period, previous price), pooled over several episodes of the default configuration::

    python -m pricegym.experiments.competition_headroom --episodes 20
    python -m pricegym.experiments.competition_headroom --demand-run runs/fit-demand/synthetic-seed0
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pricegym.experiments.headroom_cli import headroom_main

if TYPE_CHECKING:  # imported where used, so that --help answers at once
    from pricegym.envs import CompetitionConfig

RULES = ("best fixed price", "myopic", "list price", "random")


def competition_headroom(config: CompetitionConfig, episodes: int, seed: int = 0, grid_size: int = 41,
                         progress: bool = True) -> dict[str, float]:
    """Pooled mean exact return per episode of the best response and each rule."""
    from tqdm.auto import tqdm

    from pricegym.envs import CompetitionEnv
    from pricegym.envs.competition_oracle import competition_values

    env = CompetitionEnv(config)
    totals = dict.fromkeys(("upper_bound", *RULES), 0.0)
    for episode in tqdm(range(episodes), desc=f"Competition-v0 headroom ({config.demand_source})",
                        disable=not progress):
        env.reset(seed=seed + episode)
        for name, value in competition_values(env, grid_size).items():
            totals[name] += value
    return {name: total / episodes for name, total in totals.items()}


def headroom_row(config: CompetitionConfig, episodes: int, seed: int = 0, progress: bool = True) -> dict:
    means = competition_headroom(config, episodes, seed, progress=progress)
    row = {"demand source": config.demand_source, "rivals": "+".join(config.rivals), "episodes": episodes,
           "upper_bound (best response) mean return": means["upper_bound"]}
    row.update({f"{name} % of upper_bound": 100.0 * means[name] / means["upper_bound"] for name in RULES})
    return row


def main(argv: list[str] | None = None) -> int:
    def row(demand_source: str, demand_run: Path | None, episodes: int, seed: int) -> dict:
        from pricegym.envs import CompetitionConfig

        config = CompetitionConfig(demand_source=demand_source, demand_run=demand_run)
        return headroom_row(config, episodes, seed)

    return headroom_main(argv, "pricegym.experiments.competition_headroom",
                         "Headroom table of Competition-v0 on its default config.", row)


if __name__ == "__main__":
    sys.exit(main())
