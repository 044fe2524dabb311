"""What a demand fit leaves on disk: the best checkpoint only (unless asked for all), a model card with
its training history, and a run folder that passes the run-folder checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from pricegym.encoders.demand_tables import DemandTables
from pricegym.encoders.demand_training import DemandTrainingConfig, TrainingHistory, save_checkpoint
from pricegym.encoders.fit_demand import training_card
from pricegym.encoders.head_refit import HeadRefitHistory
from pricegym.encoders.text_encoder import TextEncoderConfig
from pricegym.worlds.synthetic import SyntheticWorldConfig


@pytest.mark.parametrize(("keep_all", "kept"), [(False, ["epoch-3.pt"]),
                                                (True, ["epoch-1.pt", "epoch-2.pt", "epoch-3.pt", "epoch-4.pt"])])
def test_only_the_best_checkpoint_is_kept_unless_all_are_asked_for(tmp_path: Path, keep_all: bool, kept: list[str]):
    model = torch.nn.Linear(2, 1)
    for epoch, improved in enumerate([True, False, True, False]):
        with torch.no_grad():
            model.bias.fill_(float(epoch))
        save_checkpoint(model, tmp_path, epoch, improved, keep_all)
    assert sorted(path.name for path in tmp_path.iterdir()) == kept
    assert float(torch.load(tmp_path / "epoch-3.pt")["bias"]) == 2.0  # the third epoch's weights


def test_the_training_card_records_the_history():
    history = TrainingHistory(train_loss=[0.7, 0.6], validation_loss=[0.65, 0.66], best_epoch=0, steps=12,
                              seconds=3.14159, best_checkpoint="epoch-1.pt")
    card = training_card(history, "expected_quantity")
    assert card["train_loss"] == [0.7, 0.6] and card["validation_loss"] == [0.65, 0.66]
    assert card["best_epoch"] == 0 and card["best_epoch_number"] == 1 and card["epochs_run"] == 2
    assert card["steps"] == 12 and card["seconds"] == 3.1 and card["best_checkpoint"] == "epoch-1.pt"
    assert card["validation_metric"].startswith("Poisson")
    assert card["head_refit"] is None


def test_the_training_card_records_the_head_refit():
    refit = HeadRefitHistory(train_loss=[0.5, 0.45], validation_loss=[0.52, 0.5], best_epoch=1, steps=30,
                             seconds=2.71828)
    card = training_card(TrainingHistory(), "purchase_probability", refit)
    assert card["head_refit"]["validation_loss"] == [0.52, 0.5] and card["head_refit"]["best_epoch"] == 1
    assert card["head_refit"]["steps"] == 30 and card["head_refit"]["seconds"] == 2.7
    assert card["head_refit"]["anchor_penalty"] == []


def test_a_tiny_fit_keeps_its_history_and_only_its_best_checkpoint(tmp_path: Path):
    """One fit (seconds); keeping every checkpoint is the unit test's above."""
    from pricegym.encoders.fit_demand import FitDemandConfig, fit_demand
    from pricegym.worlds.registry import WorldConfig

    config = FitDemandConfig(
        world=WorldConfig(synthetic=SyntheticWorldConfig(seed=4, n_products=10, n_customers=30, n_exposures=2_000,
                                                         n_days=30)),
        encoder=TextEncoderConfig(model_name="tiny-random-bert", device="cpu"),
        training=DemandTrainingConfig(epochs=3, max_steps_per_epoch=2, patience=3),
        bootstrap_rounds=0, output_dir=tmp_path / "run", cache_dir=tmp_path / "cache")
    result = fit_demand(config, progress=False, argv=["pricegym", "fit-demand"])
    training = json.loads((result.output_dir / "model_card.json").read_text())["training"]
    assert training["epochs_run"] == 3 and len(training["train_loss"]) == 3 and len(training["validation_loss"]) == 3
    assert 0 < training["steps"] <= 6 and training["seconds"] > 0
    best = min(range(3), key=training["validation_loss"].__getitem__)
    assert training["best_epoch"] == best and training["best_checkpoint"] == f"epoch-{best + 1}.pt"
    kept = sorted(path.name for path in (result.output_dir / "checkpoints").iterdir())
    assert kept == [f"epoch-{best + 1}.pt"]
    loaded = DemandTables.load(result.output_dir)  # what fit-demand writes passes the run-folder checks
    assert loaded.world == "synthetic" and loaded.intercept.shape == (30, 10)
