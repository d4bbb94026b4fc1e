"""Teams conversation references (the chats a proactive message may continue). Never
commits: the caller's transaction does.

A reference is kept per (tenant, conversation): installed again or written to again, it
is replaced (the service URL of a tenant can move); uninstalled, it is removed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, bindparam, delete, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.models import Person, TeamsConversation
from storage.tenancy import org_of_request

PERSONAL = "personal"
_chats = cast(Table, TeamsConversation.__table__)
_people = cast(Table, Person.__table__)


def _upsert(make: Callable[[Table], Any]) -> Any:
    statement = make(_chats)
    return statement.on_conflict_do_update(
        index_elements=["tenant", "conversation_id"],
        set_={"user_key": statement.excluded.user_key, "scope": statement.excluded.scope,
              "reference": statement.excluded.reference,
              "updated_at": statement.excluded.updated_at})


_REMEMBER = {"postgresql": _upsert(pg_insert), "sqlite": _upsert(sqlite_insert)}
_FORGET = delete(_chats).where(_chats.c.tenant == bindparam("tenant"),
                               _chats.c.conversation_id == bindparam("conversation_id"))
# The recipient's personal chat, by email, among the people of the org the tenant is
# linked to (a person of another tenant's org is never reached through this one).
_PERSONAL_OF = (
    select(_chats.c.reference)
    .select_from(_people.join(_chats, and_(
        _chats.c.user_key == _people.c.teams_user_id,
        _chats.c.tenant == bindparam("tenant"), _chats.c.scope == PERSONAL)))
    .where(_people.c.email == bindparam("email"), _people.c.org_id == org_of_request())
    .order_by(_chats.c.updated_at.desc())
    .limit(1)
)


# Personal chats of a tenant whose user is bound to nobody of the organisation: where the
# app is installed for someone the bot has not identified yet (newest first, a bounded
# number; by ix_teams_conversation_user and the person's unique (org, Teams id)).
UNBOUND_AT_MOST = 1000
_UNBOUND = (
    select(_chats.c.user_key, _chats.c.reference)
    .where(_chats.c.tenant == bindparam("tenant"), _chats.c.scope == PERSONAL,
           _chats.c.user_key != "",
           ~exists().where(_people.c.org_id == bindparam("org"),
                           _people.c.teams_user_id == _chats.c.user_key))
    .order_by(_chats.c.updated_at.desc())
    .limit(UNBOUND_AT_MOST)
)


def remember(conn: Connection, *, tenant: str, conversation_id: str, user_key: str,
             scope: str, reference: Mapping[str, Any], now: datetime) -> None:
    conn.execute(_REMEMBER[conn.dialect.name], {
        "tenant": tenant[:64], "conversation_id": conversation_id[:400],
        "user_key": user_key[:128], "scope": scope[:20], "reference": dict(reference),
        "updated_at": now})


def forget(conn: Connection, *, tenant: str, conversation_id: str) -> int:
    """Remove a conversation's reference (the app was uninstalled there)."""
    return conn.execute(_FORGET, {"tenant": tenant[:64],
                                  "conversation_id": conversation_id[:400]}).rowcount


def personal_of(conn: Connection, tenant: str, email: str) -> dict[str, Any] | None:
    """The reference of the personal chat with the person ``email`` in ``tenant``."""
    found = conn.execute(_PERSONAL_OF, {"tenant": tenant, "platform": "teams",
                                        "email": email.strip().lower()}).scalar()
    return dict(found) if found is not None else None


def unbound_personal(conn: Connection, tenant: str,
                     org_id: int) -> list[tuple[str, dict[str, Any]]]:
    """(user key, reference) of the personal chats in ``tenant`` whose user is bound to no
    person of ``org_id`` (the newest ``UNBOUND_AT_MOST``)."""
    return [(user_key, dict(reference)) for user_key, reference in conn.execute(
        _UNBOUND, {"tenant": tenant, "org": org_id})]
