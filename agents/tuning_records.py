"""What ``pricegym tune`` writes as its study stands: ``trials.csv``, ``run.json`` and ``best.yml``, whose header
records the tuning budget (:mod:`pricegym.agents.tuning`)."""

from __future__ import annotations

import csv
import json
import os
import platform
import shlex
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from pricegym.agents.optimum_evaluation import HELD_OUT_SEED, optimum_kind
from pricegym.run_records import jsonable
from pricegym.safe_writes import RUN_RECORD, atomic_file

TRIALS_FILE, BEST_FILE = "trials.csv", "best.yml"


def _trials_csv(path: Path, trials) -> None:
    names = sorted({name for trial in trials for name in trial.params})
    with atomic_file(path) as partial, partial.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["number", "state", "value", "steps", "wall_s", *names])
        for trial in trials:
            writer.writerow([trial.number, trial.state.name, "" if trial.value is None else repr(trial.value),
                             trial.user_attrs.get("steps", ""), trial.user_attrs.get("wall_s", ""),
                             *(trial.params.get(name, "") for name in names)])


def _budget_lines(record: dict[str, Any], best, counts: dict[str, int], search_space: str) -> list[str]:
    """The header of ``best.yml``: the tuning budget spent to find ``best``."""
    import torch

    config, seeds = record["config"], record["validation_seeds"]
    options = "".join(f" {key}={yaml.safe_dump(value, default_flow_style=True).removesuffix(chr(10) + '...' + chr(10))}"
                      .rstrip() for key, value in config["env_kwargs"].items())
    params = ", ".join(f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}"
                       for name, value in best.params.items())
    commands = [shlex.join(session["argv"]) for session in record["sessions"]]
    lines = {
        "sampler": f"{record['sampler']}; on a resume, seeded with seed + the trials so far",
        "pruner": f"{record['pruner']}; diverged trials count as pruned",
        "trials": f"{counts['run']} run: {counts['completed']} completed, {counts['pruned']} pruned, "
                  f"{counts['failed']} failed (asked: --trials {config['trials']}"
                  + ("" if config["timeout_s"] is None else f", --timeout {config['timeout_s']:g} s") + ")",
        "per trial": f"{config['steps_per_trial']:,} environment steps ({record['n_envs']} envs), training seed "
                     f"{config['seed']}",
        "evaluation": f"every {config['eval_every']:,} steps and at the end: the deterministic policy's % of the "
                      f"{optimum_kind(config['env_id'], **config['env_kwargs'])} on {config['eval_episodes']} "
                      f"validation seasons, seeds {seeds[0]:,} to {seeds[1] - 1:,} (training seeds < "
                      f"{HELD_OUT_SEED:,}; final evaluation seeds from {HELD_OUT_SEED:,})",
        "wall time": f"{record['wall_s']:,.0f} s in all, over {len(commands)} session(s)",
        "machine": f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, torch {torch.__version__} on "
                   f"{torch.get_num_threads()} threads, device {config['device']}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "best": f"trial #{best.number}: {best.value:.2f}% ({params})",
        "search space": search_space + "; every other key from the base",
        "base": record["base"],
    }
    commands_named = ["command"] + [f"resumed ({index})" for index in range(1, len(commands))]
    lines.update(zip(commands_named, commands, strict=True))
    header = [f"Tuned with Optuna by `pricegym tune`. Train with: pricegym train --algo {config['algo']} --env "
              f"{config['env_id']}{' --env-kwargs' + options if options else ''} --hyperparams best.yml", "",
              "TUNING BUDGET"]
    for name, text in lines.items():  # the commands on one line each, to be copied
        header += [f"  {name + ':':14}{text}"] if name in commands_named else textwrap.wrap(
            text, 116, initial_indent=f"  {name + ':':14}", subsequent_indent=" " * 16, break_on_hyphens=False)
    return header


def write_outputs(folder: Path, study, record: dict[str, Any], search_space: str) -> dict[str, int]:
    """``trials.csv``, ``best.yml`` (once a trial completed) and ``run.json`` as the study stands now."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    states = [trial.state for trial in trials]
    counts = {"run": sum(state.is_finished() for state in states), "completed": states.count(TrialState.COMPLETE),
              "pruned": states.count(TrialState.PRUNED), "failed": states.count(TrialState.FAIL)}
    record.update(trials=counts)
    _trials_csv(folder / TRIALS_FILE, trials)
    if counts["completed"]:
        best = study.best_trial
        record["best"] = {"number": best.number, "value": best.value, "params": best.params}
        header = "".join(f"# {line}".rstrip() + "\n" for line in _budget_lines(record, best, counts, search_space))
        body = yaml.safe_dump({record["config"]["env_id"]: best.user_attrs["hyperparams"]}, sort_keys=False)
        with atomic_file(folder / BEST_FILE) as partial:
            partial.write_text(header + "\n" + body)
    with atomic_file(folder / RUN_RECORD) as partial:
        partial.write_text(json.dumps(jsonable(record), indent=1))
    return counts
