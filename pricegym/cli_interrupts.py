"""Ctrl-C and ``kill`` in a pricegym command: both raise :class:`KeyboardInterrupt`, so that the ``finally``
blocks that remove partial files run, and neither can be lost inside a library's finaliser.

Light on purpose (standard library only), like :mod:`pricegym.cli_parsing`, which runs every command
inside :func:`terminate_as_interrupt`.
"""

from __future__ import annotations

import functools
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from pricegym.safe_writes import INTERRUPTED

RETRY_INTERRUPT_S = 0.05
"""How soon an interrupt that landed in a finaliser is raised again (by SIGALRM), once the finaliser returned."""


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM (``kill``) raises :class:`KeyboardInterrupt` like Ctrl-C, so that the
    ``finally`` blocks that remove partial files run. Only in the main thread (elsewhere a no-op).

    Either signal also sets :data:`pricegym.safe_writes.INTERRUPTED` (cleared on the way out), so that no
    output is renamed into place afterwards. Python swallows an exception raised in a finaliser
    (``__del__``, printing "Exception ignored ..."), so an interrupt that lands in one is raised again
    shortly after, by an alarm (:func:`_interrupt`), and its "Exception ignored" report is not shown.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    INTERRUPTED.clear()
    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)}
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, _interrupt)
    previous_hook = sys.unraisablehook
    sys.unraisablehook = functools.partial(_unraisable, previous_hook=previous_hook)
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        if signal.getsignal(signal.SIGALRM) is _interrupt:  # an alarm was set for a swallowed interrupt
            signal.setitimer(signal.ITIMER_REAL, 0)
        for number, handler in previous.items():
            signal.signal(number, handler)
        INTERRUPTED.clear()  # writes made after the command, in the same process, are not refused


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """The handler of SIGINT and SIGTERM: note the interrupt and raise :class:`KeyboardInterrupt`, or, inside
    a finaliser (where Python would swallow it), raise it again shortly (:func:`_retry_interrupt`). The retry
    (SIGALRM) does nothing while a :class:`KeyboardInterrupt` is already being handled (its ``finally`` blocks
    and ``__exit__`` methods, which remove partial outputs and temporary folders, are running)."""
    INTERRUPTED.set()
    if signum == signal.SIGALRM and isinstance(sys.exc_info()[1], KeyboardInterrupt):
        return  # the retry of an interrupt already on its way: raising again would cut its clean-up short
    if _in_finaliser(frame):
        _retry_interrupt()
        return
    raise KeyboardInterrupt


def _retry_interrupt() -> None:
    """Call :func:`_interrupt` again in :data:`RETRY_INTERRUPT_S` seconds (SIGALRM)."""
    signal.signal(signal.SIGALRM, _interrupt)
    signal.setitimer(signal.ITIMER_REAL, RETRY_INTERRUPT_S)


def _in_finaliser(frame: FrameType | None) -> bool:
    """Whether ``frame`` runs inside a ``__del__`` or the unraisable-exception hook."""
    while frame is not None:
        if frame.f_code.co_name == "__del__" or frame.f_code is _unraisable.__code__:
            return True
        frame = frame.f_back
    return False


def _unraisable(report: Any, previous_hook: Callable[[Any], None]) -> None:
    """``sys.unraisablehook``: an interrupt swallowed where no exception can propagate (a finaliser, a weakref
    callback...) is raised again shortly, without the "Exception ignored" report; others go to
    ``previous_hook``."""
    if isinstance(report.exc_value, KeyboardInterrupt):
        _retry_interrupt()
        return
    previous_hook(report)
