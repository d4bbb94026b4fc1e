"""What a rep records outside a flow: acknowledging a plan, marking an action item."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from storage.models import ActionItem, CoachingSession

ITEM_STATUSES = ("done", "blocked", "in_progress")


def acknowledge_plan(db: Session, session_id: int, rep_id: int, now: datetime) -> bool:
    """Record that the rep saw their action plan; only the session's rep may, once."""
    session = db.get(CoachingSession, session_id)
    if session is None or session.rep_id != rep_id:
        return False
    if session.rep_acknowledged_at is None:
        session.rep_acknowledged_at = now
    return True


def set_item_status(db: Session, item_id: int, rep_id: int, status: str,
                    now: datetime) -> ActionItem | None:
    """The rep's own action item (or one they own) moves to ``status``; None if not theirs."""
    if status not in ITEM_STATUSES:
        raise ValueError(f"unknown action item status {status!r}")
    item = db.get(ActionItem, item_id)
    if item is None or rep_id not in (item.rep_id, item.owner_id):
        return None
    item.status, item.updated_at = status, now
    return item
