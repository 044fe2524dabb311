"""The headroom experiment prints the oracle and every rule as a share of it."""

from __future__ import annotations

from pricegym.envs import MarkdownConfig
from pricegym.experiments.markdown_headroom import RULES, headroom_table, main
from pricegym.worlds.registry import WorldConfig
from pricegym.worlds.synthetic import SyntheticWorldConfig

SMALL = WorldConfig(synthetic=SyntheticWorldConfig(seed=5, n_products=30, n_customers=200, n_exposures=12_000))


def test_headroom_table_puts_every_rule_at_or_below_the_oracle():
    table = headroom_table(MarkdownConfig(world=SMALL, horizon=10), episodes=2, progress=False)
    assert table["oracle (DP) mean return"].iloc[0] > 0
    for rule in RULES:
        assert 0 < table[f"{rule} % of oracle"].iloc[0] <= 100.0 + 1e-9


def test_a_missing_demand_run_is_one_error_line(tmp_path, capsys):
    assert main(["--episodes", "1", "--demand-run", str(tmp_path / "nowhere")]) == 1
    assert "nowhere" in capsys.readouterr().err
