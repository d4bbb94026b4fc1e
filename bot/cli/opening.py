"""Open the wired application for one command, turning a database that cannot be used
into one clear line."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError

from bot.bootstrap import App, bootstrap
from bot.cli.errors import DatabaseUnavailable, UsageError, reason
from bot.clock import ManualClock, SystemClock
from bot.settings import Settings, load_settings
from storage.db import LONG_BUSY_TIMEOUT


def open_app(manual_clock: bool = False, busy_timeout: float = LONG_BUSY_TIMEOUT) -> App:
    settings = load_settings()
    try:
        return bootstrap(settings, ManualClock() if manual_clock else SystemClock(),
                         busy_timeout=busy_timeout)
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailable(f"cannot open the database {_shown_url(settings)}: "
                                  f"{reason(exc)}") from None
    except (ArgumentError, ImportError) as exc:  # not a URL, or a database we have no driver for
        raise UsageError(f"DATABASE_URL {_shown_url(settings)} is not a database we can use "
                         "(sqlite:///path/to/coach.db or postgresql://user@host/db): "
                         f"{reason(exc)}") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _shown_url(settings: Settings) -> str:
    """DATABASE_URL as an error may show it: without its password."""
    try:
        return make_url(settings.database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(settings.database_url[:80])
