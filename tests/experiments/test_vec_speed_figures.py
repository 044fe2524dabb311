"""The batched-simulation figures of bench-speed: every environment's, measured in a fresh process."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("env_name", ["Markdown-v0", "PersonalizedDiscount-v0", "Competition-v0"])
def test_every_environment_has_its_batched_and_ppo_figures(env_name, monkeypatch):
    import torch

    from pricegym.experiments import vec_speed_figures
    from pricegym.experiments.bench_speed import BenchContext, BenchSpeedConfig, load_figures

    figures = load_figures()
    monkeypatch.setattr(vec_speed_figures, "QUICK_VEC_STEPS", 4_096)
    monkeypatch.setattr(vec_speed_figures, "VEC_BATCH", 64)
    monkeypatch.setattr(vec_speed_figures, "QUICK_PPO_STEPS", 256)
    monkeypatch.setattr(vec_speed_figures, "PPO_SETTINGS", {**vec_speed_figures.PPO_SETTINGS, "n_envs": 4,
                                                            "n_steps": 32, "batch_size": 64})
    with BenchContext(BenchSpeedConfig(quick=True), torch.device("cpu")) as context:
        vec = figures[f"vec_env_steps_per_s/{env_name}"](context)
        assert vec["name"] == f"vec_env_steps_per_s/{env_name}" and vec["batch"] == 64
        assert vec["value"] > 0 and vec["non_finite"] == 0 and vec["peak_rss_mib"] > 0
        for kind in ("ppo_train_steps_per_s", "ppo_train_steps_per_s_single"):
            figure = figures[f"{kind}/{env_name}"](context)
            assert figure["name"] == f"{kind}/{env_name}" and figure["value"] > 0 and figure["ppo"]["n_envs"] == 4
