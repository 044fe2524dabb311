"""Score a finished ``fit-demand`` run on another transactions file of the same shop, by month.

``pricegym evaluate-demand --run DIR --data FILE`` answers "how does this fitted model do on a
year it never saw?". The new file (the layout of ``online_retail.csv.gz``) goes through the
world's own cleaning (:func:`~pricegym.worlds.online_retail.cleaning.clean_sales`) and demand panel
(:func:`~pricegym.worlds.online_retail.panel.build_panel`), built on the *run's* catalogue: its
product ids and list prices, so relative prices mean what they meant in fitting. The run's saved
tables (``demand_tables.npz``) predict every panel row; the result is the per-month table of
:mod:`~pricegym.encoders.monthly_metrics` (split ``held_out``), flagged against the months and
seasons the run trained on (the model card's ``by_month``).

What is not scored, and said so in :attr:`HeldOutScore.notes`:

* products the run never saw (no column in its tables) are skipped, with their count of products
  and sales; scoring them would need the run's encoder and head to reduce their text to new table
  columns (cold start through text), which this command does not do;
* the baselines of the fit (GLM on frozen embeddings, no-text model) are not saved in the run folder,
  so only the fine-tuned model is scored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pricegym.encoders.demand_data import DemandData
from pricegym.encoders.demand_evaluation import tables_predictor
from pricegym.encoders.demand_rows import CUSTOMER_TYPE_PROFILES
from pricegym.encoders.demand_run_checks import MODEL_CARD
from pricegym.encoders.demand_tables import DemandTables
from pricegym.encoders.monthly_metrics import flag_coverage, metrics_by_month, month_labels, season_coverage
from pricegym.errors import ConfigError, DataError

HELD_OUT_SPLIT = "held_out"
FINE_TUNED = "BERT fine-tuned (monotone head)"  # mirrors pricegym.encoders.fit_demand.FINE_TUNED (torch-free here)


@dataclass
class HeldOutScore:
    """The per-month table of a run on new data, the one-line coverage warning, and what was left out."""

    metrics: pd.DataFrame
    warning: str | None
    notes: list[str] = field(default_factory=list)


def score_run_on_file(run_dir: str | Path, data_path: str | Path) -> HeldOutScore:
    """Score the fitted model of ``run_dir`` on the transactions in ``data_path``, by month.

    Raises:
        DataError: a missing or corrupt run folder, or an unreadable data file.
        ConfigError: a run of a world other than online-retail, or no sale of a known product.
    """
    run_dir = Path(run_dir)
    tables = DemandTables.load(run_dir)
    if tables.world != "online-retail" or tables.response != "expected_quantity":
        raise ConfigError(f"evaluate-demand scores online-retail runs on a file in the online_retail.csv.gz "
                          f"layout; {run_dir} is a {tables.world or 'unnamed'} run")
    card = _model_card(run_dir)
    world_config = (card.get("config") or {}).get("world")
    if not isinstance(world_config, dict):
        raise DataError(run_dir, "its model_card.json records no config.world; score a run that pricegym fit-demand "
                                 "wrote, or fit one again")
    panel, notes = held_out_panel(tables, data_path, world_config.get("unit_cost_share", 0.6))
    data = _panel_rows(panel, tables)
    months = month_labels(panel["timestamp"])
    metrics = metrics_by_month({FINE_TUNED: tables_predictor(tables)}, data, np.full(len(data), HELD_OUT_SPLIT),
                               months, tables.response, [HELD_OUT_SPLIT])
    training_months = (card.get("by_month") or {}).get("training_months")
    if not training_months:
        notes.append(f"{run_dir} records no training months (fitted before metrics by month): "
                     "out_of_season is not flagged")
        return HeldOutScore(metrics, None, notes)
    coverage = season_coverage(training_months, months)
    return HeldOutScore(flag_coverage(metrics, coverage), coverage.warning("held-out"), notes)


def held_out_panel(tables: DemandTables, data_path: str | Path, unit_cost_share: float
                   ) -> tuple[pd.DataFrame, list[str]]:
    """The demand panel of ``data_path``'s sales of the run's products, and a note on the rest."""
    from pricegym.worlds.online_retail.catalogue import product_text
    from pricegym.worlds.online_retail.cleaning import clean_sales
    from pricegym.worlds.online_retail.panel import build_panel
    from pricegym.worlds.online_retail.reading import read_raw_transactions
    from pricegym.worlds.online_retail.transactions import build_transactions
    from pricegym.worlds.online_retail.vectorised import most_common

    sales, _removed = clean_sales(read_raw_transactions(data_path), source=data_path)
    known = sales["product_id"].isin(tables.product_ids)
    notes = [f"{int((~known).sum()):,} sales of {sales.loc[~known, 'product_id'].nunique():,} products the run "
             f"never saw were skipped (no cold start through text); {int(known.sum()):,} sales of "
             f"{sales.loc[known, 'product_id'].nunique():,} known products scored",
             "only the fine-tuned model is scored: the fit's baselines are not saved in the run folder"]
    sales = sales[known]
    if sales.empty:
        raise ConfigError(f"{data_path}: no sale of a product the run knows; nothing to score")
    descriptions = most_common(sales["product_id"], sales["description"])
    ids = pd.Series(tables.product_ids)
    products = pd.DataFrame({
        "product_id": ids, "list_price": tables.list_prices, "unit_cost": unit_cost_share * tables.list_prices,
        "product_text": product_text(descriptions.reindex(ids).fillna(ids.set_axis(ids))).to_numpy(dtype=object),
    })
    customers = sales.drop_duplicates("customer_id")[["customer_id", "customer_type"]]
    customers = customers.assign(customer_text=customers["customer_type"].map(CUSTOMER_TYPE_PROFILES))
    transactions = build_transactions(sales, products, customers, source=data_path)
    return build_panel(transactions, products), notes


def _panel_rows(panel: pd.DataFrame, tables: DemandTables) -> DemandData:
    """Panel rows whose customer index is the tables' row (customer type) and product index its column."""
    frame = panel.assign(customer_text=panel["customer_type"].astype(str), competitor_price=np.nan)
    return DemandData.from_transactions(frame, panel["orders"].to_numpy(float), tuple(tables.customer_ids),
                                        tuple(tables.product_ids), tuple(tables.product_ids), source="panel")


def _model_card(run_dir: Path) -> dict:
    path = run_dir / MODEL_CARD
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DataError(path, f"cannot read the run's model card ({error}); rerun pricegym fit-demand") from error
