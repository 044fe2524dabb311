"""The figures of ``pricegym plot``: one function per figure, each taking loaded data and an output path.

Figures are drawn on :class:`matplotlib.figure.Figure` objects and rendered by Agg (PNG) or the SVG
backend; pyplot is never used, so no window opens and no global state changes. Every policy keeps one
colour in every figure (:func:`policy_colours`): the oracle black, the supervised baseline red, list price
grey. :func:`plan_figures` decides from what :func:`~pricegym.experiments.plot_data.find_inputs` found which
figures can be drawn (and why the others cannot); each file is written atomically.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.gridspec import SubplotSpec
from matplotlib.ticker import FuncFormatter, MaxNLocator

from pricegym.errors import PricegymError
from pricegym.experiments.plot_data import (
    MAX_DEPTH,
    BenchmarkPanel,
    BenchmarkResults,
    Block,
    DemandCurves,
    Inputs,
    LearningPanel,
    SeasonPath,
    Unplottable,
    benchmark_panels,
    demand_curves,
    learning_panels,
    season_paths,
)
from pricegym.safe_writes import atomic_file

SUPERVISED = "supervised BERT pricer"
"""Mirrors :data:`pricegym.experiments.benchmark_registry.SUPERVISED` (the baseline the chart highlights)."""
FIXED_COLOURS = {"oracle": "#222222", SUPERVISED: "#d62728", "list price": "#8c8c8c"}
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf", "#aec7e8",
           "#ffbb78", "#98df8a", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5")
FORMATS = ("png", "svg")
STYLE = {"font.size": 9, "axes.titlesize": 10, "axes.spines.top": False, "axes.spines.right": False,
         "axes.grid": True, "grid.alpha": 0.3, "legend.fontsize": 8, "legend.frameon": False, "svg.hashsalt": "pg"}
ORDER = ("benchmark", "learning_curves", "cumulative_revenue", "trajectories", "demand_fit")
"""The order the figures are drawn and listed in."""
SMOOTH_ABOVE = 60
"""Seasons longer than this many steps show prices as a moving average (a visit-by-visit line is noise)."""


def policy_colours(names: Iterable[str]) -> dict[str, str]:
    """One colour per name: fixed ones for the oracle, the supervised baseline and list price; the palette
    for the others, in name order (so a name keeps its colour in every figure drawn from the same inputs)."""
    colours = dict(FIXED_COLOURS)
    others = sorted(set(names) - set(colours))
    colours.update({name: PALETTE[index % len(PALETTE)] for index, name in enumerate(others)})
    return colours


def save(figure: Figure, stem: Path, formats: Iterable[str]) -> list[Path]:
    """Write ``figure`` as ``stem.FORMAT`` for each format, each file atomically; the paths written."""
    written = []
    for extension in formats:
        path = stem.with_name(f"{stem.name}.{extension}")
        with atomic_file(path) as partial:
            figure.savefig(partial, format=extension, dpi=150, bbox_inches="tight",
                           metadata={"Date": None} if extension == "svg" else None)
        written.append(path)
    return written


def _grid(n_panels: int, columns: int, width: float, height: float) -> tuple[Figure, list]:
    columns = max(1, min(columns, n_panels))
    rows = -(-n_panels // columns)
    figure = Figure(figsize=(width * columns, height * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for unused in axes[n_panels:]:
        unused.set_visible(False)
    return figure, list(axes[:n_panels])


def _steps(value: float, _position: object = None) -> str:
    return f"{value / 1e6:g}M" if abs(value) >= 1e6 else f"{value / 1e3:g}k" if abs(value) >= 1e3 else f"{value:g}"


def plot_learning_curves(panels: list[LearningPanel], stem: Path, formats: Iterable[str] = FORMATS,
                         colours: dict[str, str] | None = None) -> list[Path]:
    """% of the optimum on held-out seasons against training steps: per environment a panel, per agent the
    mean over training seeds with the band from the lowest to the highest seed; benchmarked rules dotted."""
    colours = colours or policy_colours([curve.label for panel in panels for curve in panel.curves])
    with matplotlib.rc_context(STYLE):
        figure, axes = _grid(len(panels), 3, 5.4, 4.6)
        for ax, panel in zip(axes, panels, strict=True):
            for curve in panel.curves:
                colour = colours.get(curve.label, PALETTE[0])
                if curve.n_seeds > 1:
                    ax.fill_between(curve.steps, curve.low, curve.high, color=colour, alpha=0.2, linewidth=0)
                seeds = f"mean of {curve.n_seeds} seeds, band min-max" if curve.n_seeds > 1 else "1 seed"
                ax.plot(curve.steps, curve.mean, marker="o", markersize=3, color=colour,
                        label=f"{curve.label}: {seeds}")
            for policy, value in panel.rules:
                ax.axhline(value, linestyle=":", linewidth=1.3, color=colours.get(policy, "#555555"),
                           label=f"{policy}: {value:.1f}% (benchmark seasons)")
            ax.axhline(100, color="#bbbbbb", linewidth=0.8)
            ax.xaxis.set_major_formatter(FuncFormatter(_steps))
            ax.set(title=panel.title, xlabel="training steps (environment steps)",
                   ylabel="% of the optimum (held-out seasons)")
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16))
        figure.suptitle("Learning curves: how close the agents get to the optimal pricing policy")
        return save(figure, stem, formats)


def plot_cumulative_revenue(benchmark: BenchmarkResults, stem: Path, formats: Iterable[str] = FORMATS,
                            colours: dict[str, str] | None = None) -> list[Path]:
    """Cumulative reward over the recorded season, per policy; a panel per environment block."""
    blocks = season_paths(benchmark)
    colours = colours or policy_colours(name for _, paths in blocks for name in paths)
    with matplotlib.rc_context(STYLE):
        figure, axes = _grid(len(blocks), 3, 5.0, 3.6)
        for ax, (block, paths) in zip(axes, blocks, strict=True):
            for policy, path in sorted(paths.items(), key=lambda item: -item[1].reward.sum()):
                total = np.concatenate([[0.0], np.cumsum(path.reward)])
                ax.plot(np.arange(total.size), total, drawstyle="steps-post", color=colours[policy],
                        label=f"{policy}: {total[-1]:,.0f}")
            ax.set(title=block.title, xlabel=f"{block.step_word()} of the season",
                   ylabel=f"cumulative {block.reward_word()}")
            ax.set_xlim(left=0)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.legend(loc="upper left")
        figure.suptitle(f"Cumulative {_reward_words(blocks)} over one season, the same for every policy (one draw of "
                        "luck: the averages over all seasons are in the benchmark chart)")
        return save(figure, stem, formats)


def _reward_words(blocks: list) -> str:
    words = sorted({block.reward_word() for block, _ in blocks})
    return " / ".join(words)


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1:
        return values
    kernel = np.ones(window)
    return np.convolve(values, kernel, mode="same") / np.convolve(np.ones_like(values), kernel, mode="same")


def plot_trajectories(benchmark: BenchmarkResults, stem: Path, formats: Iterable[str] = FORMATS,
                      colours: dict[str, str] | None = None) -> list[Path]:
    """Price (as a share of list price) and units left over the recorded season, per policy and block: the
    policies overlaid where a step is a day (the inventory panel left out where there is none), a strip per
    policy where a step is a customer visit (each visit's price is personal, so overlaid lines are noise)."""
    blocks = season_paths(benchmark)
    colours = colours or policy_colours(name for _, paths in blocks for name in paths)
    heights = [1.0 + 0.8 * len(paths) if _per_visit(block) else 3.4 for block, paths in blocks]
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(11, sum(heights)), layout="constrained")
        grid = figure.add_gridspec(len(blocks), 2, height_ratios=heights)
        for row, (block, paths) in enumerate(blocks):
            if _per_visit(block):
                _price_strips(figure, grid[row, :], block, paths, colours)
                continue
            stocked = any(path.inventory is not None for path in paths.values())
            price_ax = figure.add_subplot(grid[row, 0] if stocked else grid[row, :])
            longest = max(path.reward.size for path in paths.values())
            window = max(1, longest // 30) if longest > SMOOTH_ABOVE else 1
            for policy, path in paths.items():
                price = _moving_average(path.price_ratio.mean(axis=1), window)
                price_ax.plot(np.arange(1, price.size + 1), price, drawstyle="steps-mid" if window == 1 else "default",
                              marker="o" if price.size == 1 else None, color=colours[policy], alpha=0.9, label=policy)
            n_products = max(path.price_ratio.shape[1] for path in paths.values())
            smoothed = f", moving average over {window} {block.step_word()}s" if window > 1 else ""
            price_ax.axhline(1.0, color="#bbbbbb", linewidth=0.8)
            price_ax.set(title=f"{block.title}: prices{smoothed}", xlabel=f"{block.step_word()} of the season",
                         ylabel="price / list price" + (f" (mean of {n_products} products)" if n_products > 1 else ""))
            price_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            price_ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
            if stocked:
                stock_ax = figure.add_subplot(grid[row, 1])
                for policy, path in paths.items():
                    if path.inventory is not None:
                        stock_ax.plot(np.arange(1, path.reward.size + 1), path.inventory.sum(axis=1),
                                      drawstyle="steps-mid", color=colours[policy], alpha=0.9, markersize=3,
                                      marker="o" if path.reward.size <= 12 else None)
                stock_ax.set(title=f"{block.title}: inventory", xlabel=f"{block.step_word()} of the season",
                             ylabel="units in stock at the start of the day")
                stock_ax.set_ylim(bottom=0)
                stock_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
                stock_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        stock = any(path.inventory is not None for _, paths in blocks for path in paths.values())
        figure.suptitle("One season step by step: the price each policy sets"
                        + (" and the stock it leaves" if stock else ""))
        return save(figure, stem, formats)


def _per_visit(block: Block) -> bool:
    return block.step_word() == "customer visit"


def _price_strips(figure: Figure, spec: SubplotSpec, block: Block, paths: dict[str, SeasonPath],
                  colours: dict[str, str]) -> None:
    """One strip per policy: at each visit a line from list price down to the price offered."""
    strips = spec.subgridspec(len(paths), 1, hspace=0.08)
    first = None
    for index, (policy, path) in enumerate(paths.items()):
        ax = figure.add_subplot(strips[index], sharex=first, sharey=first)
        first = first or ax
        ratio, visits = path.price_ratio.mean(axis=1), np.arange(1, path.reward.size + 1)
        ax.vlines(visits, ratio, 1.0, color=colours[policy], linewidth=1.2)
        ax.plot(visits, ratio, "o", color=colours[policy], markersize=2)
        ax.axhline(1.0, color="#bbbbbb", linewidth=0.8)
        ax.set_ylabel(f"{policy}\n{1 - ratio.mean():.0%} off on average", rotation=0, ha="right", va="center",
                      fontsize=8)
        ax.tick_params(labelbottom=index == len(paths) - 1, labelsize=7)
        ax.grid(axis="x", visible=False)
    first.set_title(f"{block.title}: the price offered at each customer visit, as a share of list price "
                    "(a line down from 1 = a discount)")
    ax.set_xlabel(f"{block.step_word()} of the season")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def plot_demand_fit(curves: DemandCurves, stem: Path, formats: Iterable[str] = FORMATS) -> list[Path]:
    """Mean purchase probability against price / list price for a few products: the fitted tables (dashed)
    against the true demand (solid), the range of prices seen in the log shaded, each curve's
    revenue-maximising price marked."""
    with matplotlib.rc_context(STYLE):
        figure, axes = _grid(len(curves.products), 2, 5.0, 3.4)
        for ax, product in zip(axes, curves.products, strict=True):
            low, high = product.logged_range
            if np.isfinite(low) and np.isfinite(high):
                ax.axvspan(low, high, color="#e2e2e2", label="prices seen in the log")
            ax.axvline(1.0, color="#999999", linewidth=0.8, linestyle=":")
            best = []
            for values, style, colour, name in ((product.truth, "-", "#222222", "true demand"),
                                                (product.fitted, "--", "#1f77b4", "fitted demand")):
                ax.plot(product.relative_prices, values, linestyle=style, color=colour, label=name)
                top = int(np.argmax(product.relative_prices * values))
                ax.plot(product.relative_prices[top], values[top], marker="o", color=colour, markersize=5,
                        label=f"{name.split()[0]} revenue-maximising price")
                best.append(f"{name.split()[0]} {product.relative_prices[top]:.2f}")
            ax.text(0.98, 0.95, "revenue-maximising price / list:\n" + ", ".join(best), transform=ax.transAxes,
                    ha="right", va="top", fontsize=8)
            cold = ", cold start (not trained on)" if product.cold_start else ""
            ax.set(title=f"{product.name}\nlist price {product.list_price:,.2f}{cold}", xlabel="price / list price",
                   ylabel=f"purchase probability\n(mean over {curves.n_customers} customers)")
            ax.set_ylim(bottom=0)
        figure.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=5)
        figure.suptitle(f"Fitted demand against the true demand ({curves.world} world, run {curves.folder.name}; "
                        "neutral market, reference price = list price)")
        return save(figure, stem, formats)


def plot_benchmark(panels: list[BenchmarkPanel], stem: Path, formats: Iterable[str] = FORMATS,
                   colours: dict[str, str] | None = None, title: str = "Benchmark") -> list[Path]:
    """Each policy's value with its 95% interval, best first, a panel per environment block; the supervised
    baseline highlighted (a shaded row and a dashed line through its value)."""
    colours = colours or policy_colours(entry.policy for panel in panels for entry in panel.entries)
    with matplotlib.rc_context(STYLE):
        heights = [1.0 + 0.32 * len(panel.entries) for panel in panels]
        figure = Figure(figsize=(8.5, sum(heights) + 0.5), layout="constrained")
        axes = figure.subplots(len(panels), 1, squeeze=False, height_ratios=heights).ravel()
        for ax, panel in zip(axes, panels, strict=True):
            count = len(panel.entries)
            for index, entry in enumerate(panel.entries):
                y = count - 1 - index
                colour = colours.get(entry.policy, "#555555")
                error = None if entry.low is None or entry.high is None else \
                    [[max(0.0, entry.value - entry.low)], [max(0.0, entry.high - entry.value)]]
                ax.errorbar(entry.value, y, xerr=error, fmt="o", color=colour, capsize=3, markersize=6)
                unit = "%" if panel.measure.startswith("%") else ""
                ax.annotate(f"{entry.value:,.1f}{unit}", (entry.high if entry.high is not None else entry.value, y),
                            xytext=(5, 0), textcoords="offset points", va="center", fontsize=8)
                if entry.policy == SUPERVISED or entry.kind == "supervised":
                    ax.axhspan(y - 0.45, y + 0.45, color=FIXED_COLOURS[SUPERVISED], alpha=0.1, linewidth=0)
                    ax.axvline(entry.value, color=FIXED_COLOURS[SUPERVISED], linestyle="--", linewidth=0.9)
            ax.set_yticks(range(count), [entry.label for entry in reversed(panel.entries)])
            for tick, entry in zip(ax.get_yticklabels(), reversed(panel.entries), strict=True):
                if entry.policy == SUPERVISED or entry.kind == "supervised":
                    tick.set_fontweight("bold")
            if panel.measure.startswith("%"):
                ax.axvline(100, color="#999999", linewidth=0.8)
            ax.set_ylim(-0.6, count - 0.4)
            ax.grid(axis="y", visible=False)
            ax.set_title(f"{panel.title}\n{panel.note}", fontsize=9, loc="left")
            ax.set_xlabel(panel.measure)
            ax.margins(x=0.12)
        figure.suptitle(title)
        return save(figure, stem, formats)


# --- which figures ---------------------------------------------------------------------------------------


@dataclass
class PlannedFigure:
    """A figure that can be drawn: its name (the file stem) and how to draw it to a path stem."""

    name: str
    draw: Callable[[Path], list[Path]]


def _benchmark_names(benchmarks: list[BenchmarkResults]) -> list[str]:
    """Each benchmark's suffix in figure names: none for a single benchmark, else its folder's name."""
    if len(benchmarks) == 1:
        return [""]
    names: list[str] = []
    for benchmark in benchmarks:
        base = "".join(c if c.isalnum() or c in "-_" else "-" for c in benchmark.folder.name)
        names.append(f"_{base}" + (f"-{len(names)}" if f"_{base}" in names else ""))
    return names


def plan_figures(inputs: Inputs, formats: Iterable[str] = FORMATS) -> tuple[list[PlannedFigure], list[str]]:
    """The figures the inputs allow, and one line per figure that cannot be drawn (why). Everything that can
    fail on the inputs (reading, the demand curves, the benchmark statistics) happens here, before any file
    is written."""
    formats = tuple(formats)
    planned, skipped = [], []
    panels = learning_panels(inputs.training_runs, inputs.benchmarks)
    names = [row["policy"] for benchmark in inputs.benchmarks for row in benchmark.rows]
    names += [curve.label for panel in panels for curve in panel.curves]
    colours = policy_colours(names)
    if panels:
        planned.append(PlannedFigure("learning_curves", lambda stem: plot_learning_curves(panels, stem, formats,
                                                                                          colours)))
    else:
        note = inputs.unevaluated_note()
        skipped.append("learning_curves: " + (f"found {note}" if note else "no training run found"))
    if not inputs.benchmarks:
        skipped += [f"{name}: no benchmark results (benchmark.json) found"
                    for name in ("cumulative_revenue", "trajectories", "benchmark")]
    for benchmark, suffix in zip(inputs.benchmarks, _benchmark_names(inputs.benchmarks), strict=True):
        try:
            season_paths(benchmark)
            planned.append(PlannedFigure(f"cumulative_revenue{suffix}", lambda stem, b=benchmark:
                                         plot_cumulative_revenue(b, stem, formats, colours)))
            planned.append(PlannedFigure(f"trajectories{suffix}", lambda stem, b=benchmark:
                                         plot_trajectories(b, stem, formats, colours)))
        except Unplottable as reason:
            skipped += [f"cumulative_revenue{suffix}: {reason}", f"trajectories{suffix}: {reason}"]
        chart = benchmark_panels(benchmark)
        title = f"Benchmark {benchmark.name}: every policy on the same seasons"
        planned.append(PlannedFigure(f"benchmark{suffix}", lambda stem, c=chart, t=title:
                                     plot_benchmark(c, stem, formats, colours, t)))
    if not inputs.demand_runs:
        skipped.append("demand_fit: no fit-demand run found (pass --demand-run DIR)")
    else:
        try:
            curves = demand_curves(inputs.demand_runs[0])
            planned.append(PlannedFigure("demand_fit", lambda stem: plot_demand_fit(curves, stem, formats)))
        except Unplottable as reason:
            skipped.append(f"demand_fit: {reason}")
    planned.sort(key=lambda figure: next(index for index, prefix in enumerate(ORDER)
                                         if figure.name.startswith(prefix)))
    return planned, skipped


def draw_figures(inputs: Inputs, folder: Path, formats: Iterable[str] = FORMATS) -> tuple[list[str], list[str]]:
    """Plan, then draw every figure into ``folder``: a line per figure written and a line per figure skipped.

    Raises:
        PricegymError: nothing under the inputs can be drawn (nothing is written then).
    """
    planned, skipped = plan_figures(inputs, formats)
    if not planned:
        found = [inputs.unevaluated_note()] + [line.removeprefix("demand_fit: ") for line in skipped
                                               if line.startswith("demand_fit") and inputs.demand_runs]
        why = f" (found {'; '.join(line for line in found if line)})" if any(found) else ""
        raise PricegymError(f"{inputs.root}: nothing to plot{why}; expected within {MAX_DEPTH} folder levels a "
                            "benchmark folder (benchmark.json), training runs with eval/evaluations.csv (pricegym "
                            "train --eval-freq) or a fit-demand run of the synthetic world (demand_tables.npz)")
    written = []
    for figure in planned:
        paths = figure.draw(folder / figure.name)
        written.append(f"{figure.name}: {', '.join(str(path) for path in paths)}")
    return written, skipped
