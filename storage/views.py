"""Whose modal a Slack view id is: recorded when we open it, checked before an update.

Slack's interaction payload carries the view but not whose it is; a button may only
change the view of the user who clicks it (defence in depth against forged payloads).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import SlackView

KEPT = timedelta(days=7)  # a modal left open longer than this is refused, then reopened


def remember(db: Session, view_id: str, tenant: str, user_key: str, now: datetime) -> None:
    db.execute(delete(SlackView).where(SlackView.opened_at < now - KEPT))
    db.merge(SlackView(view_id=view_id, tenant=tenant, user_key=user_key, opened_at=now))


def owner(db: Session, view_id: str) -> tuple[str, str] | None:
    """(tenant, user) who the view was opened for; None: not a view we opened."""
    row = db.scalar(select(SlackView).where(SlackView.view_id == view_id))
    return None if row is None else (row.tenant, row.user_key)
