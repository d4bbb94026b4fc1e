"""Conversation state rows, guarded by a version number, and the transition log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, bindparam, func, insert, select
from sqlalchemy.orm import Session

from storage.models import DEFAULT_ORG, Conversation, Person, TransitionLog
from storage.people import manager_coaches
from storage.tenancy import org_of_request


class StaleConversation(Exception):
    """Another turn changed this conversation first."""


@dataclass(frozen=True, slots=True)
class Speaker:
    """The person behind a turn, as the turn's first query reads them."""

    id: int
    email: str
    name: str
    role: str
    timezone: str


@dataclass(slots=True)
class ActiveConversation:
    """The speaker's active conversation, as the turn's first query reads it."""

    id: int
    version: int
    state: dict[str, Any]
    flow: str
    status: str
    # Only the turn's first query fills these (None: not known, ask the database):
    subject: str | None = None  # the subject column: whom or what it is about
    manager_coaches: bool | None = None  # people.may_coach for a manager speaker and the
    # person whose id is ``subject`` (the runner uses it only when that is the flow's subject)
    also_active: int | None = None  # the user's other active conversations (normally 0)


# Table-level (not ORM) statements, built once: the hot path of every turn.
_people = cast(Table, Person.__table__)
_conversation = cast(Table, Conversation.__table__)
_BY_COLUMN = {"slack": _people.c.slack_user_id, "teams": _people.c.teams_user_id}
# The columns an ActiveConversation is read from, for a query joining a conversation.
ACTIVE_COLUMNS = (_conversation.c.id.label("cid"), _conversation.c.version,
                _conversation.c.state, _conversation.c.flow, _conversation.c.status)
_TURN_QUERIES = {
    platform: (
        select(_people.c.id, _people.c.email, _people.c.name, _people.c.role,
               _people.c.timezone, *ACTIVE_COLUMNS, _conversation.c.subject,
               manager_coaches(_people.c.id, _conversation.c.subject).label("coaches"),
               func.count(_conversation.c.id).over().label("active_count"))
        .select_from(_people.outerjoin(_conversation, and_(
            _conversation.c.person_id == _people.c.id,
            _conversation.c.platform == bindparam("platform"),
            _conversation.c.tenant == bindparam("tenant"),
            _conversation.c.user_key == bindparam("user_key"),
            _conversation.c.status == "active")))
        .where(column == bindparam("user_key"), _people.c.org_id == org)
        .order_by(_conversation.c.updated_at.desc(), _conversation.c.id.desc())
        .limit(1)
    )
    # A platform id is looked up only in the org its workspace is linked to (none: nobody);
    # the console, keyed by email, speaks for the default org.
    for platform, column, org in (*((p, c, org_of_request()) for p, c in _BY_COLUMN.items()),
                                  ("email", _people.c.email, DEFAULT_ORG))
}
_FIND = select(*ACTIVE_COLUMNS).where(
    _conversation.c.platform == bindparam("platform"),
    _conversation.c.tenant == bindparam("tenant"),
    _conversation.c.user_key == bindparam("user_key"),
    _conversation.c.flow == bindparam("flow"), _conversation.c.subject == bindparam("subject"))
_CREATE = insert(_conversation)
_LOG = insert(cast(Table, TransitionLog.__table__))
_PAUSE_OTHERS = (
    _conversation.update()
    .where(_conversation.c.platform == bindparam("of_platform"),
           _conversation.c.tenant == bindparam("of_tenant"),
           _conversation.c.user_key == bindparam("of_user"), _conversation.c.status == "active",
           _conversation.c.id != bindparam("keep"))
    .values(status="paused", version=_conversation.c.version + 1, updated_at=bindparam("now"))
)
_SAVE = (
    _conversation.update()
    .where(_conversation.c.id == bindparam("cid"), _conversation.c.version == bindparam("seen"))
    .values(state=bindparam("state"), status=bindparam("status"),
            version=bindparam("next_version"), updated_at=bindparam("now"))
)


def active_of(row: Any) -> ActiveConversation | None:
    """The conversation in a row selected with ACTIVE_COLUMNS (None: an outer join missed)."""
    if row.cid is None:
        return None
    return ActiveConversation(row.cid, row.version, row.state, row.flow, row.status)


def _on(db: Connection | Session) -> Connection:
    return db if isinstance(db, Connection) else db.connection()


def load_turn(
    conn: Connection, platform: str, tenant: str, user_key: str
) -> tuple[Speaker | None, ActiveConversation | None]:
    """The person behind ``user_key`` (in the org linked to ``tenant``) and their active
    conversation, in one query that also answers what the turn would otherwise ask in
    more round trips: whether a manager speaker may still coach the conversation's
    subject (METHOD §9), and whether other conversations are active too."""
    query = _TURN_QUERIES.get(platform, _TURN_QUERIES["email"])
    key = user_key if platform in _BY_COLUMN else user_key.strip().lower()
    params = {"platform": platform, "tenant": tenant, "user_key": key}
    row = conn.execute(query, params).first()
    if row is None:
        return None, None
    me = Speaker(row.id, row.email, row.name, row.role, row.timezone)
    if row.cid is None:
        return me, None
    return me, ActiveConversation(row.cid, row.version, row.state, row.flow, row.status,
                                  subject=row.subject, manager_coaches=bool(row.coaches),
                                  also_active=int(row.active_count) - 1)


def find(
    conn: Connection, platform: str, tenant: str, user_key: str, flow: str, subject: str
) -> ActiveConversation | None:
    """The user's conversation of this kind about this subject, in any status."""
    row = conn.execute(_FIND, {"platform": platform, "tenant": tenant, "user_key": user_key,
                               "flow": flow, "subject": subject}).first()
    return active_of(row) if row else None


def create(conn: Connection, *, platform: str, tenant: str, user_key: str, flow: str,
           subject: str, person_id: int, state: dict[str, Any], status: str,
           now: datetime) -> ActiveConversation:
    """A new conversation row at version 1."""
    result = conn.execute(_CREATE, {
        "platform": platform, "tenant": tenant, "user_key": user_key, "flow": flow,
        "subject": subject, "person_id": person_id, "state": state, "status": status,
        "version": 1, "updated_at": now})
    key = result.inserted_primary_key
    assert key is not None
    return ActiveConversation(int(key[0]), 1, state, flow, status)


def pause_others(conn: Connection, platform: str, tenant: str, user_key: str, *,
                 keep: int | None, now: datetime) -> int:
    """Pause every active conversation of the user but ``keep`` (one active at a time);
    the version moves on, so a turn that read one of them before is refused as stale."""
    return conn.execute(_PAUSE_OTHERS, {
        "of_platform": platform, "of_tenant": tenant, "of_user": user_key,
        "keep": keep if keep is not None else 0, "now": now}).rowcount  # ids are positive


def open_for(db: Session, platform: str, tenant: str, user_key: str) -> list[Conversation]:
    """The user's conversations not ended, most recently touched first (the id breaks ties,
    so the order never depends on two equal timestamps)."""
    return list(db.scalars(
        select(Conversation)
        .where(Conversation.platform == platform, Conversation.tenant == tenant,
               Conversation.user_key == user_key, Conversation.status != "ended")
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
    ))


def save(db: Connection | Session, row: Conversation | ActiveConversation, *, state: dict[str, Any],
         status: str, now: datetime) -> int:
    """Write new state if nobody else did since we read ``row.version``; return the version."""
    result = _on(db).execute(_SAVE, {"cid": row.id, "seen": row.version, "state": state,
                                "status": status, "next_version": row.version + 1, "now": now})
    if result.rowcount != 1:
        raise StaleConversation(f"conversation {row.id} changed since version {row.version}")
    return row.version + 1


def log(db: Connection | Session, *, at: datetime, flow: str, event: str,
        conversation_id: int | None = None, person_id: int | None = None,
        from_step: str | None = None, to_step: str | None = None,
        version: int | None = None, detail: dict[str, Any] | None = None) -> None:
    _on(db).execute(_LOG, {
        "conversation_id": conversation_id, "person_id": person_id, "at": at, "flow": flow,
        "from_step": from_step, "to_step": to_step, "event": event, "version": version,
        "detail": detail,
    })
