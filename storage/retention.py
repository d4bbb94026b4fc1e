"""The retention job: free text older than the playbook's ``retention`` is cleared, each
run of the due work (bot/rhythm/due.py). Never commits: the caller's transaction does.

What goes, and what stays:

- ``checkin_text_days``, counted from the answer: a check-in's ``blockers`` and
  ``action_updates`` (statuses and notes; the action items keep their own status), and
  the ended check-in conversations (their state holds the same answers);
- ``notes_days``: private notes (from when written), action-item notes (from the item's
  last change), and the other ended conversations (the forms' answers they still hold).

The status, dates and numbers of every row stay, so no figure changes. Each statement
reads by a partial index of the rows still holding text past the cutoff
(migration 0015_privsec): a run after the last one reads only what expired since."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Table,
    and_,
    delete,
    literal_column,
    null,
    or_,
    select,
    update,
)

from flows.playbook import RetentionSettings
from storage import audit
from storage.models import (
    ActionItem,
    Checkin,
    CheckinBlocker,
    Conversation,
    PrivateNote,
    TransitionLog,
)

CHECKIN_FLOW = "checkin"


def _t(model: Any) -> Table:
    return cast(Table, model.__table__)


def apply(conn: Connection, settings: RetentionSettings, now: datetime) -> Counter[str]:
    """Clear what is past its retention at ``now``; the rows changed, by table. Anything
    cleared is recorded in the audit log (the scheduler's act)."""
    cleared: Counter[str] = Counter()
    if settings.checkin_text_days is not None:
        cutoff = now - timedelta(days=settings.checkin_text_days)
        c = _t(Checkin).c
        with_text = (c.answered_at < cutoff,
                     or_(c.blockers.is_not(None), c.action_updates.is_not(None)))
        quotes = _t(CheckinBlocker).c  # the model's tags stay (the digest counts them)
        cleared["checkin_blocker"] += conn.execute(
            update(_t(CheckinBlocker))
            .where(quotes.checkin_id.in_(select(c.id).where(*with_text)), quotes.quote != "")
            .values(quote="")).rowcount
        cleared["checkin"] += conn.execute(
            update(_t(Checkin))
            .where(c.answered_at < cutoff,
                   or_(c.blockers.is_not(None), c.action_updates.is_not(None)))
            .values(blockers=None, action_updates=null())).rowcount
        cleared["conversation"] += _drop_ended(conn, cutoff, checkin=True)
    if settings.notes_days is not None:
        cutoff = now - timedelta(days=settings.notes_days)
        notes, items = _t(PrivateNote).c, _t(ActionItem).c
        cleared["private_note"] += conn.execute(
            delete(_t(PrivateNote)).where(notes.created_at < cutoff)).rowcount
        cleared["action_item"] += conn.execute(
            update(_t(ActionItem)).where(items.note.is_not(None), items.updated_at < cutoff)
            .values(note=None)).rowcount
        cleared["conversation"] += _drop_ended(conn, cutoff, checkin=False)
    cleared = +cleared  # drop the zeros
    if cleared:
        audit.record(conn, at=now, actor=audit.SCHEDULER, action="retention.apply",
                     detail={str(table): n for table, n in sorted(cleared.items())})
    return cleared


def _drop_ended(conn: Connection, cutoff: datetime, *, checkin: bool) -> int:
    """Delete the ended conversations (check-ins, or every other flow) last touched before
    ``cutoff``; their transition logs stay, no longer pointing at them."""
    k, log = _t(Conversation).c, _t(TransitionLog).c
    flow = k.flow == CHECKIN_FLOW if checkin else k.flow != CHECKIN_FLOW
    # The literal, not a bound parameter: SQLite uses a partial index only when the query
    # spells out its condition (status = 'ended').
    ended = k.status == literal_column("'ended'")
    expired = select(k.id).where(and_(ended, k.updated_at < cutoff, flow))
    conn.execute(update(_t(TransitionLog)).where(log.conversation_id.in_(expired))
                 .values(conversation_id=None))
    return int(conn.execute(delete(_t(Conversation)).where(k.id.in_(expired))).rowcount)
