"""World loading times of ``pricegym bench-speed`` (a benchmark: on shared cores they vary with the load).

* ``world_load_s/synthetic``: seconds to build the default synthetic world (README: about two seconds);
* ``world_load_s/online-retail``: seconds to load the UCI Online Retail world from the ``--data`` CSV
  (or the downloaded copy in the cache): reading, cleaning, customer profiles, demand panel and
  splits (about 6-9 s measured on 2 cores). Without data it is skipped: it never downloads.

One timed load each, the first of the run (a second load would find the file in the page cache).
"""

from __future__ import annotations

import time
from pathlib import Path

from pricegym.experiments.bench_speed import BenchContext, FigureUnavailable, register_figure


def _online_retail_file(context: BenchContext) -> Path:
    """The ``--data`` file, else the download cache's copy; :class:`FigureUnavailable` without either."""
    from pricegym.worlds.online_retail.config import default_cache_dir
    from pricegym.worlds.online_retail.download import CACHE_FILE_NAME

    if context.config.data is not None:
        return context.config.data
    cached = default_cache_dir() / CACHE_FILE_NAME
    if cached.is_file():
        return cached
    raise FigureUnavailable(f"no data: pass --data PATH (the UCI Online Retail CSV, e.g. "
                            f"../shared/data/online_retail.csv.gz); none downloaded in {cached.parent}")


@register_figure("world_load_s/synthetic")
def synthetic_world_load(context: BenchContext) -> dict:
    """Seconds to build the default synthetic world."""
    from pricegym.worlds.synthetic import SyntheticWorld, SyntheticWorldConfig

    started = time.perf_counter()
    world = SyntheticWorld.build(SyntheticWorldConfig())
    seconds = time.perf_counter() - started
    return {"name": "world_load_s/synthetic", "value": round(seconds, 3), "unit": "s", "device": "cpu",
            "rows": len(world.transactions), "what": "build the default synthetic world (catalogue, log, splits)"}


@register_figure("world_load_s/online-retail")
def online_retail_world_load(context: BenchContext) -> dict:
    """Seconds to load the online-retail world from its CSV."""
    from pricegym.worlds.online_retail import OnlineRetailConfig, load_online_retail

    path = _online_retail_file(context)
    started = time.perf_counter()
    world = load_online_retail(OnlineRetailConfig(data_path=path))
    seconds = time.perf_counter() - started
    return {"name": "world_load_s/online-retail", "value": round(seconds, 3), "unit": "s", "device": "cpu",
            "rows": len(world.transactions), "data": str(path),
            "what": "read, clean, profile customers, build the demand panel and splits"}
