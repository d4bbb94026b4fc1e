"""Outbox rows handed out on a lease, so a send never runs inside a transaction.

``lease_due`` moves each due row's ``not_before`` forward by the lease and commits
with the caller; the sender then has the row to itself for that long (another
worker or replica skips it), marks it sent or failed in a second short
transaction, and a crash mid-send only delays the row until the lease ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from flows.engine import FlowState
from storage import outbox
from storage.models import CoachingSession, Conversation, Outbox, Person


def lease_due(db: Session, *, channel: str, now: datetime, lease_seconds: float,
              limit: int = 20) -> list[Outbox]:
    rows = outbox.due(db, channel=channel, now=now, limit=limit)
    for row in rows:
        row.not_before = now + timedelta(seconds=lease_seconds)
    return rows


def mark_sent(db: Session, row_id: int, now: datetime) -> None:
    row = db.get(Outbox, row_id)
    if row is not None:
        outbox.sent(row, now)


def mark_failed(db: Session, row_id: int, now: datetime, error: str,
                retry_after: float | None) -> None:
    row = db.get(Outbox, row_id)
    if row is not None:
        outbox.failed(row, now, error, retry_after)


def conversation_of(key: str) -> int | None:
    """The conversation a turn's outbox key names (``conv:<id>:v<version>:<index>``)."""
    kind, _, rest = key.partition(":")
    head = rest.partition(":")[0]
    return int(head) if kind == "conv" and head.isdigit() else None


def plan_session(db: Session, row: Outbox) -> int | None:
    """The coaching session whose action plan this row carries to its rep, if it does."""
    conversation_id = conversation_of(row.idempotency_key)
    conversation = db.get(Conversation, conversation_id) if conversation_id else None
    if conversation is None or conversation.flow != "sled":
        return None
    session_id = FlowState.from_json(conversation.state).data.get("session_id")
    session = db.get(CoachingSession, session_id) if isinstance(session_id, int) else None
    rep = db.get(Person, session.rep_id) if session is not None else None
    if session is None or rep is None or rep.email != row.target:
        return None
    return session.id
