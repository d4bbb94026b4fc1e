"""Queries about people and reporting lines. Never commits: the turn does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from sqlalchemy import Connection, Table, bindparam, func, select, union
from sqlalchemy.orm import Session

from storage.models import DEFAULT_ORG, Person
from storage.tenancy import LINKED_PLATFORMS, org_of_request

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
_below = (select(_people.c.id).where(_people.c.manager_id == bindparam("boss"))
          .cte("below", recursive=True))
_below = _below.union_all(select(_people.c.id).where(_people.c.manager_id == _below.c.id))
# METHOD §9, the one definition: whom a manager or a leader (bound as "boss") may coach.
SCOPE = {"manager": _people.c.manager_id == bindparam("boss"),
         "leader": _people.c.id.in_(select(_below.c.id))}
_COACHABLE = {role: select(_people.c.id, _people.c.email, _people.c.name, _people.c.role,
                           _people.c.manager_id)
              .where(scope, _people.c.active.is_(True)).order_by(_people.c.name)
              for role, scope in SCOPE.items()}


# Walk UP from the rep (bounded by the tree's depth, not its size): the rep's managers.
# UNION, not UNION ALL: a reporting-line cycle written behind the import's back ends the walk.
_above = (select(_people.c.manager_id.label("id")).where(_people.c.id == bindparam("rep"))
          .cte("above", recursive=True))
_above = _above.union(select(_people.c.manager_id).where(_people.c.id == _above.c.id,
                                                               _people.c.manager_id.is_not(None)))
_ACTIVE_REP = select(_people.c.id).where(_people.c.id == bindparam("rep"),
                                         _people.c.active.is_(True))
_MAY_COACH = {
    "manager": _ACTIVE_REP.where(_people.c.manager_id == bindparam("boss")),
    "leader": _ACTIVE_REP.where(bindparam("boss").in_(select(_above.c.id))),
}


def may_coach(conn: Connection, coach_id: int, role: str, rep_id: int) -> bool:
    """METHOD §9, checked on every turn about a rep: is ``rep_id`` (still) an active report
    of this manager, or anywhere below this leader? One query, cost bounded by depth."""
    query = _MAY_COACH.get(role)
    if query is None:
        return False
    return conn.execute(query, {"boss": coach_id, "rep": rep_id}).first() is not None


def coachable(conn: Connection, coach_id: int, role: str) -> list[Coachee]:
    """A manager's reports, a leader's whole tree, in one prebuilt query."""
    query = _COACHABLE.get(role)
    if query is None:
        return []
    return [Coachee(*row) for row in conn.execute(query, {"boss": coach_id})]


def by_email(db: Session, email: str, org_id: int) -> Person | None:
    """The person of ``org_id`` with this email (emails are unique per org, not globally)."""
    return db.scalar(select(Person).where(Person.org_id == org_id,
                                          Person.email == email.strip().lower()))


def by_platform_id(db: Session, platform: str, tenant: str, user_id: str) -> Person | None:
    """The person behind a platform user id, looked up only in the org that the request's
    workspace (``tenant``) is linked to: an unlinked workspace finds nobody."""
    column = {"slack": Person.slack_user_id, "teams": Person.teams_user_id}.get(platform)
    if column is None or platform not in LINKED_PLATFORMS:
        return by_email(db, user_id, DEFAULT_ORG)
    return db.scalar(select(Person).where(column == user_id, Person.org_id == org_of_request()),
                     {"platform": platform, "tenant": tenant})


def bind_if_unbound(person: Person, platform: str, user_id: str | None) -> None:
    """Store the person's ``platform`` user id, unless they have one there already (a
    platform without ids of its own, such as the console, binds nothing)."""
    if not user_id:
        return
    if platform == "slack" and person.slack_user_id is None:
        person.slack_user_id = user_id
    elif platform == "teams" and person.teams_user_id is None:
        person.teams_user_id = user_id


def bound_platforms(conn: Connection, email: str, org_id: int) -> list[str]:
    """The platforms the person of ``org_id`` with this email is bound to (has a user id
    on), in a fixed order; empty when nobody has the email or they are bound nowhere."""
    row = conn.execute(select(Person.slack_user_id, Person.teams_user_id).where(
        Person.org_id == org_id, Person.email == email.strip().lower())).first()
    if row is None:
        return []
    return [platform for platform, user_id in zip(("slack", "teams"), row, strict=True)
            if user_id]


def coachable_by(db: Session, coach: Person) -> list[Person]:
    """METHOD §9: a manager coaches their reports; a leader anyone in their tree."""
    if coach.role not in SCOPE:
        return []
    query = select(Person).where(SCOPE[coach.role], Person.active.is_(True)).order_by(Person.name)
    return list(db.scalars(query, {"boss": coach.id}))


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


def names_around(conn: Connection, person_id: int, subject_id: int | None) -> list[str]:
    """The names a manager is likely to type about a rep: the manager, their own manager,
    their reports, and the rep's team (one level, by the manager_id index), for redacting
    before anything is sent to a language model. Two indexed reads (primary key, then the
    ids and the manager_id index), never the whole table."""
    ids = {person_id} | ({subject_id} if subject_id is not None else set())
    managers = {m for (m,) in conn.execute(
        select(Person.manager_id).where(Person.id.in_(ids))) if m is not None}
    around = sorted(ids | managers)
    rows = conn.execute(union(select(Person.name).where(Person.id.in_(around)),
                              select(Person.name).where(Person.manager_id.in_(around))))
    return sorted({str(name) for (name,) in rows if name})
