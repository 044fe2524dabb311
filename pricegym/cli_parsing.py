"""What every pricegym command line shares: a parser whose errors are one line and exit 1, argument types
that check ranges while parsing, and the runner that turns a user's mistake into one line.

Light on purpose: it imports nothing heavier than the standard library, so that ``--help`` and
``--version`` answer at once. Every message says what was expected, what was received and how to fix it.
"""

from __future__ import annotations

import argparse
import functools
import math
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

from pricegym.errors import PricegymError
from pricegym.safe_writes import private_tempdir

INTERRUPTED_EXIT = 130
"""The exit status after Ctrl-C or SIGTERM (128 + SIGINT, as shells report it)."""


class CommandLineParser(argparse.ArgumentParser):
    """An :class:`argparse.ArgumentParser` whose errors are one line on stderr and exit status 1.

    ``program`` is the name the error line starts with (``pricegym``); subcommand parsers inherit it,
    and the line ends with a pointer to the ``--help`` of the (sub)command that was misused::

        pricegym: error: argument --seed: expected an integer >= 0; got '-1' (see `pricegym world describe --help`)
    """

    def __init__(self, *args, program: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.program = program or self.prog

    def add_subparsers(self, **kwargs) -> argparse._SubParsersAction:
        """Subcommand parsers of the same class, with the same ``program``."""
        kwargs.setdefault("parser_class", functools.partial(type(self), program=self.program))
        return super().add_subparsers(**kwargs)

    def error(self, message: str) -> NoReturn:
        """Print ``program: error: message (see `prog --help`)`` on one line and exit 1."""
        self.exit(1, f"{self.program}: error: {one_line(message)} (see `{self.prog} --help`)\n")


# --- argument types: each checks one range while parsing and names it in its message ----------------------


def _integer(text: str, minimum: int, expected: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1 (sizes, counts, epochs)."""
    return _integer(text, 1, "a positive integer (1, 2, ...)")


def non_negative_int(text: str) -> int:
    """An integer >= 0 (seeds, optional repeats)."""
    return _integer(text, 0, "an integer >= 0")


def _finite(text: str, expected: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0 (learning rates)."""
    value = _finite(text, "a finite number > 0")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0; got {text!r}")
    return value


def fraction(text: str) -> float:
    """A finite number in [0, 1] (shares)."""
    value = _finite(text, "a number between 0 and 1")
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1; got {text!r}")
    return value


# --- running a command: user errors become one line ------------------------------------------------------


def one_line(text: str) -> str:
    """``text`` with its line breaks (and the indentation after them) folded into "; "."""
    return "; ".join(line.strip() for line in str(text).splitlines() if line.strip())


def _pydantic_message(error: Exception) -> str | None:
    """A pydantic ``ValidationError`` as "Config: field: problem; got value", or None for other errors.

    pydantic is looked up only if something already imported it: an error cannot come from it otherwise.
    """
    pydantic = sys.modules.get("pydantic")
    if pydantic is None or not isinstance(error, pydantic.ValidationError):
        return None
    problems = []
    for problem in error.errors(include_url=False):
        field = ".".join(str(part) for part in problem["loc"]) or "value"
        problems.append(f"{field}: {problem['msg']}; got {problem.get('input')!r}")
    return f"{error.title}: {'; '.join(problems)}"


def _os_message(error: OSError) -> str:
    where = f"{error.filename}: " if error.filename else ""
    return f"{where}{error.strerror or error}; check that the path exists, is of the right kind and is writable"


def user_error_message(error: BaseException) -> str | None:
    """One line for an error caused by the user's input or machine (bad value, bad file, unwritable path);
    None for anything else (a bug, which keeps its traceback)."""
    if isinstance(error, PricegymError):
        return one_line(str(error))
    if isinstance(error, Exception) and (message := _pydantic_message(error)) is not None:
        return one_line(message)
    if isinstance(error, OSError):
        return one_line(_os_message(error))
    return None


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM (``kill``) raises :class:`KeyboardInterrupt` like Ctrl-C, so that the
    ``finally`` blocks that remove partial files run. Only in the main thread (elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum, _frame) -> NoReturn:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_command(program: str, command: Callable[[], int | None]) -> int:
    """Run ``command``; its exit status, or 1 with one line ``program: error: ...`` on stderr for a user
    error, or :data:`INTERRUPTED_EXIT` after Ctrl-C or SIGTERM. Other exceptions (bugs) propagate.
    Temporary files it leaves in the system's temporary folder are removed (:func:`private_tempdir`)."""
    try:
        with terminate_as_interrupt(), private_tempdir():
            return int(command() or 0)
    except KeyboardInterrupt:
        print(f"{program}: interrupted", file=sys.stderr)
        return INTERRUPTED_EXIT
    except Exception as error:
        message = user_error_message(error)
        if message is None:
            raise
        print(f"{program}: error: {message}", file=sys.stderr)
        return 1


def run_command_line(parser: CommandLineParser, argv: Sequence[str] | None,
                     command: Callable[[argparse.Namespace], int | None]) -> int:
    """Parse ``argv`` with ``parser`` and run ``command`` on the arguments (:func:`run_command`): the exit
    status, returned rather than raised, whether the parser stopped (``--help`` and ``--version``: 0; a bad
    argument: 1, its line already printed) or the command ran."""
    try:
        arguments = parser.parse_args(argv)
    except SystemExit as stopped:
        return _exit_status(stopped)
    return run_command(parser.program, lambda: command(arguments))


def _exit_status(stopped: SystemExit) -> int:
    if stopped.code is None:
        return 0
    return stopped.code if isinstance(stopped.code, int) else 1
