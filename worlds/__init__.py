"""Worlds: who the customers, products and markets are, and the transactions they produce.

* ``synthetic``: a world whose true demand is known (:mod:`pricegym.worlds.synthetic`).
* ``online-retail``: the UCI Online Retail transactions (:mod:`pricegym.worlds.online_retail`).

Every world exposes the same :class:`World` surface: a validated transactions table (see
:mod:`pricegym.worlds.schema`), its :class:`~pricegym.worlds.splits.Splits`, and a summary.
"""

from __future__ import annotations

from typing import Protocol

import pandas as pd

from pricegym.worlds.demand import DemandModel, Response
from pricegym.worlds.splits import Splits

WORLD_NAMES: tuple[str, ...] = ("synthetic", "online-retail")


class World(Protocol):
    """What every world offers to the demand model, the environments and the CLI."""

    name: str
    response: Response
    transactions: pd.DataFrame
    splits: Splits

    @property
    def ground_truth(self) -> DemandModel | None:
        """The true demand where it is known (synthetic), else None."""

    def summary(self) -> dict[str, object]:
        """Human-readable facts about the world, for ``pricegym world describe``."""
