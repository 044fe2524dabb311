"""What ``pricegym plot`` draws: finding the result folders under a run folder and reading them.

Only result files are read; nothing is trained, played or fitted again (the demand figure builds the synthetic
world from its seed, as recorded in the fit-demand run's model card, to know the true demand).

Discovery (:func:`find_inputs`) looks at ``RUN_DIR`` and the folders under it, at most :data:`MAX_DEPTH`
levels down, in name order; hidden folders and the ``plots`` folder are skipped, and a folder recognised as a
result is not looked into further:

* a **benchmark** folder holds ``benchmark.json`` (``pricegym benchmark``; ``seasons.csv`` and
  ``trajectories.json`` beside it are read when present);
* a **training run** holds a ``run.json`` whose ``command`` is ``train`` (``pricegym train``); its learning
  curve is ``eval/evaluations.csv`` (written with ``--eval-freq``); a run repeating an (environment, agent,
  seed) already seen is left out of the curves;
* a **fit-demand run** holds ``demand_tables.npz`` (``pricegym fit-demand``); the first one found is drawn,
  unless ``--demand-run`` names one.

So ``RUN_DIR`` may be a benchmark folder, a training run, a folder of training runs (``runs/train``), a
main-job folder (``runs/NAME`` with ``benchmark/``, ``train/*/`` and ``demand/``) or ``runs`` itself.
"""

from __future__ import annotations

import glob
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pricegym.errors import DataError
from pricegym.experiments.benchmark_registry import OBSERVATION_OPTIONS

MAX_DEPTH = 3
"""How many folder levels under ``RUN_DIR`` discovery looks (``runs/NAME/train/RUN`` is 3 below ``runs``)."""
OUTPUT_FOLDER = "plots"
"""The default output folder inside ``RUN_DIR`` (never searched)."""
DEMAND_PRODUCTS = 4
"""Products in the demand figure: three trained on, at low, middle and high list prices, and one cold-start."""
SEASON_OPTIONS_IGNORED = (*OBSERVATION_OPTIONS, "demand_run")
"""Environment options that do not change the seasons: the benchmark's observation options, and the demand run
(under the truth it only supplies embeddings)."""


class Unplottable(Exception):
    """A result that was found but cannot be drawn; the message says why (printed as a skipped figure)."""


# --- the loaded results -------------------------------------------------------------------------------


@dataclass
class Block:
    """One environment block of a benchmark: how its rows and trajectories are keyed, and what it plays."""

    label: str
    demand: str
    env_id: str
    env_kwargs: dict[str, Any]
    agent_runs: dict[str, list[Path]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The key of ``trajectories.json``."""
        return f"{self.label} [{self.demand}]"

    @property
    def title(self) -> str:
        """A short panel title: the environment without the ``pricegym/`` prefix, and the demand if fitted."""
        name = self.label.removeprefix("pricegym/")
        return f"{name}, fitted demand" if self.demand == "fitted" else name

    def season_options(self) -> dict[str, Any]:
        """The options that shape its seasons (to compare with a training run's)."""
        options = dict(self.env_kwargs, demand_source="fitted") if self.demand == "fitted" else self.env_kwargs
        return season_options(options)

    def step_word(self) -> str:
        """What one step of a season is."""
        return "customer visit" if "PersonalizedDiscount" in self.env_id else "day"

    def reward_word(self) -> str:
        """What the reward counts: revenue or margin."""
        if "reward" in self.env_kwargs:
            return str(self.env_kwargs["reward"])
        if "PersonalizedDiscount" in self.env_id:
            from pricegym.envs.discount_scenarios import DEFAULT_SCENARIO, SCENARIOS

            scenario = SCENARIOS.get(self.env_kwargs.get("scenario", DEFAULT_SCENARIO))
            return scenario.reward if scenario is not None else "reward"
        return "revenue"


@dataclass
class BenchmarkResults:
    """A ``pricegym benchmark`` folder: its rows, and when present its seasons and trajectories."""

    folder: Path
    name: str
    record: dict[str, Any]
    blocks: list[Block]
    seasons: pd.DataFrame | None
    trajectories: dict[str, Any] | None

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.record["rows"]

    def rows_of(self, block: Block) -> list[dict[str, Any]]:
        return [row for row in self.rows if row.get("env") == block.label and row.get("demand") == block.demand]

    def season_returns(self, block: Block, policy: str) -> tuple[np.ndarray, np.ndarray] | None:
        """``([train seeds, seasons] returns, [seasons] yardstick)`` of a policy, from ``seasons.csv``."""
        if self.seasons is None:
            return None
        frame = self.seasons[(self.seasons["env"] == block.label) & (self.seasons["demand"] == block.demand)
                             & (self.seasons["policy"] == policy)]
        if frame.empty or frame["yardstick"].isna().any():
            return None
        table = frame.assign(train_seed=frame["train_seed"].fillna(-1)).pivot_table(
            index="train_seed", columns="season_seed", values="return", aggfunc="mean")
        yardstick = frame.groupby("season_seed")["yardstick"].first().reindex(table.columns)
        return table.to_numpy(float), yardstick.to_numpy(float)


@dataclass
class TrainingRun:
    """A ``pricegym train`` run and its evaluations (``timesteps``, ``percent_of_optimum``), if any."""

    folder: Path
    env_id: str
    algo: str
    seed: int
    env_kwargs: dict[str, Any]
    evaluations: pd.DataFrame | None


@dataclass
class ProductCurve:
    """One product's mean purchase probability over customers against price / list price, true and fitted."""

    name: str
    list_price: float
    cold_start: bool
    relative_prices: np.ndarray
    truth: np.ndarray
    fitted: np.ndarray
    logged_range: tuple[float, float]


@dataclass
class DemandCurves:
    """The demand figure's data: a few products of a fit-demand run against the synthetic world's truth."""

    folder: Path
    world: str
    n_customers: int
    products: list[ProductCurve]


@dataclass
class Inputs:
    """Everything found under ``RUN_DIR``: what can be drawn, and notes on what was found but cannot be."""

    root: Path
    benchmarks: list[BenchmarkResults] = field(default_factory=list)
    training_runs: list[TrainingRun] = field(default_factory=list)
    demand_runs: list[Path] = field(default_factory=list)
    unevaluated: list[Path] = field(default_factory=list)
    repeated: list[Path] = field(default_factory=list)

    def unevaluated_note(self) -> str:
        """Why training runs found were not drawn ("" when none was left out for lack of evaluations)."""
        count = len(self.unevaluated)
        return "" if not count else (f"{count} training run{'s' if count > 1 else ''} without eval/evaluations.csv "
                                     "(train with --eval-freq to get a learning curve)")


# --- discovery -------------------------------------------------------------------------------------------


def classify(folder: Path) -> str | None:
    """``"benchmark"``, ``"train"``, ``"demand"`` or None (not a result folder)."""
    if (folder / "benchmark.json").is_file():
        return "benchmark"
    if (folder / "demand_tables.npz").is_file():
        return "demand"
    record = folder / "run.json"
    if record.is_file():
        try:
            if json.loads(record.read_text()).get("command") == "train":
                return "train"
        except (OSError, ValueError, AttributeError):
            return None
    return None


def find_folders(root: Path, skip: Path | None = None) -> dict[str, list[Path]]:
    """The result folders under ``root`` (itself included) by kind, each list in name order (see the module
    docstring for the rules)."""
    found: dict[str, list[Path]] = {"benchmark": [], "train": [], "demand": []}
    skipped = None if skip is None else skip.resolve()
    level = [root]
    for depth in range(MAX_DEPTH + 1):
        below = []
        for folder in level:
            kind = classify(folder)
            if kind is not None:
                found[kind].append(folder)
            elif depth < MAX_DEPTH:
                try:
                    children = sorted(child for child in folder.iterdir() if child.is_dir())
                except OSError:
                    continue
                below.extend(child for child in children if not child.name.startswith(".")
                             and child.name != OUTPUT_FOLDER and child.resolve() != skipped)
        level = below
    return {kind: sorted(folders) for kind, folders in found.items()}


def find_inputs(root: Path, demand_run: Path | None = None, skip: Path | None = None) -> Inputs:
    """Find and read every result under ``root`` (:class:`DataError` for a file that is there but unreadable)."""
    if not root.is_dir():
        raise DataError(root, f"{'not a folder' if root.exists() else 'no such folder'}; expected a benchmark "
                              "folder, a training run or a folder holding them")
    folders = find_folders(root, skip)
    inputs = Inputs(root, demand_runs=folders["demand"])
    inputs.benchmarks = [read_benchmark(folder) for folder in folders["benchmark"]]
    seen = set()
    for folder in folders["train"]:
        run = read_training_run(folder)
        identity = (run.env_id, json.dumps(run.env_kwargs, sort_keys=True, default=str), run.algo, run.seed)
        if run.evaluations is None:
            inputs.unevaluated.append(folder)
        elif identity in seen:
            inputs.repeated.append(folder)
        else:
            seen.add(identity)
            inputs.training_runs.append(run)
    if demand_run is not None:
        if classify(demand_run) != "demand":
            raise DataError(demand_run, "is not a fit-demand run (expected a folder holding demand_tables.npz, as "
                                        "`pricegym fit-demand` writes)")
        inputs.demand_runs = [demand_run]
    return inputs


# --- reading ---------------------------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DataError(path, f"cannot be read as JSON ({error}); rerun the command that wrote it") from None


def _read_csv(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as error:
        raise DataError(path, f"cannot be read as CSV ({error}); rerun the command that wrote it") from None
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise DataError(path, f"lacks the columns {', '.join(missing)} (found {', '.join(frame.columns)})")
    return frame


def display_name(environment: dict[str, Any]) -> str:
    """A benchmark block's label, as :meth:`EnvironmentBlock.display_name` makes it."""
    if environment.get("label"):
        return str(environment["label"])
    kwargs = environment.get("env_kwargs") or {}
    extras = [str(kwargs[key]) for key in ("scenario", "product_pool") if key in kwargs]
    return environment["env"] if not extras else f"{environment['env']} ({', '.join(extras)})"


def _agent_runs(agent: dict[str, Any]) -> list[Path]:
    """An agent's run folders, globs expanded as the benchmark expanded them (from the current folder)."""
    folders = []
    for pattern in agent.get("runs") or ():
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        folders.extend(Path(match).resolve() for match in matches)
    return folders


def read_benchmark(folder: Path) -> BenchmarkResults:
    """A benchmark folder (``benchmark.json``; ``seasons.csv`` and ``trajectories.json`` when present)."""
    record = _read_json(folder / "benchmark.json")
    if not isinstance(record, dict) or not isinstance(record.get("rows"), list) or not record["rows"]:
        raise DataError(folder / "benchmark.json", "holds no rows; expected what `pricegym benchmark` writes")
    for row in record["rows"]:
        if not isinstance(row, dict) or not {"env", "policy", "mean_return"} <= set(row):
            raise DataError(folder / "benchmark.json", "has a row without env, policy and mean_return")
    environments = (record.get("config") or {}).get("environments") or []
    blocks = [Block(display_name(env), env.get("demand", "ground_truth"), env["env"], env.get("env_kwargs") or {},
                    {agent["name"]: _agent_runs(agent) for agent in env.get("agents") or ()})
              for env in environments if isinstance(env, dict) and "env" in env]
    for row in record["rows"]:  # rows of a block the config does not describe (an older or edited record)
        if not any(row["env"] == block.label and row.get("demand") == block.demand for block in blocks):
            blocks.append(Block(row["env"], row.get("demand", "ground_truth"), row.get("env_id", row["env"]), {}))
    seasons_path, trajectories_path = folder / "seasons.csv", folder / "trajectories.json"
    seasons = _read_csv(seasons_path, ("env", "demand", "policy", "train_seed", "season_seed", "return",
                                       "yardstick")) if seasons_path.is_file() else None
    trajectories = _read_json(trajectories_path) if trajectories_path.is_file() else None
    return BenchmarkResults(folder, str(record.get("name") or folder.name), record, blocks, seasons, trajectories)


def read_training_run(folder: Path) -> TrainingRun:
    """A training run's ``run.json`` and, when present, ``eval/evaluations.csv``."""
    record = _read_json(folder / "run.json")
    config = record.get("config") or {}
    if "env_id" not in config or "algo" not in config:
        raise DataError(folder / "run.json", "lacks config.env_id or config.algo; expected a `pricegym train` run")
    path = folder / "eval" / "evaluations.csv"
    evaluations = _read_csv(path, ("timesteps", "percent_of_optimum")) if path.is_file() else None
    if evaluations is not None:
        evaluations = evaluations.dropna(subset=["percent_of_optimum"]).sort_values("timesteps")
        evaluations = evaluations if len(evaluations) else None
    seed = int(record.get("seed", config.get("seed", 0)))
    return TrainingRun(folder, str(config["env_id"]), str(config["algo"]), seed, dict(config.get("env_kwargs") or {}),
                       evaluations)


def season_options(env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The options of an environment that shape its seasons (the true demand is the default source)."""
    options = {key: value for key, value in env_kwargs.items() if key not in SEASON_OPTIONS_IGNORED}
    if options.get("demand_source") == "ground_truth":
        del options["demand_source"]
    return options


def run_label(run: TrainingRun, benchmarks: list[BenchmarkResults]) -> str:
    """A training run's name in the figures: the benchmark's name for its agent where a benchmark plays it,
    else the algorithm (with the options that change what it observes or how it acts)."""
    folder = run.folder.resolve()
    for benchmark in benchmarks:
        for block in benchmark.blocks:
            for name, folders in block.agent_runs.items():
                if folder in folders:
                    return name
    extras = [f"{key}={value}" for key, value in sorted(run.env_kwargs.items()) if key in SEASON_OPTIONS_IGNORED
              and key != "demand_run"]
    return run.algo.upper() + (f" ({', '.join(extras)})" if extras else "")


# --- the demand figure's data ----------------------------------------------------------------------------


def demand_curves(folder: Path, n_products: int = DEMAND_PRODUCTS, points: int = 161) -> DemandCurves:
    """The fitted tables of a fit-demand run against the true demand of the world it was fitted on, for a few
    products, in a neutral market with the reference price at list price (as
    :func:`~pricegym.encoders.truth_comparison.truth_pair_demand` queries both), averaged over customers.

    Raises:
        Unplottable: the run's world has no known true demand (online retail), or cannot be rebuilt.
        DataError: the run's files are corrupt.
    """
    from pricegym.encoders.demand_tables import DemandTables
    from pricegym.encoders.truth_comparison import truth_pair_demand
    from pricegym.worlds.registry import load_world

    tables = DemandTables.load(folder)
    card = _read_json(folder / "model_card.json") if (folder / "model_card.json").is_file() else {}
    world_config = (card.get("config") or {}).get("world")
    world_name = tables.world or card.get("world") or "unknown"
    if world_name != "synthetic":
        raise Unplottable(f"{folder} was fitted on the {world_name} world, whose true demand is unknown")
    if not isinstance(world_config, dict):
        raise Unplottable(f"{folder}: model_card.json does not record the world's config (config.world), so the "
                          "true demand cannot be rebuilt")
    world = load_world(world_config)
    if tables.product_ids != tuple(world.products["product_id"]) or len(tables.customer_ids) != len(world.customers):
        raise Unplottable(f"{folder}: its tables do not match the world its model card describes")
    truth = truth_pair_demand(world.ground_truth, world.ground_truth.list_prices)
    fitted = truth_pair_demand(tables, tables.list_prices)
    cold = world.products["product_id"].isin(list(world.splits.cold_start_products)).to_numpy()
    customers = np.arange(len(tables.customer_ids))[:, None]
    curves = []
    for product in pick_products(tables.list_prices, cold, n_products):
        low, high = tables.price_ranges[product] / tables.list_prices[product]
        top = max(1.8, 1.2 * high) if np.isfinite(high) else 2.0
        grid = np.linspace(min(0.4, 0.8 * low) if np.isfinite(low) else 0.4, top, points)
        index = np.full_like(customers, product)
        text = str(world.products["product_text"].iloc[product]).split(".")[0]
        text = text.rsplit(",", 1)[0] if len(text) > 42 else text  # drop the colour before cutting
        curves.append(ProductCurve(
            name=text if len(text) <= 42 else text[:40] + "...", list_price=float(tables.list_prices[product]),
            cold_start=bool(cold[product]), relative_prices=grid,
            truth=truth(customers, index, grid[None, :]).mean(axis=0),
            fitted=fitted(customers, index, grid[None, :]).mean(axis=0), logged_range=(float(low), float(high))))
    return DemandCurves(folder, world_name, len(tables.customer_ids), curves)


def pick_products(list_prices: np.ndarray, cold: np.ndarray, n_products: int) -> list[int]:
    """Products trained on at spread-out list prices, and the cold-start product of median list price."""
    trained, unseen = np.flatnonzero(~cold), np.flatnonzero(cold)
    n_trained = n_products - 1 if unseen.size and n_products > 1 else n_products
    order = trained[np.argsort(list_prices[trained], kind="stable")]
    positions = np.linspace(0.1, 0.9, n_trained) if n_trained > 1 else np.array([0.5])
    picked = list(dict.fromkeys(int(order[int(round(share * (order.size - 1)))]) for share in positions))
    if unseen.size and n_products > 1:
        picked.append(int(unseen[np.argsort(list_prices[unseen], kind="stable")][unseen.size // 2]))
    return picked


# --- the figures' data -----------------------------------------------------------------------------------


@dataclass
class Curve:
    """One learning curve: the mean over training seeds at each evaluation, and the lowest and highest seed."""

    label: str
    steps: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n_seeds: int


@dataclass
class LearningPanel:
    """The learning curves of one environment setting, and the benchmarked rules' % of the optimum there."""

    title: str
    curves: list[Curve]
    rules: list[tuple[str, float]]


def options_text(options: dict[str, Any]) -> str:
    """Season options for a title: ``key=value``, a world by its name (left out when it is the default one)."""
    from pricegym.config_checks import config_to_dict
    from pricegym.worlds.registry import WorldConfig

    parts = []
    for key, value in options.items():
        if key == "world" and isinstance(value, dict):
            if value == config_to_dict(WorldConfig()):
                continue
            value = value.get("name", "custom")
        parts.append(f"{key}={value}")
    return ", ".join(parts)


def learning_panels(runs: list[TrainingRun], benchmarks: list[BenchmarkResults]) -> list[LearningPanel]:
    """One panel per (environment, season options), one curve per agent label across its training seeds; the
    rules of a benchmark block with the same environment and season options as dotted lines."""
    groups: dict[tuple[str, str], dict[str, list[TrainingRun]]] = {}
    for run in runs:
        setting = json.dumps(season_options(run.env_kwargs), sort_keys=True, default=str)
        groups.setdefault((run.env_id, setting), {}).setdefault(run_label(run, benchmarks), []).append(run)
    panels = []
    for (env_id, setting), agents in groups.items():
        options = json.loads(setting)
        shown = options_text(options)
        title = env_id.removeprefix("pricegym/") + (f" ({shown})" if shown else "")
        rules = {}
        for benchmark in benchmarks:
            for block in benchmark.blocks:
                if block.env_id == env_id and block.season_options() == options:
                    rules.update({row["policy"]: float(row["pct_of_oracle"]) for row in benchmark.rows_of(block)
                                  if row.get("kind") != "agent" and row.get("pct_of_oracle") is not None})
        panels.append(LearningPanel(title, [_curve(label, members) for label, members in agents.items()],
                                    sorted(rules.items(), key=lambda item: -item[1])))
    return panels


def _curve(label: str, runs: list[TrainingRun]) -> Curve:
    """Seeds evaluated at other steps are interpolated onto the steps they all cover."""
    series = [(run.evaluations["timesteps"].to_numpy(float), run.evaluations["percent_of_optimum"].to_numpy(float))
              for run in runs]
    steps = np.unique(np.concatenate([x for x, _ in series]))
    first, last = max(x[0] for x, _ in series), min(x[-1] for x, _ in series)
    if first <= last:
        steps = steps[(steps >= first) & (steps <= last)]
    values = np.stack([np.interp(steps, x, y) for x, y in series])
    return Curve(label, steps, values.mean(axis=0), values.min(axis=0), values.max(axis=0), len(runs))


@dataclass
class Interval:
    """A policy's value in a benchmark block, with its 95% interval (None: no spread to resample)."""

    policy: str
    kind: str
    value: float
    low: float | None
    high: float | None
    seeds: int = 1

    @property
    def label(self) -> str:
        """The policy, with its number of training seeds where it has several."""
        return self.policy if self.seeds <= 1 else f"{self.policy} ({self.seeds} seeds)"


@dataclass
class BenchmarkPanel:
    """One block of the benchmark chart: the policies best first, in % of the yardstick or in mean return."""

    title: str
    measure: str
    note: str
    entries: list[Interval]


def benchmark_panels(benchmark: BenchmarkResults) -> list[BenchmarkPanel]:
    """% of the yardstick with a paired bootstrap interval over seasons (the benchmark's own statistic,
    :func:`~pricegym.experiments.benchmark_stats.uplift_interval` against the per-season yardstick) where
    ``seasons.csv`` and every row's ``pct_of_oracle`` allow, else the mean return with its interval."""
    from pricegym.experiments.benchmark_stats import uplift_interval

    config = benchmark.record.get("config") or {}
    level, resamples = config.get("confidence_level", 0.95), config.get("bootstrap_resamples", 9999)
    panels = []
    for block in benchmark.blocks:
        rows = benchmark.rows_of(block)
        if not rows:
            continue
        paired = {row["policy"]: benchmark.season_returns(block, row["policy"]) for row in rows}
        yardstick = (benchmark.record.get("yardsticks") or {}).get(block.key) or {}
        if all(row.get("pct_of_oracle") is not None and paired[row["policy"]] is not None for row in rows):
            entries = []
            for row in rows:
                returns, seasons = paired[row["policy"]]
                interval = uplift_interval(returns, seasons, level, resamples)
                low, high = interval["uplift_ci95_low"], interval["uplift_ci95_high"]
                entries.append(Interval(row["policy"], row.get("kind", ""), float(row["pct_of_oracle"]),
                                        None if low is None else 100 + low, None if high is None else 100 + high,
                                        int(row.get("n_train_seeds") or 1)))
            kind = yardstick.get("kind", "the yardstick")
            measure = f"% of the {'optimum' if 'optimum' in kind else 'yardstick'} (mean return / mean yardstick)"
            note = f"100% = {kind}; {level:.0%} paired bootstrap intervals over seasons"
        else:
            entries = [Interval(row["policy"], row.get("kind", ""), float(row["mean_return"]), row.get("ci95_low"),
                                row.get("ci95_high"), int(row.get("n_train_seeds") or 1)) for row in rows]
            measure = f"mean {block.reward_word()} per season"
            note = f"{level:.0%} bootstrap intervals over seasons"
        panels.append(BenchmarkPanel(block.title, measure, note, sorted(entries, key=lambda entry: -entry.value)))
    return panels


@dataclass
class SeasonPath:
    """One policy's season, step by step: reward, price / list price and units left (per product)."""

    reward: np.ndarray
    price_ratio: np.ndarray
    inventory: np.ndarray | None


def season_paths(benchmark: BenchmarkResults) -> list[tuple[Block, dict[str, SeasonPath]]]:
    """The recorded season of each block (``trajectories.json``), per policy, in the blocks' order."""
    if benchmark.trajectories is None:
        raise Unplottable(f"{benchmark.folder} has no trajectories.json")
    found = []
    for block in benchmark.blocks:
        policies = benchmark.trajectories.get(block.key)
        if not isinstance(policies, dict):
            continue
        paths = {}
        for policy, steps in policies.items():
            try:
                reward = np.asarray(steps["reward"], dtype=float)
                ratio = np.asarray(steps["price_ratio"], dtype=float).reshape(len(reward), -1)
                left = steps.get("inventory_left") or []
                inventory = None if not left or any(value is None for value in left) else \
                    np.asarray(left, dtype=float).reshape(len(reward), -1)
            except (KeyError, TypeError, ValueError):
                raise DataError(benchmark.folder / "trajectories.json",
                                f"{block.key}, {policy}: expected reward, price_ratio and inventory_left per step; "
                                "rerun `pricegym benchmark`") from None
            if len(reward):
                paths[policy] = SeasonPath(reward, ratio, inventory)
        if paths:
            found.append((block, paths))
    if not found:
        raise Unplottable(f"{benchmark.folder}/trajectories.json holds no season of its blocks")
    return found
