"""Alembic driven by our settings: ``upgrade(url)`` migrates any database to head.

Several processes may migrate one database at once (replicas starting together): on
PostgreSQL each takes a transaction-level advisory lock first, so one migrates while the
others wait, then find the schema at head and do nothing; on SQLite the migration's
``BEGIN IMMEDIATE`` (storage/db.py) does the same."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

MIGRATIONS = Path(__file__).with_name("migrations")
# The advisory lock a migration holds on PostgreSQL: any fixed 64-bit number no other
# lock of ours uses (the scheduler's is bot/rhythm/leader.py SCHEDULER_LOCK).
MIGRATION_LOCK = 0x5C0AC4_D8_0001
VERSION_TABLE = "alembic_version"


class MigrationError(RuntimeError):
    """A migration left rows that break a foreign key (SQLite checks them afterwards)."""


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Migrate to head on the given engine (idempotent)."""
    migrate(engine, "head")


def migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    """Move the schema to ``revision``. On SQLite, foreign keys are off while tables are
    rebuilt (SQLite's own recipe for a table change: a rebuilt table is dropped and
    renamed, which foreign keys on would refuse) and checked before they are back on."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:  # before the transaction begins: inside one the pragma does nothing
            _raw_pragma(connection, "PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":  # released at commit or rollback
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                       {"key": MIGRATION_LOCK})
                config.attributes["connection"] = connection
                (command.downgrade if down else command.upgrade)(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise MigrationError(f"foreign keys broken by the migration: {broken}")
        finally:
            if sqlite:
                _raw_pragma(connection, "PRAGMA foreign_keys=ON")


@functools.cache
def code_heads() -> frozenset[str]:
    """The head revisions of the migrations this code ships (read once per process)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


def database_heads(connection: Connection) -> frozenset[str]:
    """The revisions the database's schema is at (empty before the first migration).
    Alembic's own version table, read directly: its MigrationContext logs a line at INFO
    each time, and /readyz asks every few seconds."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return frozenset()
    return frozenset(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
                     .scalars())


def _raw_pragma(connection: Connection, pragma: str) -> None:
    dbapi = connection.connection.driver_connection
    assert dbapi is not None
    dbapi.execute(pragma)
