"""What every pricegym command line shares: a parser whose errors are one line and exit 1, argument types
that check ranges while parsing, and the runner that turns a user's mistake into one line.

Light on purpose: it imports nothing heavier than the standard library, so that ``--help`` and
``--version`` answer at once. Every message says what was expected, what was received and how to fix it.
"""

from __future__ import annotations

import argparse
import errno
import functools
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from pricegym.cli_interrupts import terminate_as_interrupt
from pricegym.errors import PricegymError
from pricegym.safe_writes import INTERRUPTED, private_tempdir

INTERRUPTED_EXIT = 130
"""The exit status after Ctrl-C or SIGTERM (128 + SIGINT, as shells report it)."""

LARGEST_SEED = 2**32 - 1
"""Mirrors :data:`pricegym.config_checks.LARGEST_SEED` (what numpy, torch and Gymnasium all accept)."""


class CommandLineParser(argparse.ArgumentParser):
    """An :class:`argparse.ArgumentParser` whose errors are one line on stderr and exit status 1.

    ``program`` is the name the error line starts with (``pricegym``); subcommand parsers inherit it,
    and the line ends with a pointer to the ``--help`` of the (sub)command that was misused::

        pricegym: error: argument --seed: expected an integer >= 0; got '-1' (see `pricegym world describe --help`)
    """

    def __init__(self, *args, program: str | None = None, used: list[CommandLineParser] | None = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.program = program or self.prog
        self._used = [] if used is None else used  # shared by a parser and its subcommands' parsers

    def add_subparsers(self, **kwargs) -> argparse._SubParsersAction:
        """Subcommand parsers of the same class, with the same ``program``."""
        kwargs.setdefault("parser_class", functools.partial(type(self), program=self.program, used=self._used))
        return super().add_subparsers(**kwargs)

    def parse_known_args(self, args: Sequence[str] | None = None, namespace: Any = None):
        """As argparse's, remembering ``args`` so that :meth:`error` can name options it does not know, and
        which (sub)command parsed them, so that it can point at that command's ``--help``."""
        self._arguments_seen = list(sys.argv[1:] if args is None else args)
        self._used.append(self)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        """Print ``program: error: message (see `prog --help`)`` on one line and exit 1.

        argparse reports a missing required argument before unknown options; the unknown ones are named
        first, since they are often the cause (``pricegym --bogus`` is not "a missing COMMAND"). Unknown
        arguments are reported by the top parser; the pointer names the subcommand that was running."""
        unknown = self._unknown_options()
        if unknown and message.startswith("the following arguments are required"):
            message = f"unrecognized arguments: {' '.join(unknown)}; {message}"
        prog = self._used[-1].prog if message.startswith("unrecognized arguments") and self._used else self.prog
        self.exit(1, f"{self.program}: error: {one_line(message)} (see `{prog} --help`)\n")

    def _unknown_options(self) -> list[str]:
        """The option-like arguments seen that this parser does not define, even abbreviated (negative
        numbers excepted)."""
        seen = getattr(self, "_arguments_seen", [])
        return [argument for argument in seen
                if argument.startswith("-") and argument not in ("-", "--")
                and not self._negative_number_matcher.match(argument) and not self._knows(argument)]

    def _knows(self, argument: str) -> bool:
        name = argument.split("=", 1)[0]
        if name in self._option_string_actions:
            return True
        return self.allow_abbrev and name.startswith("--") and any(
            option.startswith(name) for option in self._option_string_actions)


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
    """An integer >= 0 (optional repeats)."""
    return _integer(text, 0, "an integer >= 0")


def seed(text: str) -> int:
    """A seed: an integer in [0, :data:`LARGEST_SEED`], the range every config's seed accepts."""
    value = _integer(text, 0, "an integer >= 0")
    if value > LARGEST_SEED:
        raise argparse.ArgumentTypeError(f"a seed must be an integer in [0, {LARGEST_SEED}]; got {text!r}")
    return value


def input_path(text: str) -> Path:
    """A path to read (its existence is the command's to check); not empty."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a path; got {text!r}")
    return Path(text)


def output_path(text: str) -> Path:
    """A path to write a folder to; not empty."""
    return input_path(text)


def output_file(text: str) -> Path:
    """A path to write a file to: not empty, and not ending in a path separator (which names a folder)."""
    path = input_path(text)
    if text.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(f"expected a file name; got {text!r}, which ends in "
                                         f"{text[-1]!r} and so names a folder (drop the {text[-1]!r})")
    return path


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


# --- what a command says while it runs ---------------------------------------------------------------------


def status(message: str, program: str = "pricegym") -> None:
    """Print ``program: message`` on stderr, a note on slow work in progress ("building the world ..."),
    only when stderr is a terminal: a log or a pipe gets the results and, on bad input, the one error line."""
    stream = sys.stderr
    if stream is not None and stream.isatty():
        print(f"{program}: {message}", file=stream, flush=True)


QUIET_LIBRARIES: dict[str, str] = {"TRANSFORMERS_VERBOSITY": "error", "HF_HUB_VERBOSITY": "error"}
"""Environment that keeps transformers' and the model hub's warnings (retries, load reports) off stderr."""


def quiet_libraries(progress: bool) -> None:
    """Before importing transformers: only its errors on stderr and, without ``progress``, no progress bars
    of its own ("Loading weights"). Values the user set in the environment are kept."""
    for name, value in QUIET_LIBRARIES.items():
        os.environ.setdefault(name, value)
    if not progress:
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


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


class OutputClosedError(PricegymError, OSError):
    """Standard output could not be written (a closed pipe, a full disk): the printed output is incomplete."""

    def __init__(self, error: OSError) -> None:
        if error.errno == errno.EPIPE:
            problem = "the reader of its output went away (broken pipe)"
        else:
            problem = error.strerror or str(error)
        super().__init__(f"cannot write to standard output: {problem}; the printed output is incomplete")


class _GuardedOutput:
    """``sys.stdout`` whose write errors are :class:`OutputClosedError` (not an error about a path), and which
    remembers the first one (argparse, for one, ignores errors while printing help)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.failure: OutputClosedError | None = None

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as error:
            raise self._failed(error) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as error:
            raise self._failed(error) from None

    def _failed(self, error: OSError) -> OutputClosedError:
        self.failure = self.failure or OutputClosedError(error)
        return self.failure

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def guarded_stdout() -> Iterator[None]:
    """While inside, a failed write to standard output raises :class:`OutputClosedError`; the output is
    flushed on the way out and a failure swallowed inside raised then. After a failure standard output is
    pointed at the null device, so that Python's own flush at exit is quiet."""
    stream = sys.stdout
    if stream is None:  # started with standard output closed: print() does nothing
        yield
        return
    guard = sys.stdout = _GuardedOutput(stream)
    try:
        yield
        guard.flush()
        if guard.failure is not None:
            raise guard.failure
    except OutputClosedError:
        _point_at_null(stream)
        raise
    finally:
        sys.stdout = stream


def _point_at_null(stream: Any) -> None:
    """Send what ``stream`` still holds, and anything written later, to the null device."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture): nothing to silence
        pass


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


def run_command(program: str, command: Callable[[], int | None]) -> int:
    """Run ``command``; its exit status, or 1 with one line ``program: error: ...`` on stderr for a user
    error, or :data:`INTERRUPTED_EXIT` after Ctrl-C or SIGTERM. Other exceptions (bugs) propagate.
    Temporary files it leaves in the system's temporary folder are removed (:func:`private_tempdir`)."""
    try:
        with terminate_as_interrupt(), private_tempdir(), guarded_stdout():
            status = int(command() or 0)
            if INTERRUPTED.is_set():  # swallowed by a library: the outputs were not renamed into place
                raise KeyboardInterrupt
            return status
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
        arguments = _parse(parser, argv)
    except OutputClosedError as error:  # --help into a closed pipe or a full disk
        print(f"{parser.program}: error: {error}", file=sys.stderr)
        return 1
    if isinstance(arguments, int):
        return arguments
    return run_command(parser.program, lambda: command(arguments))


def _parse(parser: CommandLineParser, argv: Sequence[str] | None) -> argparse.Namespace | int:
    """The parsed arguments, or the exit status where the parser stopped (``--help``, a bad argument); what
    it printed is flushed here, so that a failure to print is an :class:`OutputClosedError`."""
    with guarded_stdout():
        try:
            return parser.parse_args(argv)
        except SystemExit as stopped:
            status = _exit_status(stopped)
    return status


def _exit_status(stopped: SystemExit) -> int:
    if stopped.code is None:
        return 0
    return stopped.code if isinstance(stopped.code, int) else 1
