"""Outbox rows handed out on a lease, so a send never runs inside a transaction.

``lease_due`` moves each due row's ``not_before`` forward by the lease and commits
with the caller; the sender then has the row to itself for that long (another
worker or replica skips it), marks it sent (with its next lease: bot/channels/outbox.py)
or failed in a later short transaction, and a crash mid-send only delays the row until
the lease ends (then it is looked for before it is sent again: ``resend_since``).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, Select, Table, bindparam, case, func, select, update
from sqlalchemy.orm import Session

from flows.engine import FlowState
from storage import outbox
from storage.lists import in_json_list, json_list
from storage.models import CoachingSession, Conversation, OrgWorkspace, Outbox, Person

# The column holding a person's user id on each linked platform.
PLATFORM_IDS = {"slack": Person.slack_user_id, "teams": Person.teams_user_id}


_outbox_table = cast(Table, Outbox.__table__)
_column = _outbox_table.c


def _resend_since(first_leased_at: Any, attempts: Any, created_at: Any) -> Any:
    """Since when a row's message may already have arrived: a row handed out before, since
    its first lease; one from before first_leased_at existed that was tried, since it was
    queued; else none (computed by the database: most rows have none, and then no time is
    read at all)."""
    return func.coalesce(first_leased_at, case((attempts > 0, created_at), else_=None),
                         type_=_column.first_leased_at.type).label("resend_since")


# What a sender needs of a leased row (plain columns, not ORM objects); of the payload,
# only its three parts a sender reads, the message as JSON text: a burst of check-ins is
# one message to thousands, read once (the sender's MessageCache), not once a row.
_PAYLOAD_PARTS = (_column.payload["tenant"].as_string().label("tenant"),
                  _column.payload["message"].as_string().label("message"),
                  _column.payload["guard"].label("guard"))
_ROW_PARTS = (_column.id, _column.idempotency_key, _column.target, *_PAYLOAD_PARTS)
LEASED_COLUMNS = (*_ROW_PARTS,
                  _resend_since(_column.first_leased_at, _column.attempts, _column.created_at))
_LEASE_VALUES = {
    "first_leased_at": func.coalesce(_column.first_leased_at, bindparam(
        "leased_now", type_=_column.first_leased_at.type)),
    "not_before": bindparam("lease_until", type_=_column.not_before.type)}

# The statements a pass runs for every batch, built once on the table (Core: no ORM
# bookkeeping), the ids bound as one JSON list (storage/lists.py).
DIALECTS = ("postgresql", "sqlite")
_LEASE_LISTED = (update(_outbox_table).where(in_json_list(_column.id, "ids", "sqlite"))
                 .values(_LEASE_VALUES))  # SQLite's lease: the rows read before
_MARK_SENT = {dialect: update(_outbox_table)
              .where(in_json_list(_column.id, "ids", dialect), _column.status == outbox.PENDING)
              .values(status="sent", sent_at=bindparam("sent_now", type_=_column.sent_at.type),
                      attempts=_column.attempts + 1)
              for dialect in DIALECTS}


class LeasedRow(NamedTuple):
    """LEASED_COLUMNS of one row as a plain tuple: a lease reads each field of hundreds
    of rows several times, and a SQLAlchemy Row's attribute costs ten times a tuple's."""

    id: int
    idempotency_key: str
    target: str
    tenant: str | None  # the payload's "tenant": the workspace or Teams tenant
    message: str  # the payload's "message", as JSON text (flows.messages.message_from_json)
    guard: dict[str, Any] | None  # the payload's "guard" (bot/rhythm/guards.py)
    resend_since: datetime | None


@dataclass(frozen=True, slots=True)
class Lease:
    row: LeasedRow
    resend_since: datetime | None  # handed out before, from then on: it may have arrived


def lease_due(db: Session, *, channel: str, now: datetime, lease_seconds: float,
              limit: int = 20) -> list[Lease]:
    """Hand out up to ``limit`` due rows of ``channel`` for ``lease_seconds``, oldest
    first, the rows whose guard failed marked dropped. On SQLite one read, then one
    UPDATE for the rows kept; on PostgreSQL the two in one statement
    (:func:`_lease_due_at_once`)."""
    conn = db.connection()
    until = now + timedelta(seconds=lease_seconds)
    if conn.dialect.name == "postgresql":
        return _lease_due_at_once(conn, channel, now, until, limit)
    rows = list(map(LeasedRow._make, conn.execute(
        outbox.due_query(channel, now, limit, *LEASED_COLUMNS))))
    dropped = outbox.drop_unwanted(conn, {row.id: row.guard for row in rows}, now)
    kept = [row for row in rows if row.id not in dropped]
    if kept:
        conn.execute(_LEASE_LISTED, {"ids": json_list(row.id for row in kept),
                                     "leased_now": now, "lease_until": until})
    return [Lease(row, row.resend_since) for row in kept]


def _lease_due_at_once(conn: Connection, channel: str, now: datetime, until: datetime,
                       limit: int) -> list[Lease]:
    """PostgreSQL: the due rows locked (skipping those another sender holds) and leased in
    one statement, their ``resend_since`` from the values before the update; then the rows
    whose guard failed marked dropped, in the same transaction. One round trip fewer per
    lease than a read and an update: each hands the GIL between the lease's thread and the
    busy loop."""
    rows = sorted(map(LeasedRow._make, conn.execute(  # by id: oldest first
        _lease_statement(channel, limit), {"leased_now": now, "lease_until": until,
                                           "due_now": now})))
    dropped = outbox.drop_unwanted(conn, {row.id: row.guard for row in rows}, now)
    return [Lease(row, row.resend_since) for row in rows if row.id not in dropped]


@functools.cache
def _lease_statement(channel: str, limit: int) -> Select[Any]:
    """``WITH due AS (SELECT … FOR UPDATE SKIP LOCKED), leased AS (UPDATE … WHERE id =
    ANY(ARRAY(SELECT id FROM due)) RETURNING …) SELECT … FROM leased JOIN due``: the rows
    updated are found by primary key. (``UPDATE … FROM due`` let the planner hash-join
    the due rows to a scan of the whole outbox, history included: bench_dispatch.)"""
    due = (outbox.due_query(channel, bindparam("due_now", type_=_column.not_before.type),
                            limit, _column.id, _column.first_leased_at, _column.attempts,
                            _column.created_at)
           .with_for_update(skip_locked=True).cte("due"))
    leased = (update(_outbox_table)
              .where(_column.id == func.any(func.array(select(due.c.id).scalar_subquery())))
              .values(_LEASE_VALUES)
              .returning(*_ROW_PARTS)
              .cte("leased"))
    return (select(*(leased.c[part.name] for part in _ROW_PARTS),
                   _resend_since(due.c.first_leased_at, due.c.attempts, due.c.created_at))
            .select_from(leased.join(due, leased.c.id == due.c.id)))


def mark_all_sent(db: Session, row_ids: Collection[int], now: datetime) -> None:
    """Mark the rows of one pass that went out, in one statement."""
    if row_ids:
        conn = db.connection()
        conn.execute(_MARK_SENT[conn.dialect.name], {"ids": json_list(row_ids), "sent_now": now})


_RECIPIENT_IDS = {
    (channel, dialect): select(OrgWorkspace.workspace_id, Person.email, column)
    .join(Person, Person.org_id == OrgWorkspace.org_id)
    .where(OrgWorkspace.platform == bindparam("channel"),
           in_json_list(OrgWorkspace.workspace_id, "tenants", dialect),
           in_json_list(Person.email, "emails", dialect), column.is_not(None))
    for channel, column in PLATFORM_IDS.items() for dialect in DIALECTS}


def recipient_ids(db: Session, channel: str,
                  wanted: Collection[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The stored user id on ``channel`` of each (workspace, email), looked up in the
    organisation the workspace is linked to (none: not ours, no id), in one query; a
    recipient not bound yet is missing (the notifier looks them up)."""
    column = PLATFORM_IDS.get(channel)
    if column is None or not wanted:
        return {}
    conn = db.connection()
    rows = conn.execute(_RECIPIENT_IDS[channel, conn.dialect.name], {
        "channel": channel, "tenants": json_list({tenant for tenant, _ in wanted}),
        "emails": json_list({email for _, email in wanted})})
    return {(tenant, email): user_id for tenant, email, user_id in rows
            if (tenant, email) in wanted and user_id}


def mark_failed(db: Session, row_id: int, now: datetime, error: str,
                retry_after: float | None, queued_behind: Sequence[int] = ()) -> None:
    """Reschedule (or give up on) a row; the same recipient's rows leased behind it wait
    for it, so their messages still arrive in order."""
    row = db.get(Outbox, row_id)
    if row is None:
        return
    outbox.failed(row, now, error, retry_after)
    hold_behind(db, row_id, queued_behind, now)


def hold_behind(db: Session, failed_id: int, row_ids: Sequence[int], now: datetime) -> None:
    """The recipient's rows after a failed one wait until it is tried again."""
    if not row_ids:
        return
    failed = db.get(Outbox, failed_id)
    resume = failed.not_before if failed is not None and failed.status == "pending" else now
    db.execute(update(Outbox).where(Outbox.id.in_(row_ids), Outbox.status == "pending")
               .values(not_before=resume))


def conversation_of(key: str) -> int | None:
    """The conversation a turn's outbox key names (``conv:<id>:v<version>:<index>``)."""
    kind, _, rest = key.partition(":")
    head = rest.partition(":")[0]
    return int(head) if kind == "conv" and head.isdigit() else None


def plan_session(db: Session, row: LeasedRow | Outbox) -> int | None:
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
