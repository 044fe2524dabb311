"""Headroom of Competition-v0: the best response to the rivals against the best fixed price and the myopic rule.

Exact expected season returns: every policy is evaluated by the same recursion as the dynamic
program over (period, previous price), pooled over several episodes of the default configuration::

    python -m pricegym.experiments.competition_headroom --episodes 20
    python -m pricegym.experiments.competition_headroom --demand-run runs/fit-demand/synthetic-default
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from pricegym.encoders.demand_tables import TABLES_FILE
from pricegym.envs import CompetitionConfig, CompetitionEnv
from pricegym.envs.competition_oracle import competition_values
from pricegym.errors import PricegymError

RULES = ("best fixed price", "myopic", "list price", "random")


def competition_headroom(config: CompetitionConfig, episodes: int, seed: int = 0, grid_size: int = 41,
                         progress: bool = True) -> dict[str, float]:
    """Pooled mean exact return per episode of the best response and each rule."""
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
    parser = argparse.ArgumentParser(prog="python -m pricegym.experiments.competition_headroom",
                                     description="Exact headroom table of Competition-v0 on its default config.")
    parser.add_argument("--episodes", type=int, default=20, help="episodes (seasons) pooled (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode")
    parser.add_argument("--demand-run", type=Path, default=None,
                        help="also evaluate with the fitted demand of this fit-demand run (default synthetic world)")
    arguments = parser.parse_args(argv)
    if arguments.episodes <= 0:
        parser.error(f"--episodes must be positive; got {arguments.episodes}")
    if arguments.demand_run is not None and not (arguments.demand_run / TABLES_FILE).is_file():
        print(f"pricegym: error: {arguments.demand_run}: holds no demand tables; pass the folder of a "
              "`pricegym fit-demand --world synthetic` run", file=sys.stderr)
        return 1
    try:
        rows = [headroom_row(CompetitionConfig(), arguments.episodes, arguments.seed)]
        if arguments.demand_run is not None:
            fitted = CompetitionConfig(demand_source="fitted", demand_run=arguments.demand_run)
            rows.append(headroom_row(fitted, arguments.episodes, arguments.seed))
    except PricegymError as error:
        print(f"pricegym: error: {error}", file=sys.stderr)
        return 1
    print(pd.DataFrame(rows).T.to_string(header=False, float_format=lambda value: f"{value:.1f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
