"""``pricegym bench-speed``: every speed figure of the project, from one command (a benchmark, not a test).

A *figure* is one measured number, reported as one JSON object::

    {"name": "embed_per_s_cached", "value": 51234.5, "unit": "texts/s", "device": "cpu", ...}

(extra keys say what was measured: sizes, model, repeats...). Figures are functions registered
by name with :func:`register_figure`; each receives the run's :class:`BenchContext`, which builds
what several figures share (the synthetic world, the decision rows...) once, on first use
(:meth:`BenchContext.once`). Later stages add figures in a module of their own whose name ends in
``_figures`` (found in ``pricegym.experiments`` and imported after :data:`CORE_FIGURE_MODULES`), e.g.
``experiments/env_speed_figures.py``::

    @register_figure("env_steps_per_s/Markdown-v0")
    def markdown_steps(context: BenchContext) -> dict: ...

``--only NAME`` selects a figure by its name, or every figure under a prefix (``env_steps_per_s``
selects ``env_steps_per_s/...``). A figure that cannot be measured with what the run was given
(``world_load_s/online-retail`` without ``--data``) raises :class:`FigureUnavailable`: it is then
skipped with a note on stderr, or refused if it was asked for by its full name.

Whatever a run writes to disk lives in scratch folders that :class:`BenchContext` removes when the
run ends, however it ends (:meth:`BenchContext.scratch_folder`).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import torch

from pricegym.config_checks import Device, Flag, Seed, config_dataclass
from pricegym.encoders.text_encoder import resolve_device
from pricegym.errors import ConfigError

Figure = dict[str, Any]
FigureFunction = Callable[["BenchContext"], Figure]

FIGURES: dict[str, FigureFunction] = {}
"""Every registered figure, by name, in registration order (the order they are measured in)."""

CORE_FIGURE_MODULES: tuple[str, ...] = ("pricegym.experiments.speed_figures",)
"""Figure modules measured first: the language-model and demand figures."""

FIGURE_MODULE_SUFFIX = "_figures"

REQUIRED_KEYS: tuple[str, ...] = ("name", "value", "unit", "device")


class FigureUnavailable(Exception):
    """Raised by a figure function that cannot be measured with this run's inputs; says what it needs."""


def register_figure(name: str) -> Callable[[FigureFunction], FigureFunction]:
    """Register ``function`` as the figure ``name`` (a decorator); names are unique."""

    def register(function: FigureFunction) -> FigureFunction:
        if name in FIGURES and FIGURES[name] is not function:
            raise ValueError(f"bench-speed: a figure named {name!r} is already registered")
        FIGURES[name] = function
        return function

    return register


def figure_modules() -> list[str]:
    """:data:`CORE_FIGURE_MODULES`, then every other ``pricegym.experiments.*_figures`` module, by name."""
    import pricegym.experiments as experiments

    found = sorted(f"{experiments.__name__}.{module.name}" for module in pkgutil.iter_modules(experiments.__path__)
                   if module.name.endswith(FIGURE_MODULE_SUFFIX))
    return [*CORE_FIGURE_MODULES, *(name for name in found if name not in CORE_FIGURE_MODULES)]


def load_figures() -> dict[str, FigureFunction]:
    """Import the figure modules (registering their figures) and return the registry."""
    for module in figure_modules():
        importlib.import_module(module)
    return FIGURES


@config_dataclass("bench-speed")
class BenchSpeedConfig:
    """What to measure, where, and how long.

    Attributes:
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N`` for the language-model figures (numpy
            figures run on the CPU whatever this says, and report ``"device": "cpu"``).
        quick: a short run (seconds): fewer texts, rows and repeats, and a tiny random BERT for
            the fine-tuning figure; the figures are then only a smoke check.
        only: figure names or name prefixes to measure (empty: all).
        demand_run: a ``pricegym fit-demand`` run folder on the default synthetic world whose
            tables the demand figure times (None: tables derived from the ground truth).
        cache_dir: where the embedding figures make (and remove) a scratch cache.
        data: the UCI Online Retail CSV whose loading ``world_load_s/online-retail`` times (None:
            the downloaded copy in the cache if there is one, else the figure is skipped).
        seed: the random rows.
    """

    device: Device = "auto"
    quick: Flag = False
    only: tuple[str, ...] = ()
    demand_run: Path | None = None
    cache_dir: Path = Path(".cache/embeddings")
    data: Path | None = None
    seed: Seed = 0


class BenchContext:
    """What a run's figures share: the config, the torch device, parts built once per run, scratch folders.

    :meth:`once` builds a part on first use and returns the same object afterwards, so that e.g.
    the two embedding figures come from one measurement and the two demand figures time the same rows.
    Use it as a context manager: leaving it removes every :meth:`scratch_folder`.
    """

    def __init__(self, config: BenchSpeedConfig, device: torch.device) -> None:
        self.config = config
        self.device = device
        self._parts: dict[str, Any] = {}
        self._cleanup = ExitStack()

    def __enter__(self) -> BenchContext:
        return self

    def __exit__(self, *_exception: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the run's scratch folders."""
        self._cleanup.close()

    def scratch_folder(self, prefix: str) -> Path:
        """A new empty temporary folder, removed by :meth:`close` (however the run ends)."""
        folder = tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True)
        return Path(self._cleanup.enter_context(folder))

    @property
    def quick(self) -> bool:
        return self.config.quick

    def once(self, key: str, build: Callable[[], Any]) -> Any:
        """``build()`` the first time ``key`` is asked for; the stored result afterwards."""
        if key not in self._parts:
            self._parts[key] = build()
        return self._parts[key]


def select_figures(only: tuple[str, ...]) -> list[str]:
    """The registered names that ``only`` selects (all when empty), in registration order.

    Raises:
        ConfigError: for a name that selects nothing.
    """
    names = list(load_figures())
    if not only:
        return names
    chosen = []
    for wanted in only:
        matches = [name for name in names if name == wanted or name.startswith(f"{wanted}/")]
        if not matches:
            raise ConfigError(f"bench-speed: no figure named {wanted!r}; choose among {', '.join(names)} "
                              "(or a prefix before '/')")
        chosen += [name for name in matches if name not in chosen]
    return [name for name in names if name in chosen]


def run_bench_speed(config: BenchSpeedConfig) -> Iterator[Figure]:
    """Measure the selected figures one by one, yielding each as soon as it is measured.

    Close the iterator (``contextlib.closing``) if you stop early: that removes the scratch folders at
    once rather than when the iterator is garbage-collected.
    """
    device = resolve_device(config.device)
    names = select_figures(config.only)
    with BenchContext(config, device) as context:
        for name in names:
            figure = _measure(name, context)
            if figure is not None:
                yield figure


def _measure(name: str, context: BenchContext) -> Figure | None:
    """The figure ``name``, checked; None (with a note on stderr) for an unavailable one not asked for by name.

    Raises:
        ConfigError: for an unavailable figure asked for by its full name.
    """
    try:
        figure = FIGURES[name](context)
    except FigureUnavailable as reason:
        if name in context.config.only:
            raise ConfigError(f"bench-speed: figure {name!r} cannot be measured: {reason}") from None
        print(f"bench-speed: skipped {name}: {reason}", file=sys.stderr)
        return None
    missing = [key for key in REQUIRED_KEYS if key not in figure]
    if missing or figure["name"] != name:
        raise ValueError(f"bench-speed: figure function for {name!r} returned {sorted(figure)} named "
                         f"{figure.get('name')!r}; expected keys {REQUIRED_KEYS} and its own name")
    return figure
