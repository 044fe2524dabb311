"""``pricegym run``, the main job: world -> fine-tuned demand model -> supervised baseline -> agents -> benchmark.

Stages, each writing a complete run folder under ``runs/<name>/`` and reused when a finished folder of the same
stage config is there (the config's hash is in ``stage.json``; a changed config runs the stage again)::

    demand/                 pricegym fit-demand (the BERT demand model, its tables and LM embeddings)
    pricer/                 pricegym fit-pricer (the supervised BERT pricing baseline)
    train/<env>-<arm>-seed<S>/  pricegym train: PPO with the layout extractor per environment and training seed;
                            on Markdown-v0 also without embeddings (the cold-start rows) and on the fitted
                            demand (the sim-to-real rows)
    benchmark/              pricegym benchmark on a config this job writes (benchmark.yaml beside it)
    plots/                  pricegym plot
    report.md               the tables, the plots, the stage times

On the synthetic world the seasons are simulated with its true demand; on online-retail (no truth) with the
fitted tables. ``quick`` shrinks every stage (a tiny random BERT, short fits, few steps) to a smoke run of
minutes; the default sizes aim at 20 minutes on 2 CPU cores.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pricegym.config_checks import Device, Flag, Seed, config_dataclass, config_to_dict, integer, optional
from pricegym.errors import ConfigError
from pricegym.experiments.benchmark_registry import REGISTRY
from pricegym.worlds.registry import WorldConfig, demand_fit_world

ENV_IDS = tuple(REGISTRY)
"""The benchmark registry's environments, Markdown-v0 first."""
STAGE_RECORD = "stage.json"
LAYOUT_HYPERPARAMS = Path(__file__).resolve().parents[1] / "agents" / "hyperparams" / "ppo_layout.yml"


@config_dataclass("main job")
class MainJobConfig:
    """The whole main job.

    Attributes:
        name: the job's folder is ``runs/<name>``.
        world: the world (synthetic: its truth simulates the seasons; online-retail: the fitted tables do).
        quick: a smoke run of minutes (tiny random BERT, short fits, few training steps, few seasons).
        model_name: the text encoder both BERT models fine-tune.
        device: where torch runs (auto: CUDA when present).
        seed: of the fits.
        train_seeds: training seeds of every agent.
        train_steps: environment steps per agent.
        episodes: benchmark seasons per environment block.
        cold_start: also train Markdown-v0 agents without embeddings and benchmark both on cold-start products.
        sim_to_real: also train a Markdown-v0 agent on the fitted demand and benchmark it on the truth.
        torch_threads: CPU threads of torch while training (None: torch's default).
    """

    name: str = "main"
    world: WorldConfig = field(default_factory=WorldConfig)
    quick: Flag = False
    model_name: str = "all-MiniLM-L6-v2"
    device: Device = "auto"
    seed: Seed = 0
    train_seeds: tuple[Seed, ...] = (0, 1)
    train_steps: integer(1_000, 10**9) = 2_000_000
    episodes: integer(1, 100_000) = 200
    cold_start: Flag = True
    sim_to_real: Flag = True
    torch_threads: optional(integer(1, 256)) = None

    def __post_init__(self) -> None:
        if not self.name.strip() or "/" in self.name:
            raise ConfigError(f"main job: name must be a plain folder name, got {self.name!r}")
        if not self.train_seeds:
            raise ConfigError("main job: train_seeds must list at least one training seed")


QUICK = {"model_name": "tiny-random-bert", "train_seeds": (0,), "train_steps": 16_384, "episodes": 12}
"""What ``quick`` changes (the fits shrink too: see :func:`fit_demand_config` and :func:`fit_pricer_config`)."""


def effective(config: MainJobConfig) -> MainJobConfig:
    """``config`` with the quick sizes where ``quick`` is set."""
    return replace(config, **QUICK) if config.quick else config


def stage_hash(values: Any) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:16]


def record_path(folder: Path) -> Path:
    """Where the stage record of ``folder`` lives: inside it, or beside it for a training run (whose folder
    ``pricegym train`` owns: ``train/<agent>.stage.json``)."""
    return folder.parent / f"{folder.name}.{STAGE_RECORD}" if folder.parent.name == "train" else folder / STAGE_RECORD


def stage_status(folder: Path, digest: str) -> str | None:
    """The status (``finished``, ``running``) of the stage of the config hashed ``digest`` in ``folder``; None
    when there is none, or one of another config."""
    try:
        record = json.loads(record_path(folder).read_text())
    except (OSError, ValueError):
        return None
    return record.get("status") if record.get("hash") == digest else None


def stage_done(folder: Path, digest: str) -> bool:
    """Whether ``folder`` holds a finished stage of the config hashed ``digest``."""
    return stage_status(folder, digest) == "finished"


def mark_stage(folder: Path, digest: str, stage: str, status: str, seconds: float = 0.0) -> None:
    """``stage.json``: the stage's config hash, its status and a run id (a later stage keys on the run id, so a
    stage run again makes everything downstream run again)."""
    path = record_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"stage": stage, "hash": digest, "status": status, "seconds": round(seconds, 1),
              "run_id": f"{time.time_ns():x}"}
    path.write_text(json.dumps(record))


def mark_done(folder: Path, digest: str, stage: str, seconds: float) -> None:
    mark_stage(folder, digest, stage, "finished", seconds)


def run_id(folder: Path) -> str:
    """The run id of a finished stage in ``folder`` (what downstream stages key on)."""
    return json.loads(record_path(folder).read_text())["run_id"]


@dataclass
class JobState:
    """Where the job is: its folder, the stage times and how it reports progress."""

    folder: Path
    config: MainJobConfig
    say: Callable[[str], None]
    progress: bool
    timings: dict[str, float] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)

    def stage(self, name: str, folder: Path, values: Any, work: Callable[[], None]) -> Path:
        """Run ``work`` (which writes ``folder``) unless a finished folder of the same ``values`` is there."""
        digest = stage_hash(values)
        if stage_done(folder, digest):
            self.say(f"{name}: reusing {folder}")
            self.reused.append(name)
            return folder
        self.say(f"{name} ...")
        started = time.perf_counter()
        work()
        seconds = time.perf_counter() - started
        mark_done(folder, digest, name, seconds)
        self.timings[name] = seconds
        self.say(f"{name}: done in {seconds:.0f} s -> {folder}")
        return folder


def fit_demand_config(config: MainJobConfig, folder: Path) -> Any:
    from pricegym.encoders.demand_training import DemandTrainingConfig
    from pricegym.encoders.fit_demand import FitDemandConfig
    from pricegym.encoders.text_encoder import TextEncoderConfig

    training = (DemandTrainingConfig(epochs=1, max_steps_per_epoch=4, seed=config.seed) if config.quick
                else DemandTrainingConfig(seed=config.seed))
    world = config.world if config.quick else demand_fit_world(config.world)  # quick: the tiny log is enough
    return FitDemandConfig(world=world, encoder=TextEncoderConfig(model_name=config.model_name,
                                                                  device=config.device),
                           training=training, bootstrap_rounds=0 if config.quick else 8, output_dir=folder,
                           overwrite=True, seed=config.seed)


def fit_pricer_config(config: MainJobConfig, folder: Path) -> Any:
    from pricegym.agents.fit_pricer import FitPricerConfig
    from pricegym.agents.pricer_training import PricerTrainingConfig
    from pricegym.encoders.text_encoder import TextEncoderConfig

    training = (PricerTrainingConfig(epochs=1, max_train_texts=64, max_validation_texts=32) if config.quick
                else PricerTrainingConfig())
    return FitPricerConfig(world=config.world, encoder=TextEncoderConfig(model_name=config.model_name, max_length=64,
                                                                         device=config.device),
                           training=training, max_eval_rows=200 if config.quick else 2_000, output_dir=folder,
                           overwrite=True, seed=config.seed)


@dataclass
class AgentPlan:
    """One agent to train: environment, arm (``text``, ``no-text``, ``fitted``), training seed, options."""

    env_id: str
    arm: str
    seed: int
    env_kwargs: dict[str, Any]

    @property
    def folder_name(self) -> str:
        return f"{self.env_id.split('/')[-1].removesuffix('-v0').lower()}-{self.arm}-seed{self.seed}"


def job_envs(config: MainJobConfig) -> tuple[str, ...]:
    """The environments of the job: all three on the synthetic world; Markdown-v0 alone on online-retail, whose
    demand is a quantity (Competition-v0 and PersonalizedDiscount-v0 need purchase probabilities)."""
    return ENV_IDS if config.world.name == "synthetic" else ENV_IDS[:1]


def agent_plans(config: MainJobConfig, demand_run: Path) -> list[AgentPlan]:
    """Every agent the job trains."""
    world = config_to_dict(config.world)
    fitted = {"demand_source": "fitted", "demand_run": str(demand_run)}
    simulated = fitted if config.world.name != "synthetic" else {}
    plans = [AgentPlan(env_id, "text", seed, {"world": world, **simulated})
             for env_id in job_envs(config) for seed in config.train_seeds]
    markdown = ENV_IDS[0]
    if config.cold_start and config.world.name == "synthetic":
        plans += [AgentPlan(markdown, "no-text", seed, {"world": world, **simulated, "observe_embeddings": False})
                  for seed in config.train_seeds]
    if config.sim_to_real and config.world.name == "synthetic":
        plans.append(AgentPlan(markdown, "fitted", config.train_seeds[0], {"world": world, **fitted}))
    return plans


def train_agent(state: JobState, plan: AgentPlan) -> Path:
    """Train one agent (reused when finished with the same plan, resumed when interrupted)."""
    from pricegym.agents.trained_runs import finished_run
    from pricegym.agents.training import TrainConfig, train

    config = state.config
    folder = state.folder / "train" / plan.folder_name
    n_envs, eval_episodes = (64, 8) if config.quick else (None, 32)
    values = {"plan": plan.__dict__, "steps": config.train_steps, "hyperparams": LAYOUT_HYPERPARAMS.read_text(),
              "n_envs": n_envs, "eval_episodes": eval_episodes, "device": config.device,
              "demand": run_id(state.folder / "demand") if "demand_run" in plan.env_kwargs else None}
    digest = stage_hash(values)
    if stage_done(folder, digest) and finished_run(folder):
        state.reused.append(f"train {plan.folder_name}")
        return folder
    resume = stage_status(folder, digest) == "running" and (folder / "run.json").is_file() and not finished_run(folder)
    started = time.perf_counter()
    state.say(f"training {plan.folder_name} ({config.train_steps:,} steps){' (resuming)' if resume else ''}")
    mark_stage(folder, digest, f"train {plan.folder_name}", "running")
    train(TrainConfig(algo="ppo", env_id=plan.env_id, output_dir=folder, env_kwargs=plan.env_kwargs,
                      hyperparams_file=LAYOUT_HYPERPARAMS, steps=config.train_steps, seed=plan.seed,
                      n_envs=n_envs, device=config.device, eval_freq=max(config.train_steps // 4, 1),
                      eval_episodes=eval_episodes, torch_threads=config.torch_threads, resume=resume,
                      overwrite=not resume),
          argv=["pricegym", "run", config.name], progress=state.progress)
    seconds = time.perf_counter() - started
    mark_done(folder, digest, f"train {plan.folder_name}", seconds)
    state.timings[f"train {plan.folder_name}"] = seconds
    return folder


def benchmark_config(config: MainJobConfig, demand_run: Path, pricer_run: Path,
                     agents: list[tuple[AgentPlan, Path]]) -> dict[str, Any]:
    """The benchmark the job runs: one block per environment, plus the cold-start and sim-to-real blocks."""
    world = config_to_dict(config.world)
    demand = "ground_truth" if config.world.name == "synthetic" else "fitted"

    def runs(env_id: str, arm: str) -> list[str]:
        return [str(folder) for plan, folder in agents if plan.env_id == env_id and plan.arm == arm]

    blocks = []
    for env_id in job_envs(config):
        blocks.append({"env": env_id, "demand": demand, "env_kwargs": {"world": world},
                       "agents": [{"name": "PPO (LM state)", "runs": runs(env_id, "text")}]})
    markdown = ENV_IDS[0]
    if config.cold_start and config.world.name == "synthetic":
        blocks.append({"env": markdown, "demand": demand, "label": "Markdown-v0 cold-start products",
                       "env_kwargs": {"world": world, "product_pool": "cold_start"},
                       "policies": ["oracle", "best fixed price", "Thompson sampling (fitted prior)",
                                    "supervised BERT pricer", "list price"],
                       "agents": [{"name": "PPO (LM state)", "runs": runs(markdown, "text")},
                                  {"name": "PPO (no text)", "runs": runs(markdown, "no-text")}]})
    if config.sim_to_real and config.world.name == "synthetic":
        blocks.append({"env": markdown, "demand": "ground_truth", "label": "Markdown-v0 sim-to-real",
                       "env_kwargs": {"world": world},
                       "policies": ["oracle", "supervised BERT pricer"],
                       "agents": [{"name": "PPO trained on the truth", "runs": runs(markdown, "text")[:1]},
                                  {"name": "PPO trained on the fitted BERT tables", "runs": runs(markdown, "fitted")}]})
    return {"name": config.name, "episodes": config.episodes, "demand_run": str(demand_run),
            "pricer_run": str(pricer_run), "environments": blocks}


def run_main_job(config: MainJobConfig, root: Path = Path("runs"), say: Callable[[str], None] = print,
                 progress: bool = True) -> Path:
    """Every stage (finished ones reused); the report's path."""
    import yaml

    from pricegym.config_files import load_config
    from pricegym.experiments.benchmark import run_benchmark, write_outputs
    from pricegym.experiments.benchmark_config import BenchmarkConfig
    from pricegym.safe_writes import atomic_folder

    config = effective(config)
    state = JobState(folder=root / config.name, config=config, say=say, progress=progress)
    state.folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    demand_run, pricer_run = state.folder / "demand", state.folder / "pricer"
    demand_config, pricer_config = fit_demand_config(config, demand_run), fit_pricer_config(config, pricer_run)

    def fit_demand_stage() -> None:
        from pricegym.encoders.fit_demand import fit_demand

        fit_demand(demand_config, progress=progress, argv=["pricegym", "run", config.name])

    def fit_pricer_stage() -> None:
        from pricegym.agents.fit_pricer import fit_pricer

        fit_pricer(pricer_config, progress=progress, argv=["pricegym", "run", config.name])

    state.stage("1/5 fit the BERT demand model", demand_run, config_to_dict(demand_config), fit_demand_stage)
    state.stage("2/5 fit the supervised BERT pricer", pricer_run, config_to_dict(pricer_config), fit_pricer_stage)
    plans = agent_plans(config, demand_run)
    state.say(f"3/5 train {len(plans)} agents ...")
    agents = [(plan, train_agent(state, plan)) for plan in plans]
    values = benchmark_config(config, demand_run, pricer_run, agents)
    bench_folder = state.folder / "benchmark"
    bench_file = state.folder / "benchmark.yaml"
    bench_file.write_text(yaml.safe_dump(values, sort_keys=False))
    bench = load_config(BenchmarkConfig, bench_file)

    def benchmark_stage() -> None:
        report = run_benchmark(bench, lambda message: state.say(f"  {message}") if progress else None)
        with atomic_folder(bench_folder) as partial:
            write_outputs(partial, bench, report, ["pricegym", "run", config.name])

    upstream = {"demand": run_id(demand_run), "pricer": run_id(pricer_run),
                **{plan.folder_name: run_id(folder) for plan, folder in agents}}
    state.stage("4/5 benchmark", bench_folder, {"config": values, "upstream": upstream}, benchmark_stage)
    plots = state.folder / "plots"
    state.stage("5/5 plots", plots, {"benchmark": run_id(bench_folder)},
                lambda: _plot(state.folder, demand_run, plots))
    state.timings["total"] = time.perf_counter() - started
    report = state.folder / "report.md"
    from pricegym.experiments.main_report import write_report

    write_report(report, state, bench_folder, plots)
    return report


def _plot(job_folder: Path, demand_run: Path, out: Path) -> None:
    """Every figure of the job's folder (benchmark, training curves, the demand fit) into ``out``."""
    from pricegym.experiments.plot_data import find_inputs
    from pricegym.experiments.plots import draw_figures
    from pricegym.safe_writes import atomic_folder

    inputs = find_inputs(job_folder, demand_run, skip=out)
    with atomic_folder(out) as partial:
        draw_figures(inputs, partial)
