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
    """An action item the rep owns, shared with them, moves to ``status``; None otherwise
    (a manager-owned item is the manager's to update, METHOD §9)."""
    if status not in ITEM_STATUSES:
        raise ValueError(f"unknown action item status {status!r}")
    item = db.get(ActionItem, item_id)
    if item is None or item.owner_id != rep_id or not item.shared:
        return None
    item.status, item.updated_at = status, now
    return item
