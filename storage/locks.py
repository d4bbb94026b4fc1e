"""One import at a time, across processes: a PostgreSQL advisory lock held until the
transaction ends; on SQLite every transaction already takes the write lock at BEGIN
(BEGIN IMMEDIATE), so a second writer waits for the first to commit."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

IMPORTS_KEY = 0x636F6163  # any fixed number, the same in every process ("coac")
_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: lock_timeout ran out


class Busy(Exception):
    """Someone else holds the lock; nothing was done."""


def hold_import_lock(db: Session, wait_seconds: float) -> None:
    """Wait up to ``wait_seconds`` for other imports to finish, then hold the lock until
    ``db``'s transaction ends. Raises :class:`Busy` when the wait runs out."""
    try:
        conn = db.connection()  # SQLite: BEGIN IMMEDIATE waits here (the busy timeout)
        if conn.dialect.name != "postgresql":
            return
        previous = conn.execute(text("SELECT current_setting('lock_timeout')")).scalar_one()
        conn.execute(text("SELECT set_config('lock_timeout', :wait, true)"),
                     {"wait": f"{max(1, round(wait_seconds * 1000))}ms"})
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORTS_KEY})
        conn.execute(text("SELECT set_config('lock_timeout', :wait, true)"), {"wait": previous})
    except OperationalError as exc:
        if _is_busy(exc):
            raise Busy from exc
        raise


def _is_busy(exc: OperationalError) -> bool:
    original = exc.orig
    return (getattr(original, "sqlstate", None) == _LOCK_NOT_AVAILABLE
            or "database is locked" in str(original))
