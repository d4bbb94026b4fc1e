"""Whose modal a Slack view id is: recorded when we open it, checked before an update.

Slack's interaction payload carries the view but not whose it is; a button may only
change the view of the user who clicks it (defence in depth against forged payloads).
A person's latest one is where a model's late answer is shown (``latest``); one they
closed is forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import SlackView

KEPT = timedelta(days=7)  # a modal left open longer than this is refused, then reopened

# Every /coach records its modal and every click checks one: prebuilt Core statements,
# no ORM objects (hot path).
_views = cast(Table, SlackView.__table__)
_PRUNE = delete(_views).where(_views.c.opened_at < bindparam("before"))
_OWNER = select(_views.c.tenant, _views.c.user_key).where(
    _views.c.view_id == bindparam("view_id"), _views.c.opened_at >= bindparam("since"))
# By ix_slack_view_user (tenant, user_key, opened_at): the newest first, one row.
_LATEST = (select(_views.c.view_id)
           .where(_views.c.tenant == bindparam("tenant"), _views.c.user_key == bindparam("user"),
                  _views.c.opened_at >= bindparam("since"))
           .order_by(_views.c.opened_at.desc()).limit(1))
_FORGET = delete(_views).where(_views.c.view_id == bindparam("view_id"))


def _upsert(make: Callable[[Table], Any]) -> Any:
    statement = make(_views)
    return statement.on_conflict_do_update(
        index_elements=["view_id"],
        set_={"tenant": statement.excluded.tenant, "user_key": statement.excluded.user_key,
              "opened_at": statement.excluded.opened_at})


_REMEMBER = {"postgresql": _upsert(pg_insert), "sqlite": _upsert(sqlite_insert)}


def _on(db: Connection | Session) -> Connection:
    return db if isinstance(db, Connection) else db.connection()


def remember(db: Connection | Session, view_id: str, tenant: str, user_key: str,
             now: datetime) -> None:
    """Record (or move) the owner of a view we opened."""
    conn = _on(db)
    conn.execute(_REMEMBER[conn.dialect.name], {"view_id": view_id, "tenant": tenant,
                                                "user_key": user_key, "opened_at": now})


def prune(db: Connection | Session, now: datetime) -> int:
    """Forget views opened longer than ``KEPT`` ago (``owner`` refuses them anyway)."""
    return _on(db).execute(_PRUNE, {"before": now - KEPT}).rowcount


def owner(db: Connection | Session, view_id: str, now: datetime) -> tuple[str, str] | None:
    """(tenant, user) who the view was opened for; None: not a view we opened, or one
    opened longer than ``KEPT`` ago."""
    row = _on(db).execute(_OWNER, {"view_id": view_id, "since": now - KEPT}).first()
    return None if row is None else (row.tenant, row.user_key)


def latest(db: Connection | Session, tenant: str, user_key: str, now: datetime) -> str | None:
    """The newest view we opened for this person (not closed, not older than ``KEPT``)."""
    return _on(db).execute(_LATEST, {"tenant": tenant, "user": user_key,
                                     "since": now - KEPT}).scalar()


def forget(db: Connection | Session, view_id: str) -> None:
    """The person closed it (or Slack no longer has it)."""
    _on(db).execute(_FORGET, {"view_id": view_id})
