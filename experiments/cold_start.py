"""Cold-start products: does LM text in the state help an agent price products it never trained on?

For each training seed, the same agent (same hyperparameters) is trained twice on the training products:
once WITH the products' LM embeddings in its observation and once WITHOUT them
(``observe_embeddings=False``). Every agent is then evaluated on the same held-out seasons (seeds from
:data:`~pricegym.agents.optimum_evaluation.HELD_OUT_SEED`, common random numbers) of the cold-start
products (``product_pool="cold_start"``) and of the training products, in % of each season's optimum.
The best fixed price rule (which knows each product's true demand) is played on the same seasons.

Across training seeds the script reports, on each product pool:

* each arm's mean % of the optimum;
* the paired difference with - without (one difference per training seed, both agents on the same
  seasons) with a 95% Student-t interval over seeds and a 95% BCa bootstrap interval
  (``scipy.stats.bootstrap``; omitted below 3 seeds);
* each arm minus the best fixed price, with the same intervals.

Runs are reused: a finished training run in ``OUT/<arm>-seed<S>`` is evaluated as it is, an interrupted one
is resumed. Results go to ``OUT/cold_start.json`` and ``OUT/cold_start.md``::

    python -m pricegym.experiments.cold_start --env pricegym/Markdown-v0 --seeds 0 1 2 3 4 \
        --hyperparams agents/hyperparams/ppo_layout.yml --steps 4000000 --episodes 200 --out runs/cold-start/markdown
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pricegym.cli_parsing import CommandLineParser, input_path, output_path, positive_int, run_command_line, status
from pricegym.experiments.benchmark_registry import REGISTRY

PROGRAM = "python -m pricegym.experiments.cold_start"
ARMS = {"with": True, "without": False}
"""Arm name -> ``observe_embeddings``."""
POOLS = ("cold_start", "train")
ENVS = tuple(REGISTRY)


def fixed_price_rule(env_id: str) -> tuple[str, Any] | None:
    """The benchmark registry's best fixed price rule of ``env_id`` (name, factory ``vec_env -> rule``), or None
    where it has none played on a batch."""
    from pricegym.experiments.benchmark_registry import environment_entry

    spec = environment_entry(env_id).policies.get("best fixed price")
    return None if spec is None else ("best fixed price", lambda vec_env: spec.factory(vec_env, {}))


def paired_interval(differences: Sequence[float]) -> dict[str, float | None]:
    """Mean of paired ``differences`` (one per training seed) with a 95% Student-t and a 95% BCa bootstrap
    interval (:func:`pricegym.experiments.benchmark_stats.difference_interval`)."""
    from pricegym.experiments.benchmark_stats import difference_interval

    return difference_interval(differences)


def train_arm(arguments: argparse.Namespace, arm: str, seed: int, env_kwargs: dict[str, Any]) -> Path:
    """Train (or reuse, or resume) the agent of ``arm`` with training seed ``seed``; its run folder."""
    from pricegym.agents.trained_runs import finished_run
    from pricegym.agents.training import TrainConfig, train

    folder = arguments.out / f"{arm}-seed{seed}"
    wanted_kwargs = {**env_kwargs, "observe_embeddings": ARMS[arm]}
    if (folder / "run.json").is_file():
        _check_same_run(folder, arguments, wanted_kwargs)
    if finished_run(folder):
        status(f"{arm} embeddings, seed {seed}: reusing {folder}", PROGRAM)
        return folder
    resume = (folder / "run.json").is_file()
    status(f"{arm} embeddings, seed {seed}: {'resuming' if resume else 'training'} {arguments.steps:,} steps "
           f"-> {folder}", PROGRAM)
    config = TrainConfig(algo=arguments.algo, env_id=arguments.env, output_dir=folder,
                         env_kwargs=wanted_kwargs,
                         hyperparams_file=arguments.hyperparams, steps=arguments.steps, seed=seed,
                         torch_threads=arguments.torch_threads, resume=resume)
    result = train(config, argv=[PROGRAM, *arguments.argv], progress=arguments.progress)
    status(f"{arm} embeddings, seed {seed}: {result.num_timesteps:,} steps in {result.wall_s:.0f} s", PROGRAM)
    return folder


def _check_same_run(folder: Path, arguments: argparse.Namespace, env_kwargs: dict[str, Any]) -> None:
    """An existing run in ``folder`` must be the one asked for (algorithm, environment, options, steps and
    hyperparameters file); a ConfigError (one line) says which differs otherwise."""
    from pricegym.errors import ConfigError

    recorded = json.loads((folder / "run.json").read_text()).get("config", {})
    wanted = {"algo": arguments.algo, "env_id": arguments.env, "env_kwargs": env_kwargs,
              "hyperparams_file": None if arguments.hyperparams is None else str(arguments.hyperparams)}
    if arguments.steps is not None:
        wanted["steps"] = arguments.steps
    differ = [key for key, value in wanted.items() if recorded.get(key) != value]
    if differ:
        found = ", ".join(f"{key}={recorded.get(key)!r}" for key in differ)
        raise ConfigError(f"{folder} holds a run with another {', '.join(differ)} ({found}); pass another --out "
                          "or remove that run")


def evaluate_pools(arguments: argparse.Namespace, folders: dict[tuple[str, int], Path],
                   env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Every agent and the best fixed price rule on the held-out seasons of both product pools."""
    from pricegym.agents.optimum_evaluation import HELD_OUT_SEED, evaluate_percent_of_optimum, optimum_returns
    from pricegym.agents.trained_runs import load_trained_run

    seeds = list(range(HELD_OUT_SEED, HELD_OUT_SEED + arguments.episodes))
    rule = fixed_price_rule(arguments.env)
    pools: dict[str, Any] = {}
    for pool in POOLS:
        status(f"evaluating on {arguments.episodes} held-out seasons of the {pool} products", PROGRAM)
        options = {**env_kwargs, "product_pool": pool}
        optimum = optimum_returns(arguments.env, seeds, **options, observe_embeddings=False)
        agents = {}
        for (arm, seed), folder in folders.items():
            run = load_trained_run(folder)
            result = evaluate_percent_of_optimum(run.model, arguments.env, seeds, optimum=optimum,
                                                 vec_normalize=run.vec_normalize, **options,
                                                 observe_embeddings=ARMS[arm])
            agents[f"{arm}-seed{seed}"] = {"arm": arm, "seed": seed, "pct_of_optimum": result["percent_of_optimum"],
                                           "mean_return": result["mean_return"], "steps": run.num_timesteps,
                                           "wall_s": run.wall_s}
        entry: dict[str, Any] = {"mean_optimum": float(optimum.mean()), "agents": agents}
        if rule is not None:
            name, rule_factory = rule
            result = evaluate_percent_of_optimum(rule_factory, arguments.env, seeds, optimum=optimum, **options,
                                                 observe_embeddings=False)
            entry["rule"] = {"name": name, "pct_of_optimum": result["percent_of_optimum"],
                             "mean_return": result["mean_return"]}
        pools[pool] = entry
    return pools


def summarise(pools: dict[str, Any], seeds: Sequence[int]) -> dict[str, Any]:
    """Per pool: each arm's mean, the paired with - without difference, and each arm minus the rule."""
    summary = {}
    for pool, entry in pools.items():
        by_arm = {arm: [entry["agents"][f"{arm}-seed{seed}"]["pct_of_optimum"] for seed in seeds] for arm in ARMS}
        pool_summary: dict[str, Any] = {
            "mean_pct": {arm: sum(values) / len(values) for arm, values in by_arm.items()},
            "with_minus_without": paired_interval([a - b for a, b in zip(by_arm["with"], by_arm["without"],
                                                                         strict=True)]),
        }
        if "rule" in entry:
            rule_pct = entry["rule"]["pct_of_optimum"]
            pool_summary["rule_pct"] = rule_pct
            pool_summary["minus_rule"] = {arm: paired_interval([value - rule_pct for value in values])
                                          for arm, values in by_arm.items()}
        summary[pool] = pool_summary
    return summary


def _interval(summary: dict[str, float | None]) -> str:
    text = f"{summary['mean']:+.2f}"
    if summary["t_low"] is not None:
        text += f" [t {summary['t_low']:+.2f}, {summary['t_high']:+.2f}]"
    if summary["bootstrap_low"] is not None:
        text += f" [bootstrap {summary['bootstrap_low']:+.2f}, {summary['bootstrap_high']:+.2f}]"
    return text


def markdown_report(report: dict[str, Any]) -> str:
    """The results as Markdown: a per-seed table and the paired summaries."""
    seeds, pools, summary = report["seeds"], report["pools"], report["summary"]
    lines = [f"# Cold start on {report['env']}: {report['episodes']} held-out seasons per pool, "
             f"training seeds {', '.join(map(str, seeds))}", "",
             "% of each season's optimum (the same seasons for every policy).", "",
             "| products | " + " | ".join(f"seed {seed} with / without" for seed in seeds) + " | rule |",
             "|---|" + "---|" * (len(seeds) + 1)]
    for pool, entry in pools.items():
        cells = [f"{entry['agents'][f'with-seed{seed}']['pct_of_optimum']:.2f} / "
                 f"{entry['agents'][f'without-seed{seed}']['pct_of_optimum']:.2f}" for seed in seeds]
        rule = f"{entry['rule']['name']} {entry['rule']['pct_of_optimum']:.2f}" if "rule" in entry else "-"
        lines.append(f"| {pool} | " + " | ".join(cells) + f" | {rule} |")
    lines += ["", "Means over training seeds; differences in points of % of the optimum, mean [95% intervals]:", ""]
    for pool, pool_summary in summary.items():
        means = pool_summary["mean_pct"]
        lines.append(f"- **{pool}**: with {means['with']:.2f}, without {means['without']:.2f}; "
                     f"with - without {_interval(pool_summary['with_minus_without'])}")
        if "minus_rule" in pool_summary:
            for arm, interval in pool_summary["minus_rule"].items():
                lines.append(f"  - {arm} embeddings - rule ({pool_summary['rule_pct']:.2f}): {_interval(interval)}")
    return "\n".join(lines) + "\n"


def cold_start(arguments: argparse.Namespace) -> None:
    """Train what is missing, evaluate, write ``cold_start.json`` and ``cold_start.md``, print the report."""
    from pricegym.agents.training import check_env_id
    from pricegym.safe_writes import atomic_file

    check_env_id(arguments.env)
    env_kwargs = {} if arguments.demand_run is None else {"demand_source": "fitted",
                                                          "demand_run": str(arguments.demand_run)}
    seeds = list(dict.fromkeys(arguments.seeds))
    folders = {(arm, seed): train_arm(arguments, arm, seed, env_kwargs) for seed in seeds for arm in ARMS}
    pools = evaluate_pools(arguments, folders, env_kwargs)
    report = {"env": arguments.env, "env_kwargs": env_kwargs, "algo": arguments.algo,
              "hyperparams": None if arguments.hyperparams is None else str(arguments.hyperparams),
              "steps": arguments.steps, "episodes": arguments.episodes, "seeds": seeds, "pools": pools,
              "summary": summarise(pools, seeds), "argv": [PROGRAM, *arguments.argv]}
    text = markdown_report(report)
    with atomic_file(arguments.out / "cold_start.json") as partial:
        partial.write_text(json.dumps(report, indent=1))
    with atomic_file(arguments.out / "cold_start.md") as partial:
        partial.write_text(text)
    print(text, end="")


def parser() -> CommandLineParser:
    """The command line of the experiment."""
    commands = CommandLineParser(prog=PROGRAM, description="Train agents with and without LM embeddings in the state "
                                 "on the training products, over several training seeds, and compare them on "
                                 "held-out seasons of the cold-start products (paired intervals over seeds).")
    commands.add_argument("--env", default=ENVS[0], choices=ENVS, help="environment (default: %(default)s)")
    commands.add_argument("--algo", default="ppo", help="SB3 algorithm of `pricegym train` (default: %(default)s)")
    commands.add_argument("--hyperparams", type=input_path, default=None, metavar="FILE",
                          help="rl-zoo3 YAML over the defaults, e.g. agents/hyperparams/ppo_layout.yml")
    commands.add_argument("--steps", type=positive_int, default=None,
                          help="training steps per agent (default: the hyperparameters' n_timesteps)")
    commands.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], metavar="S",
                          help="training seeds (default: 0 1 2 3 4)")
    commands.add_argument("--episodes", type=positive_int, default=200,
                          help="held-out seasons per product pool (default: %(default)s)")
    commands.add_argument("--demand-run", type=input_path, default=None, metavar="DIR",
                          help="simulate with this fit-demand run's fitted tables instead of the ground truth")
    commands.add_argument("--torch-threads", type=positive_int, default=None, help="torch threads per training")
    commands.add_argument("--out", type=output_path, required=True, metavar="DIR",
                          help="folder of the training runs (reused) and the report")
    commands.add_argument("--quiet", action="store_true", help="no progress bars")
    return commands


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)

    def run(arguments: argparse.Namespace) -> None:
        arguments.argv, arguments.progress = argv, not arguments.quiet
        if any(seed < 0 for seed in arguments.seeds):
            from pricegym.errors import ConfigError

            raise ConfigError(f"--seeds must be non-negative integers, got {arguments.seeds}")
        cold_start(arguments)

    return run_command_line(parser(), argv, run)


if __name__ == "__main__":
    sys.exit(main())
