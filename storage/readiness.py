"""Can a turn commit? Readiness checks the schema is at this code's migration head, then
writes to every table of ours and rolls back.

``SELECT 1`` succeeds on a read-only SQLite file and for a PostgreSQL role whose
write privileges were revoked, while every turn fails. An UPDATE that matches no
row still needs the write lock (SQLite) and the UPDATE privilege (PostgreSQL),
changes nothing, and is rolled back anyway. A schema behind the code (``coach db
upgrade`` not run) or ahead of it (a newer release migrated it) fails too: the code's
queries may name columns that are not there.
"""

from __future__ import annotations

from sqlalchemy import Engine, false, update

from storage.migrate import code_heads, database_heads
from storage.models import Base


class SchemaNotAtHead(Exception):
    """The database's schema is not the one this code was written for."""


def check_ready(engine: Engine) -> None:
    """Raise :class:`SchemaNotAtHead`, or the database's own error when a turn could not
    commit here."""
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            found, expected = database_heads(conn), code_heads()
            if found != expected:
                raise SchemaNotAtHead(
                    f"the schema is at {', '.join(sorted(found)) or 'no revision'}; "
                    f"this code needs {', '.join(sorted(expected))}")
            for table in Base.metadata.sorted_tables:
                key = next(iter(table.primary_key.columns))
                conn.execute(update(table).where(false()).values({key: key}))
        finally:
            transaction.rollback()
