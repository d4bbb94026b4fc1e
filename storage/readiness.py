"""Can a turn commit? Readiness writes to every table of ours and rolls back.

``SELECT 1`` succeeds on a read-only SQLite file and for a PostgreSQL role whose
write privileges were revoked, while every turn fails. An UPDATE that matches no
row still needs the write lock (SQLite) and the UPDATE privilege (PostgreSQL),
changes nothing, and is rolled back anyway.
"""

from __future__ import annotations

from sqlalchemy import Engine, false, update

from storage.models import Base


def check_writable(engine: Engine) -> None:
    """Raise the database's own error when a turn could not commit here."""
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            for table in Base.metadata.sorted_tables:
                key = next(iter(table.primary_key.columns))
                conn.execute(update(table).where(false()).values({key: key}))
        finally:
            transaction.rollback()
