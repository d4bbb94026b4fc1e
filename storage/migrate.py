"""Alembic driven by our settings: ``upgrade(url)`` migrates any database to head."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).with_name("migrations")


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
                config.attributes["connection"] = connection
                (command.downgrade if down else command.upgrade)(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise MigrationError(f"foreign keys broken by the migration: {broken}")
        finally:
            if sqlite:
                _raw_pragma(connection, "PRAGMA foreign_keys=ON")


def _raw_pragma(connection: Connection, pragma: str) -> None:
    dbapi = connection.connection.driver_connection
    assert dbapi is not None
    dbapi.execute(pragma)
