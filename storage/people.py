"""Queries about people and reporting lines. Never commits: the turn does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from sqlalchemy import Connection, Table, bindparam, func, select
from sqlalchemy.orm import Session

from storage.models import Person

COACHING_ROLES = ("manager", "leader")


@dataclass(frozen=True, slots=True)
class Coachee:
    """Someone a coach may coach, as the /coach turn needs them (no ORM object)."""

    id: int
    email: str
    name: str
    role: str
    manager_id: int | None


_people = cast(Table, Person.__table__)
_COACHEE = (_people.c.id, _people.c.email, _people.c.name, _people.c.role,
            _people.c.manager_id)
_REPORTS = (select(*_COACHEE)
            .where(_people.c.manager_id == bindparam("boss"), _people.c.active.is_(True))
            .order_by(_people.c.name))
_below = (select(_people.c.id).where(_people.c.manager_id == bindparam("boss"))
          .cte("below", recursive=True))
_below = _below.union_all(select(_people.c.id).where(_people.c.manager_id == _below.c.id))
_TREE = (select(*_COACHEE)
         .where(_people.c.id.in_(select(_below.c.id)), _people.c.active.is_(True))
         .order_by(_people.c.name))


def coachable(conn: Connection, coach_id: int, role: str) -> list[Coachee]:
    """METHOD §9 in one prebuilt query: a manager's reports, a leader's whole tree."""
    query = _TREE if role == "leader" else _REPORTS if role == "manager" else None
    if query is None:
        return []
    return [Coachee(*row) for row in conn.execute(query, {"boss": coach_id})]


def reports(conn: Connection, manager_id: int) -> list[Coachee]:
    """A manager's active direct reports, by name."""
    return [Coachee(*row) for row in conn.execute(_REPORTS, {"boss": manager_id})]


def by_email(db: Session, email: str) -> Person | None:
    return db.scalar(select(Person).where(Person.email == email.strip().lower()))


def by_platform_id(db: Session, platform: str, user_id: str) -> Person | None:
    column = {"slack": Person.slack_user_id, "teams": Person.teams_user_id}.get(platform)
    if column is None:
        return by_email(db, user_id)
    return db.scalar(select(Person).where(column == user_id))


def reports_of(db: Session, manager_id: int) -> list[Person]:
    query = select(Person).where(Person.manager_id == manager_id, Person.active.is_(True))
    return list(db.scalars(query.order_by(Person.name)))


def tree_of(db: Session, leader_id: int) -> list[Person]:
    """Everyone below ``leader_id`` (any depth), by a recursive query."""
    below = select(Person.id).where(Person.manager_id == leader_id).cte(recursive=True)
    below = below.union_all(select(Person.id).where(Person.manager_id == below.c.id))
    query = select(Person).where(Person.id.in_(select(below.c.id)), Person.active.is_(True))
    return list(db.scalars(query.order_by(Person.name)))


def coachable_by(db: Session, coach: Person) -> list[Person]:
    """METHOD §9: a manager coaches their reports; a leader anyone in their tree."""
    if coach.role == "leader":
        return tree_of(db, coach.id)
    if coach.role == "manager":
        return reports_of(db, coach.id)
    return []


def leader_above(db: Session, person: Person) -> Person | None:
    """The nearest leader up the line (the owner of an escalation)."""
    seen: set[int] = set()
    current = person
    while current.manager_id is not None and current.manager_id not in seen:
        seen.add(current.manager_id)
        manager = db.get(Person, current.manager_id)
        if manager is None:
            return None
        if manager.role == "leader":
            return manager
        current = manager
    return None


class Named(Protocol):
    @property
    def email(self) -> str: ...
    @property
    def name(self) -> str: ...


def find[P: Named](among: Sequence[P], ref: str) -> list[P]:
    """People in ``among`` matching an email, a full name or a name prefix (no query)."""
    wanted = ref.strip().lstrip("@").casefold()
    exact = [p for p in among if wanted in (p.email.casefold(), p.name.casefold())]
    if exact:
        return exact
    return [p for p in among
            if any(part.startswith(wanted) for part in p.name.casefold().split())
            or p.name.casefold().startswith(wanted)]


def count(db: Session) -> int:
    return db.scalar(select(func.count(Person.id))) or 0
