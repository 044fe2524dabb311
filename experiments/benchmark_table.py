"""``benchmark.md``: the benchmark's rows as one Markdown table per environment block, best policy first."""

from __future__ import annotations

from typing import Any


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _interval(low: float | None, high: float | None, digits: int = 1) -> str:
    return "-" if low is None or high is None else f"[{low:,.{digits}f}, {high:,.{digits}f}]"


def _seed_interval(row: dict[str, Any]) -> str:
    low, high = row.get("seed_ci95_low"), row.get("seed_ci95_high")
    return "" if low is None or high is None else f" {_interval(low, high)}"


def _uplift(row: dict[str, Any]) -> str:
    if row["uplift_vs_supervised_pct"] is None:
        return "-"
    return (f"{row['uplift_vs_supervised_pct']:+.1f}% "
            f"{_interval(row['uplift_ci95_low'], row['uplift_ci95_high'])}")


HINDSIGHT_HEADER = " % of hindsight bound | gap captured | bound violations |"


def _hindsight_cells(row: dict[str, Any]) -> str:
    return (f" {_number(row['pct_of_hindsight_bound'], 2)} | {_number(row['gap_captured_pct'], 1)}% | "
            f"{row['bound_violations']} |")


def block_table(rows: list[dict[str, Any]]) -> list[str]:
    """The table of one block's rows, by mean return (with the hindsight columns where the block has them)."""
    hindsight = any(row.get("bound_violations") is not None for row in rows)
    header = ("| policy | knows | trained on | seeds | mean return [95% CI seasons] [95% CI seeds] | % of yardstick | "
              "uplift vs supervised [95% CI] | p10 / p90 | CVaR10 | sell-through | mean discount |")
    columns = 11 + 3 * hindsight
    lines = [header + (HINDSIGHT_HEADER if hindsight else ""), "|" + "---|" * columns]
    for row in sorted(rows, key=lambda item: -item["mean_return"]):
        sell = "-" if row["sell_through"] is None else f"{100 * row['sell_through']:.1f}%"
        lines.append(
            f"| {row['policy']} | {row['knows']} | {row['trained_on'] or '-'} | {row['n_train_seeds']} | "
            f"{_number(row['mean_return'])} {_interval(row['ci95_low'], row['ci95_high'])}"
            f"{_seed_interval(row)} | "
            f"{_number(row['pct_of_oracle'], 2)} | {_uplift(row)} | "
            f"{_number(row['p10_return'])} / {_number(row['p90_return'])} | {_number(row['cvar10_return'])} | "
            f"{sell} | {100 * row['mean_discount']:.1f}% |" + (_hindsight_cells(row) if hindsight else ""))
    return lines


def hindsight_lines(yardstick: dict[str, Any]) -> list[str]:
    """What the block's seasons held, where its environment has a hindsight bound (else nothing)."""
    if "hindsight_bound_mean" not in yardstick:
        return []
    return [f"Hindsight: the clairvoyant bound averages {yardstick['hindsight_bound_mean']:,.1f} per season; the "
            f"best uniform discount on these seasons is {yardstick['best_uniform_discount_pct']:g}% for everyone "
            f"({yardstick['best_uniform_mean']:,.1f}), and the yardstick lies "
            f"{yardstick['expected_bound_pct_above_best_uniform']:.1f}% above it: the room personalisation may "
            "fill. Gap captured = (policy - best uniform) / (yardstick - best uniform); a bound violation is a "
            "season above the clairvoyant bound (there must be none).", ""]


def markdown_table(record: dict[str, Any]) -> str:
    """The whole ``benchmark.md``."""
    seeds = record["seeds"]
    lines = [f"# Benchmark `{record['name']}`", "",
             f"{seeds['episodes']} seasons per environment (seeds {seeds['first']} to "
             f"{seeds['first'] + seeds['episodes'] - 1}), the same for every policy. Config hash "
             f"`{record['config_hash']}`, commit `{record['git'].get('commit', 'unknown')}`, {record['device']}.",
             "Intervals: BCa bootstrap over seasons (`scipy.stats.bootstrap`), and for agents trained on several "
             "seeds a Student-t interval over the seeds' means (what training once more may give); uplifts are "
             "paired over seasons. % of yardstick (`pct_of_oracle` in benchmark.json) is mean return / mean "
             "yardstick of the same seasons: the yardstick is an exact expectation (or an upper bound), the "
             "returns are realised, so a policy can pass 100% on few seasons.", ""]
    for yardstick in record["yardsticks"].values():
        label = yardstick["env"]
        rows = [row for row in record["rows"] if row["env"] == label and row["demand"] == yardstick["demand"]]
        lines += [f"## {label}, {yardstick['demand']} demand", "",
                  f"Yardstick: {yardstick['kind']}, mean {yardstick['mean']:,.1f} per season.", "",
                  *hindsight_lines(yardstick), *block_table(rows), ""]
    return "\n".join(lines)
