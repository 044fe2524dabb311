"""Play one episode with any policy that has SB3's ``predict`` (rules call ``begin_episode`` first)."""

from __future__ import annotations


def episode_return(env, policy, seed: int | None = None, deterministic: bool = True) -> float:
    """The undiscounted return of one episode of ``policy`` on ``env`` reset with ``seed``."""
    observation, _ = env.reset(seed=seed)
    if hasattr(policy, "begin_episode"):
        policy.begin_episode(env)
    total, done = 0.0, False
    while not done:
        action, _ = policy.predict(observation, deterministic=deterministic)
        observation, reward, terminated, truncated, _ = env.step(action)
        total += float(reward)
        done = terminated or truncated
    return total
