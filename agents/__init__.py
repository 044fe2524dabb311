"""Stable-Baselines3 agents and baseline pricing policies (arrive with the agent issues)."""
