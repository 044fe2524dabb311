"""A finished ``pricegym train`` run, loaded for evaluation: the SB3 model and its observation statistics.

    from pricegym.agents.trained_runs import load_trained_run
    from pricegym.agents.optimum_evaluation import evaluate_percent_of_optimum

    run = load_trained_run("runs/train/markdown-ppo-layout")
    evaluate_percent_of_optimum(run.model, run.env_id, range(1_000_000, 1_000_200),
                                vec_normalize=run.vec_normalize, **run.env_kwargs)

The VecNormalize statistics are unpickled without an environment: the evaluation only reads them
(:func:`pricegym.agents.optimum_evaluation.episode_returns` copies them under a frozen wrapper).
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pricegym.agents.training import MODEL_FILE, VECNORMALIZE_FILE
from pricegym.errors import DataError
from pricegym.safe_writes import RUN_RECORD


@dataclass
class TrainedRun:
    """A trained agent and what it was trained on.

    Attributes:
        folder: the run folder.
        model: the SB3 model (``model.predict(observations, deterministic=True)``).
        vec_normalize: its VecNormalize with frozen observation statistics, or None when it trained without.
        env_id: the environment it trained on; ``env_kwargs``: that environment's options.
        record: the run's ``run.json``.
    """

    folder: Path
    model: Any
    vec_normalize: Any
    env_id: str
    env_kwargs: dict[str, Any]
    record: dict[str, Any]

    @property
    def num_timesteps(self) -> int:
        return int(self.record.get("num_timesteps") or self.model.num_timesteps)

    @property
    def wall_s(self) -> float:
        return float(self.record.get("wall_s") or 0.0)


def finished_run(folder: Path) -> bool:
    """Whether ``folder`` holds a ``pricegym train`` run that finished (its record says so and the model exists)."""
    folder = Path(folder)
    try:
        record = json.loads((folder / RUN_RECORD).read_text())
    except (OSError, ValueError):
        return False
    return record.get("status") == "finished" and (folder / MODEL_FILE).is_file()


def load_trained_run(folder: Path | str, device: str = "auto") -> TrainedRun:
    """The finished run in ``folder`` (DataError, one line, when it is not one)."""
    from pricegym.agents.hyperparameters import algorithm_class

    folder = Path(folder)
    if not finished_run(folder):
        raise DataError(folder, f"is not a finished `pricegym train` run (expected {RUN_RECORD} with status "
                                f"'finished' and {MODEL_FILE}); train it first, or resume it with --resume")
    record = json.loads((folder / RUN_RECORD).read_text())
    config = record["config"]
    model = algorithm_class(config["algo"]).load(folder / MODEL_FILE, device=device)
    vec_normalize = None
    if (folder / VECNORMALIZE_FILE).is_file():
        with open(folder / VECNORMALIZE_FILE, "rb") as handle:
            vec_normalize = pickle.load(handle)
        vec_normalize.training = False
    return TrainedRun(folder=folder, model=model, vec_normalize=vec_normalize, env_id=config["env_id"],
                      env_kwargs=dict(config.get("env_kwargs") or {}), record=record)
