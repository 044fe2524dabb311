"""Batched-simulation figures of ``pricegym bench-speed``, all from one run.

For each of Markdown-v0, PersonalizedDiscount-v0 and Competition-v0, on its default config (ground
truth):

* ``vec_env_steps_per_s/<EnvId>``: the SB3 ``VecEnv`` over the batched core
  (:func:`pricegym.envs.make_vec`) with B = :data:`VEC_BATCH` episodes, uniformly random actions,
  resets included; with the peak RSS (MiB) of a fresh process that builds the batch and steps it.
* ``vec_env_peak_rss_mib/Markdown-v0-10-products``: the same process measure for a batch of 1,024
  seasons of 10 products (the issue's memory target: under 1 GiB).
* ``ppo_train_steps_per_s/<EnvId>``: SB3 PPO end to end (rollouts and updates) on the batched
  ``VecEnv``, with :data:`PPO_SETTINGS`, timed after one warm-up rollout and update.
* ``ppo_train_steps_per_s_single/<EnvId>``: the same PPO on the single environment in a
  ``DummyVecEnv`` of the same number of environments.

Each figure records its settings. PPO runs on the CPU with torch's default threads.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from pricegym.experiments.bench_speed import BenchContext, register_figure

ENV_IDS = ("pricegym/Markdown-v0", "pricegym/PersonalizedDiscount-v0", "pricegym/Competition-v0")
VEC_BATCH = 1_024
FULL_VEC_STEPS, QUICK_VEC_STEPS = 2_000_000, 50_000
PPO_SETTINGS = {"n_envs": 256, "n_steps": 32, "batch_size": 4_096, "n_epochs": 2, "learning_rate": 3e-4,
                "policy": "MlpPolicy", "net_arch": [64, 64]}
"""PPO's documented configuration for both training figures (8,192 steps per rollout)."""
FULL_PPO_STEPS, QUICK_PPO_STEPS = 8 * 8_192, 8_192

_RSS_PROGRAM = """
import json, resource, sys, time
import numpy as np
from pricegym.envs.vector import make_vec
env_id, options = sys.argv[1], json.loads(sys.argv[5])
batch, steps, seed = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
vec_env = make_vec(env_id, batch, seed=seed, **options)
vec_env.seed(seed)
vec_env.reset()
space = vec_env.action_space
space.seed(seed)
actions = [np.stack([space.sample() for _ in range(batch)]) for _ in range(16)]
episodes, non_finite = 0, 0
started = time.perf_counter()
for step in range(max(1, steps // batch)):
    observations, rewards, dones, infos = vec_env.step(actions[step % 16])
    non_finite += int(np.count_nonzero(~np.isfinite(rewards))) + int(np.count_nonzero(~np.isfinite(observations)))
    episodes += int(dones.sum())
elapsed = time.perf_counter() - started
print(json.dumps({"steps_per_s": max(1, steps // batch) * batch / elapsed, "episodes": episodes,
                  "non_finite": non_finite, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure_vec_env(env_id: str, batch: int, steps: int, seed: int, **options) -> dict:
    """Steps/s, episodes, non-finite values and peak RSS of random steps through ``make_vec`` in a fresh process."""
    result = subprocess.run([sys.executable, "-c", _RSS_PROGRAM, env_id, str(batch), str(steps), str(seed),
                             json.dumps(options)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"measuring {env_id} batched failed: {result.stderr.strip().splitlines()[-1:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _vec_figure(env_id: str):
    def figure(context: BenchContext) -> dict:
        steps = QUICK_VEC_STEPS if context.quick else FULL_VEC_STEPS
        measured = measure_vec_env(env_id, VEC_BATCH, steps, context.config.seed)
        return {"name": f"vec_env_steps_per_s/{env_id.split('/')[-1]}", "value": round(measured["steps_per_s"], 1),
                "unit": "steps/s", "device": "cpu", "batch": VEC_BATCH, "steps": steps,
                "episodes": measured["episodes"], "non_finite": measured["non_finite"],
                "peak_rss_mib": round(measured["peak_rss_mib"], 1), "actions": "uniformly random",
                "demand": "ground truth", "adapter": "SB3 VecEnv (pricegym.envs.make_vec)"}
    return figure


def _memory_figure(context: BenchContext) -> dict:
    steps = QUICK_VEC_STEPS if context.quick else 200_000
    measured = measure_vec_env("pricegym/Markdown-v0", VEC_BATCH, steps, context.config.seed, n_products=10)
    return {"name": "vec_env_peak_rss_mib/Markdown-v0-10-products", "value": round(measured["peak_rss_mib"], 1),
            "unit": "MiB", "device": "cpu", "batch": VEC_BATCH, "n_products": 10, "steps": steps,
            "steps_per_s": round(measured["steps_per_s"], 1), "target": "under 1024 MiB for the whole process"}


def ppo_steps_per_second(vec_env, steps: int, seed: int) -> float:
    """Environment steps per second of SB3 PPO learning ``steps`` steps on ``vec_env`` (rollouts and updates)."""
    from stable_baselines3 import PPO

    model = PPO(PPO_SETTINGS["policy"], vec_env, n_steps=PPO_SETTINGS["n_steps"],
                batch_size=PPO_SETTINGS["batch_size"], n_epochs=PPO_SETTINGS["n_epochs"],
                learning_rate=PPO_SETTINGS["learning_rate"], policy_kwargs={"net_arch": PPO_SETTINGS["net_arch"]},
                seed=seed, device="cpu", verbose=0)
    model.learn(total_timesteps=1)  # one rollout and update first: torch's and the environments' first calls
    warmed_up = model.num_timesteps
    started = time.perf_counter()
    model.learn(total_timesteps=steps, reset_num_timesteps=False)
    return (model.num_timesteps - warmed_up) / (time.perf_counter() - started)


def _ppo_figure(env_id: str, batched: bool):
    def figure(context: BenchContext) -> dict:
        steps = QUICK_PPO_STEPS if context.quick else FULL_PPO_STEPS
        n_envs = PPO_SETTINGS["n_envs"]
        if batched:
            from pricegym.envs.vector import make_vec

            vec_env, adapter = make_vec(env_id, n_envs, seed=context.config.seed), "batched SB3 VecEnv"
        else:
            import gymnasium as gym
            from stable_baselines3.common.vec_env import DummyVecEnv

            import pricegym.envs  # noqa: F401  (registers the environments)

            vec_env = DummyVecEnv([lambda: gym.make(env_id) for _ in range(n_envs)])
            adapter = "DummyVecEnv of single environments"
        rate = ppo_steps_per_second(vec_env, steps, context.config.seed)
        suffix = "" if batched else "_single"
        return {"name": f"ppo_train_steps_per_s{suffix}/{env_id.split('/')[-1]}", "value": round(rate, 1),
                "unit": "steps/s", "device": "cpu", "steps": steps, "adapter": adapter, "ppo": PPO_SETTINGS,
                "torch_threads": _torch_threads()}
    return figure


def _torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


for _env_id in ENV_IDS:
    _short = _env_id.split("/")[-1]
    register_figure(f"vec_env_steps_per_s/{_short}")(_vec_figure(_env_id))
register_figure("vec_env_peak_rss_mib/Markdown-v0-10-products")(_memory_figure)
for _env_id in ENV_IDS:
    _short = _env_id.split("/")[-1]
    register_figure(f"ppo_train_steps_per_s/{_short}")(_ppo_figure(_env_id, batched=True))
    register_figure(f"ppo_train_steps_per_s_single/{_short}")(_ppo_figure(_env_id, batched=False))
