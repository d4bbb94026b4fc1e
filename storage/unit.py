"""A turn's unit of work: one transaction on one connection.

Most turns only run prebuilt Core statements on ``conn``. The ORM ``db`` session is
made on first use and joins the same transaction, so an object-heavy command (a
review, a check-in) and the turn's Core writes commit or roll back together.
"""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.orm import Session


class UnitOfWork:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._db: Session | None = None

    @property
    def conn(self) -> Connection:
        """The turn's connection, after anything the ORM holds is flushed to it."""
        if self._db is not None and (self._db.new or self._db.dirty or self._db.deleted):
            self._db.flush()
        return self._conn

    @property
    def db(self) -> Session:
        if self._db is None:
            # Joins the connection's transaction; committing it stays the turn's job.
            self._db = Session(bind=self._conn, expire_on_commit=False,
                               join_transaction_mode="rollback_only")
        return self._db

    def finish(self) -> None:
        """Flush what the ORM holds (before the turn commits) and let the session go."""
        if self._db is not None:
            self._db.flush()
            self._db.close()
            self._db = None

    def discard(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
