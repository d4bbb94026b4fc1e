"""The outbox: messages to other people are stored in the turn's transaction and
sent afterwards, each exactly once, keyed by an idempotency key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage import rhythm
from storage.models import Outbox

MAX_ATTEMPTS = 8


# RETURNING says whether the row went in (a driver's rowcount may be -1 here).
_ENQUEUE = {dialect: make(cast(Table, Outbox.__table__)).on_conflict_do_nothing(
    index_elements=["idempotency_key"]).returning(Outbox.id)
    for dialect, make in (("postgresql", pg_insert), ("sqlite", sqlite_insert))}


def enqueue(conn: Connection, *, key: str, kind: str, target: str, payload: dict[str, Any],
            now: datetime, not_before: datetime | None = None) -> bool:
    """Add a message unless one with the same key exists (a retried turn adds nothing);
    True when it was added. ``not_before``: not sent before then (a scheduled message
    waiting out quiet hours)."""
    result = conn.execute(_ENQUEUE[conn.dialect.name], {
        "idempotency_key": key, "kind": kind, "target": target, "payload": payload,
        "status": "pending", "attempts": 0, "not_before": not_before or now,
        "created_at": now})
    return result.first() is not None


def exists(conn: Connection, key: str) -> bool:
    """Whether a message with this idempotency key was queued (sent or not)."""
    return conn.execute(select(Outbox.id).where(Outbox.idempotency_key == key)).first() \
        is not None


def existing(conn: Connection, keys: list[str]) -> set[str]:
    """Which of these idempotency keys are in the outbox (one query per 500 keys)."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        found.update(conn.execute(select(Outbox.idempotency_key)
                                  .where(Outbox.idempotency_key.in_(chunk))).scalars())
    return found


# 'pending' written into the SQL, not bound: the partial index on the unsent rows
# (ix_outbox_due) is then usable, on SQLite (which proves an index's condition from literals only)
# and in PostgreSQL's generic plans of prepared statements.
PENDING: ColumnElement[str] = literal_column("'pending'")
UNSENT = Outbox.status == PENDING


def due_query(channel: str, now: datetime | ColumnElement[datetime], limit: int,
              *columns: Any) -> Select[Any]:
    """Pending rows for one channel that may be sent now (``now``: a time or a bound
    parameter), oldest first: ``columns`` or the rows. By ix_outbox_due, the channel's
    unsent rows in order (those not due yet skipped in the index): bounded by the rows
    waiting, never the history."""
    return (select(*(columns or (Outbox,)))
            .where(UNSENT, Outbox.not_before <= now, Outbox.kind == channel)
            .order_by(Outbox.id).limit(limit))


def due(db: Session, *, channel: str, now: datetime, limit: int = 50) -> list[Outbox]:
    """Pending rows for one channel (console, slack, teams) that may be sent now, locked.

    A row whose ``guard`` no longer holds (the check-in was answered, the meeting moved:
    storage/rhythm.py) is marked ``dropped`` here, at send time, and not handed out."""
    query = due_query(channel, now, limit)
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(db.scalars(query))
    dropped = failing(db, {row.id: (row.payload or {}).get("guard") for row in rows}, now)
    for row in rows:
        if row.id in dropped:
            row.status, row.sent_at = "dropped", now
    return [row for row in rows if row.id not in dropped]


def failing(db: Session | Connection, guards: Mapping[int, Any], now: datetime) -> set[int]:
    """Of these rows (id → their payload's ``guard``, None for none), those whose guard no
    longer holds: one query per kind of guard for them all (storage.rhythm.failing_guards)."""
    guarded = {row_id: guard for row_id, guard in guards.items() if guard is not None}
    return rhythm.failing_guards(db, guarded, now) if guarded else set()


def drop_unwanted(conn: Connection, guards: Mapping[int, Any], now: datetime) -> set[int]:
    """Mark ``dropped`` the rows (id → their payload's ``guard``) whose guard no longer
    holds, in one statement; their ids."""
    dropped = failing(conn, guards, now)
    if dropped:
        conn.execute(update(Outbox).where(Outbox.id.in_(dropped), UNSENT)
                     .values(status="dropped", sent_at=now))
    return dropped


def sent(row: Outbox, now: datetime) -> None:
    row.status, row.sent_at, row.attempts = "sent", now, row.attempts + 1


def failed(row: Outbox, now: datetime, error: str, retry_after: float | None = None) -> None:
    """Back off exponentially, or as the platform asked; give up after MAX_ATTEMPTS failed
    tries. A wait the platform asked for (a 429's Retry-After) is not a failed try: a rate
    limit, however long, never makes us give up on a message."""
    row.last_error = error[:2000]
    if retry_after is not None:
        row.not_before = now + timedelta(seconds=retry_after)
        return
    row.attempts += 1
    if row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
        return
    row.not_before = now + timedelta(seconds=min(2 ** row.attempts, 300))


@dataclass(frozen=True, slots=True)
class Backlog:
    """One channel's messages waiting to go out now: how many, and since when the oldest
    has been due (rows on a lease or waiting for a later time are not counted)."""

    channel: str
    depth: int
    oldest_due: datetime


def backlog(db: Session, now: datetime) -> list[Backlog]:
    """The due, unsent messages per channel (by ``ix_outbox_due``, the unsent rows only:
    bounded by the backlog, not by the history of sent rows)."""
    rows = db.execute(select(Outbox.kind, func.count(), func.min(Outbox.not_before))
                      .where(UNSENT, Outbox.not_before <= now)
                      .group_by(Outbox.kind).order_by(Outbox.kind)).all()
    return [Backlog(kind, count, oldest) for kind, count, oldest in rows]


def held(conn: Connection, *, key_prefix: str, marker: str, now: datetime,
         limit: int = 100) -> list[tuple[int, dict[str, Any], datetime]]:
    """Pending rows keyed ``key_prefix…`` still held back (``not_before`` after ``now``),
    never handed out, whose payload carries ``marker``: (id, payload, not_before), soonest
    first. By ix_outbox_due (the unsent rows only): the rows waiting, not the history."""
    rows = conn.execute(
        select(Outbox.id, Outbox.payload, Outbox.not_before)
        .where(UNSENT, Outbox.not_before > now,
               Outbox.first_leased_at.is_(None),
               Outbox.idempotency_key.startswith(key_prefix, autoescape=True))
        .order_by(Outbox.not_before).limit(limit))
    return [(row.id, row.payload, row.not_before) for row in rows
            if marker in (row.payload or {})]


def release(conn: Connection, row_id: int, payload: dict[str, Any], at: datetime) -> bool:
    """A held row goes ``at`` (now, or the end of the recipient's quiet hours), with
    ``payload``; False when it was handed out or sent meanwhile (its hold ran out first:
    it goes, or went, as it was)."""
    result = conn.execute(
        update(Outbox)
        .where(Outbox.id == row_id, Outbox.status == "pending",
               Outbox.first_leased_at.is_(None), Outbox.sent_at.is_(None))
        .values(payload=payload, not_before=at))
    return result.rowcount == 1


def settle_held(conn: Connection, keys: list[str], *, shown: bool, now: datetime) -> int:
    """Rows queued held back (a model's late answer to someone on a surface that may show
    it in place): ``shown`` there, they are marked sent; not shown, they go now."""
    if not keys:
        return 0
    waiting = update(Outbox).where(Outbox.idempotency_key.in_(keys), Outbox.status == "pending",
                                   Outbox.first_leased_at.is_(None))
    values: dict[str, Any] = ({"status": "sent", "sent_at": now} if shown
                              else {"not_before": now})
    return conn.execute(waiting.values(**values)).rowcount
