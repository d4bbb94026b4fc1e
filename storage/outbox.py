"""The outbox: messages to other people are stored in the turn's transaction and
sent afterwards, each exactly once, keyed by an idempotency key."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import Outbox

MAX_ATTEMPTS = 8


_ENQUEUE = {dialect: make(cast(Table, Outbox.__table__)).on_conflict_do_nothing(
    index_elements=["idempotency_key"]) for dialect, make in (("postgresql", pg_insert),
                                                             ("sqlite", sqlite_insert))}


def enqueue(conn: Connection, *, key: str, kind: str, target: str, payload: dict[str, Any],
            now: datetime) -> None:
    """Add a message unless one with the same key exists (a retried turn adds nothing)."""
    conn.execute(_ENQUEUE[conn.dialect.name], {
        "idempotency_key": key, "kind": kind, "target": target, "payload": payload,
        "status": "pending", "attempts": 0, "not_before": now, "created_at": now})


def due(db: Session, *, channel: str, now: datetime, limit: int = 50) -> list[Outbox]:
    """Pending rows for one channel (console, slack, teams) that may be sent now, locked."""
    query = (select(Outbox)
             .where(Outbox.status == "pending", Outbox.not_before <= now,
                    Outbox.kind == channel)
             .order_by(Outbox.id).limit(limit))
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(db.scalars(query))


def sent(row: Outbox, now: datetime) -> None:
    row.status, row.sent_at, row.attempts = "sent", now, row.attempts + 1


def failed(row: Outbox, now: datetime, error: str, retry_after: float | None = None) -> None:
    """Back off exponentially (or as the platform asked); give up after MAX_ATTEMPTS."""
    row.attempts += 1
    row.last_error = error[:2000]
    if row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
        return
    delay = retry_after if retry_after is not None else min(2 ** row.attempts, 300)
    row.not_before = now + timedelta(seconds=delay)
