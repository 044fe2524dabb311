"""Headroom of Markdown-v0: the oracle against the best fixed price, the myopic rule and other rules.

Exact expected season returns (no Monte-Carlo noise: every policy is evaluated by the same
recursion as the dynamic program) over several episodes of the default configuration, pooled.
A learning agent can gain at most the gap between a rule and the oracle::

    python -m pricegym.experiments.markdown_headroom --episodes 20
    python -m pricegym.experiments.markdown_headroom --demand-run runs/fit-demand/synthetic-seed0
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pricegym.experiments.headroom_cli import headroom_main

if TYPE_CHECKING:  # imported where used, so that --help answers at once
    import pandas as pd

    from pricegym.envs import MarkdownConfig

RULES = ("best fixed price", "myopic", "list price", "random")


def headroom_table(config: MarkdownConfig, episodes: int, seed: int = 0, progress: bool = True) -> pd.DataFrame:
    """One row: the pooled oracle value per episode and each rule's return as a % of it."""
    import pandas as pd
    from tqdm.auto import tqdm

    from pricegym.envs import MarkdownEnv
    from pricegym.envs.oracle import baseline_values

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
    def row(demand_source: str, demand_run: Path | None, episodes: int, seed: int) -> dict:
        from pricegym.envs import MarkdownConfig

        config = MarkdownConfig(demand_source=demand_source, demand_run=demand_run)
        return headroom_table(config, episodes, seed).iloc[0].to_dict()

    return headroom_main(argv, "pricegym.experiments.markdown_headroom",
                         "Exact headroom table of Markdown-v0 on its default config.", row)


if __name__ == "__main__":
    sys.exit(main())
