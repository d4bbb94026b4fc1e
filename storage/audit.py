"""The audit log of administrative acts (imports, workspace links, privacy exports and
deletions, key rotations, escalation reassignments, retention runs). Never commits: the
act's own transaction does, so an act and its audit row are stored together or not at all.

A subject is named by id ("person:12"), never by email or name: the log keeps no
personal data of its own, and a person's deletion leaves it intact."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select
from sqlalchemy.orm import Session

from storage.models import AuditEvent

_events = cast(Table, AuditEvent.__table__)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: a label ("cli:alice", "person:12", "scheduler") and the person, if one."""

    label: str
    person_id: int | None = None

    @classmethod
    def person(cls, person_id: int) -> Actor:
        return cls(f"person:{person_id}", person_id)


SCHEDULER = Actor("scheduler")
SYSTEM = Actor("system")


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime
    org_id: int | None
    actor: str
    actor_id: int | None
    action: str
    subject: str | None
    detail: Mapping[str, Any] | None


def _on(db: Connection | Session) -> Connection:
    return db if isinstance(db, Connection) else db.connection()


def record(db: Connection | Session, *, at: datetime, actor: Actor, action: str,
           subject: str | None = None, org_id: int | None = None,
           detail: Mapping[str, Any] | None = None) -> None:
    _on(db).execute(insert(_events).values(
        at=at, org_id=org_id, actor=actor.label[:200], actor_id=actor.person_id,
        action=action[:40], subject=subject[:200] if subject else None,
        detail=dict(detail) if detail is not None else None))


def recent(db: Connection | Session, limit: int, org_id: int | None = None) -> Sequence[Entry]:
    """The latest ``limit`` acts, newest first (by the index on ``at``)."""
    query = select(_events).order_by(_events.c.at.desc(), _events.c.id.desc()).limit(limit)
    if org_id is not None:
        query = query.where(_events.c.org_id == org_id)
    rows = _on(db).execute(query).mappings()
    return [Entry(**{k: v for k, v in row.items() if k != "id"}) for row in rows]
