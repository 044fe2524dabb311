"""The exceptions pricegym raises for bad input.

Every message says what was expected, what was received and how to fix it; the CLI prints it on
one line and exits non-zero.
"""


class PricegymError(Exception):
    """Base class of every error caused by the user's input rather than by a bug."""


class ConfigError(PricegymError, ValueError):
    """An inconsistent or invalid configuration (negative sizes, unknown names...)."""


class EnvStateError(PricegymError, RuntimeError):
    """An environment called out of order: a step before ``reset()``, or after the episode ended."""


class DataError(PricegymError):
    """A data file that is missing, unreadable, or does not match the transactions schema."""

    def __init__(self, source: object, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")
