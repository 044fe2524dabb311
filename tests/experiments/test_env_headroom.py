"""The headroom experiments of PersonalizedDiscount-v0 and Competition-v0 print every rule as a share of the bound."""

from __future__ import annotations

import pytest

from pricegym.agents.discount_baselines import DISCOUNT_BASELINES
from pricegym.envs import CompetitionConfig, PersonalizedDiscountConfig
from pricegym.experiments import competition_headroom, discount_headroom
from pricegym.worlds.registry import WorldConfig
from pricegym.worlds.synthetic import SyntheticWorldConfig

SMALL = WorldConfig(synthetic=SyntheticWorldConfig(seed=5, n_products=30, n_customers=200, n_exposures=12_000))


def test_discount_headroom_puts_every_rule_under_the_hindsight_bound():
    row = discount_headroom.headroom_row(PersonalizedDiscountConfig(world=SMALL, horizon=100), episodes=2,
                                         progress=False)
    assert row["bound violations"] == 0 and row["expected bound"] > 0
    for policy in DISCOUNT_BASELINES:
        assert 0 < row[f"{policy.name} % of upper_bound"] <= 100.0 + 1e-9


def test_competition_headroom_puts_every_rule_under_the_best_response():
    row = competition_headroom.headroom_row(CompetitionConfig(world=SMALL, horizon=8), episodes=2, progress=False)
    assert row["upper_bound (best response) mean return"] > 0
    for rule in competition_headroom.RULES:
        assert 0 < row[f"{rule} % of upper_bound"] <= 100.0 + 1e-9


@pytest.mark.parametrize("module", [discount_headroom, competition_headroom])
def test_a_missing_demand_run_is_one_error_line(module, tmp_path, capsys):
    assert module.main(["--episodes", "1", "--demand-run", str(tmp_path / "nowhere")]) == 1
    assert "nowhere" in capsys.readouterr().err


@pytest.mark.parametrize("module", [discount_headroom, competition_headroom])
def test_non_positive_episodes_are_refused(module, capsys):
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--episodes", "0"])
    assert exit_info.value.code == 2 and "--episodes must be positive" in capsys.readouterr().err
