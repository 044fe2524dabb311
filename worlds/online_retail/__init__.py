"""The online-retail world: the UCI Online Retail transactions (2010-12 .. 2011-12) as a world.

Modules, one idea each:

* :mod:`~pricegym.worlds.online_retail.config`: :class:`OnlineRetailConfig`;
* :mod:`~pricegym.worlds.online_retail.download`: :func:`fetch_online_retail`, the cached
  download of the UCI original, checked against known totals and a recorded sha256;
* :mod:`~pricegym.worlds.online_retail.cleaning`: reading the raw CSV and keeping product sales;
* :mod:`~pricegym.worlds.online_retail.catalogue`: product text, list price, unit cost, price ranges;
* :mod:`~pricegym.worlds.online_retail.profiles`: customer text profiles, free of post-cut-off data;
* :mod:`~pricegym.worlds.online_retail.calendar_features`: weekday, season, UK bank holidays;
* :mod:`~pricegym.worlds.online_retail.transactions`: the validated transactions table;
* :mod:`~pricegym.worlds.online_retail.panel`: the demand panel with zero-sale days, and how
  price endogeneity is handled;
* :mod:`~pricegym.worlds.online_retail.world`: :class:`OnlineRetailWorld` and :func:`load_online_retail`.

Data: Chen, Sain & Guo (2012), UCI Machine Learning Repository id 352, CC BY 4.0.
"""

from pricegym.worlds.online_retail.config import OnlineRetailConfig
from pricegym.worlds.online_retail.download import fetch_online_retail
from pricegym.worlds.online_retail.world import OnlineRetailWorld, load_online_retail

__all__ = ["OnlineRetailConfig", "OnlineRetailWorld", "fetch_online_retail", "load_online_retail"]
