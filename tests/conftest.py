"""Shared fixtures: tiny worlds that build in well under a second."""

from __future__ import annotations

import pytest

from pricegym.worlds.synthetic import SyntheticWorld, SyntheticWorldConfig

TINY_SYNTHETIC = SyntheticWorldConfig(seed=7, n_products=24, n_customers=90, n_exposures=4_000, n_days=60)


@pytest.fixture(scope="session")
def tiny_config() -> SyntheticWorldConfig:
    return TINY_SYNTHETIC


@pytest.fixture(scope="session")
def tiny_world() -> SyntheticWorld:
    return SyntheticWorld.build(TINY_SYNTHETIC)
