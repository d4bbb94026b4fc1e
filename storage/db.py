"""Engines: SQLite (WAL, foreign keys on) by default, PostgreSQL by URL."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str, **options: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout. JSON columns
    (conversation state on every turn) go through orjson, several times faster."""
    options = {"json_serializer": _dumps, "json_deserializer": orjson.loads, **options}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        # Every transaction takes the write lock at once (BEGIN IMMEDIATE), so a turn is
        # one real transaction that never fails halfway on a lock upgrade. Set on this
        # engine's dialect rather than through a "begin" event: a connection event makes
        # SQLAlchemy dispatch events around every statement.
        engine.dialect.do_begin = _begin_immediate  # type: ignore[method-assign]
        return engine
    return create_engine(url, pool_pre_ping=True, **options)


def _begin_immediate(dbapi_connection: Any) -> None:
    dbapi_connection.execute("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
