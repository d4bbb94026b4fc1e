"""Replicas starting together each migrate: on a database with nothing in it, several
``coach db upgrade`` processes at once all succeed and leave the schema at head (the
advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite); /readyz's check tells a schema
behind the code from one at head."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.rhythm.leader import SCHEDULER_LOCK
from storage.db import make_engine
from storage.migrate import MIGRATION_LOCK, code_heads, database_heads, migrate, upgrade
from storage.readiness import SchemaNotAtHead, check_ready

ROOT = Path(__file__).resolve().parents[2]
AT_ONCE = 3


def test_the_migration_lock_is_not_the_scheduler_lock() -> None:
    assert MIGRATION_LOCK != SCHEDULER_LOCK


@pytest.mark.slow
def test_processes_migrating_at_once_all_succeed_and_leave_the_schema_at_head(
        empty_db_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": empty_db_url, "COACH_ENV": "test"}
    processes = [subprocess.Popen([sys.executable, "-m", "bot.cli", "db", "upgrade"], cwd=ROOT,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(AT_ONCE)]
    outcomes = [(p.wait(timeout=300), *p.communicate()) for p in processes]
    for status, out, err in outcomes:
        assert (status, out.strip()) == (0, "Database is at the latest schema."), err
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as conn:
            assert database_heads(conn) == code_heads()
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
            assert len(versions) == 1  # one row: no replica wrote its own
    finally:
        engine.dispose()


def test_readiness_tells_a_schema_behind_the_code(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        with pytest.raises(SchemaNotAtHead, match="no revision"):
            check_ready(engine)
        migrate(engine, "0013_flat")
        with pytest.raises(SchemaNotAtHead, match="0013_flat"):
            check_ready(engine)
        upgrade(engine)
        check_ready(engine)
    finally:
        engine.dispose()
