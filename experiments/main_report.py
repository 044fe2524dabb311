"""``runs/<name>/report.md``: the main job's headline, its benchmark tables and plots, and what each stage took."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def headline(rows: list[dict[str, Any]]) -> list[str]:
    """Per environment block: the best policy that is not the oracle, and how the agents did."""
    lines = []
    for label, demand in dict.fromkeys((row["env"], row["demand"]) for row in rows):
        block = [row for row in rows if row["env"] == label and row["demand"] == demand]
        contenders = [row for row in block if row["kind"] not in ("oracle", "hindsight")]
        if not contenders:
            continue
        best = max(contenders, key=lambda row: row["mean_return"])
        text = f"- **{label}** ({demand} demand): best is **{best['policy']}** ({best['knows']})"
        if best["pct_of_oracle"] is not None:
            text += f", {best['pct_of_oracle']:.1f}% of the yardstick"
        if best["uplift_vs_supervised_pct"] is not None:
            text += (f", {best['uplift_vs_supervised_pct']:+.1f}% vs the supervised BERT pricer "
                     f"[{_fmt(best['uplift_ci95_low'])}, {_fmt(best['uplift_ci95_high'])}]")
        for agent in (row for row in block if row["kind"] == "agent" and row is not best):
            text += f"; {agent['policy']}: {_pct(agent['pct_of_oracle'])}"
            if agent["uplift_vs_supervised_pct"] is not None:
                text += f", {agent['uplift_vs_supervised_pct']:+.1f}% vs supervised"
        lines.append(text)
    return lines


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}%"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}% of the yardstick"


def write_report(path: Path, state: Any, bench_folder: Path, plots: Path) -> None:
    """Write ``report.md`` from the benchmark's files, the plots folder and the job's stage times."""
    record = json.loads((bench_folder / "benchmark.json").read_text())
    table = (bench_folder / "benchmark.md").read_text().split("\n", 1)[1]
    figures = sorted(plots.glob("*.png")) if plots.is_dir() else []
    config = state.config
    lines = [f"# pricegym main job `{config.name}`", "",
             f"World: {config.world.name}; text encoder {config.model_name}; {len(config.train_seeds)} training "
             f"seed(s) x {config.train_steps:,} steps per agent; {config.episodes} benchmark seasons per block"
             f"{' (quick smoke run: the numbers are not results)' if config.quick else ''}. The agents observe "
             "the default text encoder's embeddings of the world's texts; the one trained on the fitted BERT tables "
             "observes that run's fine-tuned embeddings.", "",
             "## Headline", "", *headline(record["rows"]), "",
             "## Plots", "", *(f"![{figure.stem}](plots/{figure.name})" for figure in figures),
             *([] if figures else ["(no plots)"]), "",
             "## Stages", "", "| stage | seconds |", "|---|---|",
             *(f"| {name} | {seconds:.0f} |" for name, seconds in state.timings.items()),
             *(f"| {name} | reused |" for name in state.reused), "",
             "## Benchmark", "", "From [benchmark/benchmark.md](benchmark/benchmark.md) (config "
             "[benchmark.yaml](benchmark.yaml)).", table]
    path.write_text("\n".join(lines) + "\n")
