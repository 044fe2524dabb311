"""Gymnasium pricing environments driven by a demand model (arrive with the environment issues)."""
