"""Engines: SQLite (WAL, foreign keys on) by default, PostgreSQL by URL."""

from __future__ import annotations

import sqlite3
import sys
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Engine, create_engine, event, literal_column
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


LONG_BUSY_TIMEOUT = 30.0  # seconds: commands and imports wait for another writer
# PostgreSQL: connections kept open per engine: the turns' database threads
# (bot/channels/database.py) plus the scheduler, the outbox, the model's work and
# /readyz, which run beside them; fewer meant opening and closing overflow connections
# under load.
POOL_SIZE = 8


class DatabaseBusy(Exception):
    """Another writer held the database past our busy timeout; nothing was written."""


def is_busy(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" (our busy timeout ran out), raw or wrapped."""
    while exc is not None:
        if isinstance(exc, DatabaseBusy):
            return True
        if isinstance(exc, OperationalError) and isinstance(exc.orig, sqlite3.OperationalError):
            return (getattr(exc.orig, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY
        exc = exc.__cause__  # type: ignore[assignment]
    return False


def is_unavailable(exc: BaseException) -> bool:
    """True when the database could not take the work for now, and nothing of it was
    stored: SQLite busy (:func:`is_busy`), or PostgreSQL away or refusing for the moment
    (connection refused or dropped, shutting down, a pool with no connection to give):
    the person is told to send it again, not that something went wrong."""
    if is_busy(exc):
        return True
    psycopg = sys.modules.get("psycopg")  # not imported: no PostgreSQL error to look for
    transient: tuple[type[BaseException], ...] = (PoolTimeout,) + (
        (psycopg.OperationalError, psycopg.InterfaceError) if psycopg is not None else ())
    while exc is not None:
        if isinstance(exc, transient):
            return True
        if isinstance(exc, DBAPIError) and (exc.connection_invalidated
                                            or isinstance(exc.orig, transient)):
            return True
        exc = exc.__cause__  # type: ignore[assignment]
    return False


def make_engine(url: str, *, busy_timeout: float = LONG_BUSY_TIMEOUT,
                **options: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout (how long a
    statement waits for another process's write lock). JSON columns (conversation state
    on every turn) go through orjson, several times faster."""
    options = {"json_serializer": _dumps, "json_deserializer": orjson.loads, **options}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        # Every transaction takes the write lock at once (BEGIN IMMEDIATE), so a turn is
        # one real transaction that never fails halfway on a lock upgrade. Set on this
        # engine's dialect rather than through a "begin" event: a connection event makes
        # SQLAlchemy dispatch events around every statement.
        engine.dialect.do_begin = _begin_immediate  # type: ignore[method-assign]
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, **options)


def _begin_immediate(dbapi_connection: Any) -> None:
    dbapi_connection.execute("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def written(value: str) -> ColumnElement[Any]:
    """A constant of our own (a status, a model name) written into the SQL text instead
    of bound as a parameter. SQLite compiles a statement again on *every* run when a bound
    value is compared with a partial index's condition (``status = ?`` against an index
    ``WHERE status = 'completed'``: the plan may depend on the value), which cost the
    context card 0.3-0.4 ms a turn; with the value in the text the statement stays
    compiled and the planner can prove the partial index applies."""
    if not value.replace("_", "").isalnum():
        raise ValueError(f"not a plain word: {value!r}")
    return literal_column(f"'{value}'")


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
