"""Headroom of Markdown-v0: the oracle against the best fixed price, the myopic rule and other rules.

Exact expected season returns (no Monte-Carlo noise: every policy is evaluated by the same
recursion as the dynamic program) over several episodes of the default configuration, pooled.
A learning agent can gain at most the gap between a rule and the oracle::

    python -m pricegym.experiments.markdown_headroom --episodes 20
    python -m pricegym.experiments.markdown_headroom --demand-run runs/fit-demand/synthetic-seed0
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from pricegym.encoders.demand_tables import TABLES_FILE
from pricegym.envs import MarkdownConfig, MarkdownEnv
from pricegym.envs.oracle import baseline_values
from pricegym.errors import PricegymError

RULES = ("best fixed price", "myopic", "list price", "random")


def headroom_table(config: MarkdownConfig, episodes: int, seed: int = 0, progress: bool = True) -> pd.DataFrame:
    """One row: the pooled oracle value per episode and each rule's return as a % of it."""
    env = MarkdownEnv(config)
    totals = dict.fromkeys(("oracle", *RULES), 0.0)
    for episode in tqdm(range(episodes), desc=f"headroom ({config.demand_source})", disable=not progress):
        env.reset(seed=seed + episode)
        for name, value in baseline_values(env).items():
            totals[name] += value
    row = {"demand source": config.demand_source, "episodes": episodes,
           "oracle (DP) mean return": totals["oracle"] / episodes}
    row.update({f"{name} % of oracle": 100.0 * totals[name] / totals["oracle"] for name in RULES})
    return pd.DataFrame([row])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pricegym.experiments.markdown_headroom",
                                     description="Exact headroom table of Markdown-v0 on its default config.")
    parser.add_argument("--episodes", type=int, default=20, help="episodes (seasons) pooled")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode")
    parser.add_argument("--demand-run", type=Path, default=None,
                        help="also evaluate with the fitted demand of this fit-demand run (default synthetic world)")
    arguments = parser.parse_args(argv)
    if arguments.demand_run is not None and not (arguments.demand_run / TABLES_FILE).is_file():
        print(f"pricegym: error: {arguments.demand_run}: holds no demand tables; pass the folder of a "
              "`pricegym fit-demand --world synthetic` run", file=sys.stderr)
        return 1
    try:
        tables = [headroom_table(MarkdownConfig(), arguments.episodes, arguments.seed)]
        if arguments.demand_run is not None:
            fitted = MarkdownConfig(demand_source="fitted", demand_run=arguments.demand_run)
            tables.append(headroom_table(fitted, arguments.episodes, arguments.seed))
    except PricegymError as error:
        print(f"pricegym: error: {error}", file=sys.stderr)
        return 1
    print(pd.concat(tables).to_string(index=False, float_format=lambda value: f"{value:.1f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
