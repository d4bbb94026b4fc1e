"""Conversation state rows, guarded by a version number, and the transition log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import Conversation, TransitionLog


class StaleConversation(Exception):
    """Another turn changed this conversation first."""


def find(
    db: Session, platform: str, tenant: str, user_key: str, flow: str, subject: str
) -> Conversation | None:
    return db.scalar(select(Conversation).where(
        Conversation.platform == platform, Conversation.tenant == tenant,
        Conversation.user_key == user_key, Conversation.flow == flow,
        Conversation.subject == subject,
    ))


def current(db: Session, platform: str, tenant: str, user_key: str,
            statuses: tuple[str, ...] = ("active",)) -> Conversation | None:
    """The user's most recently touched conversation in one of ``statuses``."""
    return db.scalar(
        select(Conversation)
        .where(Conversation.platform == platform, Conversation.tenant == tenant,
               Conversation.user_key == user_key, Conversation.status.in_(statuses))
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(1)
    )


def open_for(db: Session, platform: str, tenant: str, user_key: str) -> list[Conversation]:
    return list(db.scalars(
        select(Conversation)
        .where(Conversation.platform == platform, Conversation.tenant == tenant,
               Conversation.user_key == user_key, Conversation.status != "ended")
        .order_by(Conversation.updated_at.desc())
    ))


def save(db: Session, row: Conversation, *, state: dict[str, Any], status: str,
         now: datetime) -> int:
    """Write new state if nobody else did since we read ``row.version``; return the version."""
    if row.id is None:
        row.state, row.status, row.version, row.updated_at = state, status, 1, now
        db.add(row)
        db.flush()
        return 1
    result = db.execute(
        update(Conversation)
        .where(Conversation.id == row.id, Conversation.version == row.version)
        .values(state=state, status=status, version=row.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleConversation(f"conversation {row.id} changed since version {row.version}")
    return row.version + 1


def log(db: Session, *, at: datetime, flow: str, event: str, conversation_id: int | None = None,
        person_id: int | None = None, from_step: str | None = None, to_step: str | None = None,
        version: int | None = None, detail: dict[str, Any] | None = None) -> None:
    db.add(TransitionLog(
        conversation_id=conversation_id, person_id=person_id, at=at, flow=flow,
        from_step=from_step, to_step=to_step, event=event, version=version, detail=detail,
    ))
