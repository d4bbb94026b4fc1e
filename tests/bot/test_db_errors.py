"""Which database failures mean "not stored, send it again" (storage.db.is_unavailable):
SQLite's lock, PostgreSQL refusing or dropping the connection; a bug's error is not one."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from storage.db import DatabaseBusy, is_unavailable, make_engine


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_postgresql_refusing_connections_is_unavailable() -> None:
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/x")
    try:
        with pytest.raises(OperationalError) as raised, engine.connect():
            pass
        assert is_unavailable(raised.value)
        wrapped = RuntimeError("the turn failed")
        wrapped.__cause__ = raised.value
        assert is_unavailable(wrapped)
    finally:
        engine.dispose()


def test_a_busy_sqlite_is_unavailable_and_a_bug_is_not(pg_url: str) -> None:
    assert is_unavailable(DatabaseBusy())
    assert not is_unavailable(ValueError("a bug"))
    engine = make_engine(pg_url)
    try:
        with pytest.raises(ProgrammingError) as raised, engine.connect() as conn:
            conn.execute(text("SELECT * FROM no_such_table"))
        assert not is_unavailable(raised.value)
        with pytest.raises(IntegrityError) as duplicate, engine.begin() as conn:
            conn.execute(text("CREATE TEMP TABLE t (id int primary key)"))
            conn.execute(text("INSERT INTO t VALUES (1), (1)"))
        assert not is_unavailable(duplicate.value)
    finally:
        engine.dispose()
