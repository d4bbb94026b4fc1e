"""Conversation state rows, guarded by a version number, and the transition log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.orm import Session, aliased

from storage.models import Conversation, Person, TransitionLog


class StaleConversation(Exception):
    """Another turn changed this conversation first."""


_active = aliased(Conversation)
_BY_COLUMN = {"slack": Person.slack_user_id, "teams": Person.teams_user_id}
# Built once: a turn's first query finds the person and their active conversation together.
_TURN_QUERIES = {
    platform: (
        select(Person, _active)
        .outerjoin(_active, and_(
            _active.person_id == Person.id, _active.platform == bindparam("platform"),
            _active.tenant == bindparam("tenant"), _active.user_key == bindparam("user_key"),
            _active.status == "active"))
        .where(column == bindparam("user_key"))
        .order_by(_active.updated_at.desc(), _active.id.desc())
        .limit(1)
    )
    for platform, column in (*_BY_COLUMN.items(), ("email", Person.email))
}
_LOG = insert(TransitionLog)


def load_turn(
    db: Session, platform: str, tenant: str, user_key: str
) -> tuple[Person | None, Conversation | None]:
    """The person behind ``user_key`` and their active conversation, in one query."""
    query = _TURN_QUERIES.get(platform, _TURN_QUERIES["email"])
    key = user_key if platform in _BY_COLUMN else user_key.strip().lower()
    row = db.execute(query, {"platform": platform, "tenant": tenant, "user_key": key}).first()
    if row is None:
        return None, None
    return row[0], row[1]


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
    db.execute(_LOG, [{
        "conversation_id": conversation_id, "person_id": person_id, "at": at, "flow": flow,
        "from_step": from_step, "to_step": to_step, "event": event, "version": version,
        "detail": detail,
    }])
