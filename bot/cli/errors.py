"""How the command line fails: one clear line on stderr and an exit code."""

from __future__ import annotations

EXIT_BAD_INPUT = 2
EXIT_NO_DATABASE = 3


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit code 2."""


class DatabaseUnavailable(Exception):
    """The database cannot be reached or opened: printed as one line, exit code 3."""


def reason(exc: BaseException) -> str:
    """The driver's own first line, without SQLAlchemy's SQL and background link."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0].strip() if lines else type(cause).__name__
