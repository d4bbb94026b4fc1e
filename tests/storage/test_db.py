"""storage.db: SQLite transactions take the write lock at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import make_engine


def test_a_sqlite_transaction_holds_the_write_lock_from_its_first_statement(
        tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    with engine.begin() as conn:
        conn.execute(text("SELECT count(*) FROM t")).scalar()  # a read first, as a turn does
        assert conn.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]
        other = sqlite3.connect(tmp_path / "x.db", timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
        conn.execute(text("INSERT INTO t VALUES (1)"))
    with engine.connect() as conn:
        conn.execute(text("INSERT INTO t VALUES (2)"))
        conn.rollback()
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1
    engine.dispose()
