"""Queries about people and reporting lines. Never commits: the turn does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    String,
    Table,
    bindparam,
    exists,
    func,
    select,
    text,
    union,
)
from sqlalchemy import cast as sql_cast
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
# The first "cap" active people of the scope, by name: a leader's tree is walked breadth
# first and the walk stops there (a larger scope is searched instead of listed).
_walk = (select(_people.c.id, _people.c.active).where(_people.c.manager_id == bindparam("boss"))
         .cte("walk", recursive=True))
_walk = _walk.union_all(select(_people.c.id, _people.c.active)
                        .where(_people.c.manager_id == _walk.c.id))
FIRST_OF_SCOPE = {"manager": SCOPE["manager"],
                 "leader": _people.c.id.in_(select(_walk.c.id).where(_walk.c.active.is_(True))
                                            .limit(bindparam("cap")))}
_COACHABLE = {role: select(_people.c.id, _people.c.email, _people.c.name, _people.c.role,
                           _people.c.manager_id)
              .where(scope, _people.c.active.is_(True)).order_by(_people.c.name, _people.c.id)
              .limit(bindparam("cap"))
              for role, scope in FIRST_OF_SCOPE.items()}


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


def manager_coaches(boss: ColumnElement[int], subject: ColumnElement[str]) -> ColumnElement[bool]:
    """``may_coach`` for a manager as an expression, for the turn's first query to carry:
    whether ``boss`` has an active report whose id, written as text, is ``subject`` (a
    conversation's subject column). The same condition as ``_MAY_COACH["manager"]``;
    bounded by the manager's team (``person.manager_id`` is indexed)."""
    report = _people.alias("report")
    return exists().where(report.c.manager_id == boss, report.c.active.is_(True),
                          sql_cast(report.c.id, String) == subject)


def may_coach(conn: Connection, coach_id: int, role: str, rep_id: int) -> bool:
    """METHOD §9, checked on every turn about a rep: is ``rep_id`` (still) an active report
    of this manager, or anywhere below this leader? One query, cost bounded by depth."""
    query = _MAY_COACH.get(role)
    if query is None:
        return False
    return conn.execute(query, {"boss": coach_id, "rep": rep_id}).first() is not None


def coachable(conn: Connection, coach_id: int, role: str, at_most: int) -> list[Coachee]:
    """A manager's reports, a leader's tree, by name: ``at_most`` of them, in one prebuilt
    query whose cost is bounded by ``at_most`` (a larger scope is searched: ``search``)."""
    query = _COACHABLE.get(role)
    if query is None:
        return []
    return [Coachee(*row) for row in conn.execute(query, {"boss": coach_id, "cap": at_most})]


# Searching a large scope (a VP's 11,000 people): by the start of a name or an email, with
# indexes on (org_id, lower(name)) and (org_id, email), compared byte by byte (PostgreSQL's
# pattern operators, SQLite's binary collation), so the database reads the matches in order
# and stops after the few shown. Whether a match is in a leader's tree is walked UP from
# the match (bounded by the tree's depth), never by listing the tree.
TOP = chr(0x10FFFF)  # after every character: lower(ref) || TOP ends the prefix's range


def _in_scope(candidate: Any, role: str) -> Any:
    """``candidate`` (an alias of person) is in the scope of "boss": a manager's report, or
    below a leader, walked up from the candidate, each step a primary-key look-up (a
    scalar subquery: no plan may hash the whole table)."""
    if role == "manager":
        return candidate.c.manager_id == bindparam("boss")
    above = _people.alias(f"above_{candidate.name}")
    up = (select(candidate.c.manager_id.label("id")).correlate(candidate)
          .cte(f"up_{candidate.name}", recursive=True, nesting=True))
    up = up.union(select(select(above.c.manager_id).where(above.c.id == up.c.id)
                         .scalar_subquery()).where(up.c.id.is_not(None)))
    return exists(select(up.c.id).where(up.c.id == bindparam("boss")))


def _first_beginning(column: str, dialect: str, role: str) -> Any:
    """Ids of the first "cap" people in scope whose ``column`` (lowered for the name)
    begins with lower(:ref), in the index's order: the database stops after "cap"."""
    candidate = _people.alias(f"by_{column}")
    key = func.lower(candidate.c.name) if column == "name" else candidate.c.email
    low = func.lower(bindparam("ref"))
    high = low.op("||")(bindparam("top"))
    org = select(_people.c.org_id).where(_people.c.id == bindparam("boss")).scalar_subquery()
    query = select(candidate.c.id).where(candidate.c.org_id == org,
                                         candidate.c.active.is_(True),
                                         _in_scope(candidate, role))
    if dialect == "postgresql":  # byte order, as the text_pattern_ops indexes are sorted
        order = "lower(by_name.name)" if column == "name" else "by_email.email"
        query = query.where(key.op("~>=~", is_comparison=True)(low),
                            key.op("~<~", is_comparison=True)(high)).order_by(
            text(f"{order} USING ~<~"))
    else:  # SQLite compares bytes
        query = query.where(key >= low, key < high).order_by(key)
    return query.limit(bindparam("cap")).subquery()


def matching(dialect: str, role: str) -> CompoundSelect[Any]:
    """Ids of the active people in ``role``'s scope of "boss" whose name or email begins
    with "ref": at most "cap" of each, the first in name and in email order."""
    by_name = _first_beginning("name", dialect, role)
    by_email = _first_beginning("email", dialect, role)
    return select(by_name.c.id).union(select(by_email.c.id))


_SEARCH = {(dialect, role): select(_people.c.id, _people.c.email, _people.c.name,
                                   _people.c.role, _people.c.manager_id)
           .where(_people.c.id.in_(matching(dialect, role))).order_by(_people.c.name,
                                                                       _people.c.id)
           for dialect in ("sqlite", "postgresql") for role in SCOPE}


def search_terms(ref: str, at_most: int) -> dict[str, Any]:
    """The parameters of a search for ``ref`` (the start of a name or an email)."""
    wanted = ref.strip().lstrip("@").replace("\x00", "")[:200]
    return {"ref": wanted, "top": TOP, "cap": at_most}


def search(conn: Connection, coach_id: int, role: str, ref: str,
           at_most: int) -> list[Coachee]:
    """Whom ``coach_id`` may coach whose name or email begins with ``ref`` (any case), by
    name: at most ``at_most`` of each kind of match, in one query bounded by them."""
    query = _SEARCH.get((conn.dialect.name, role))
    if query is None or not search_terms(ref, at_most)["ref"]:
        return []
    params = {"boss": coach_id, **search_terms(ref, at_most)}
    return [Coachee(*row) for row in conn.execute(query, params)]


def exact_first[P: Named](found: Sequence[P], ref: str) -> list[P]:
    """Of the people a search found, those whose email or whole name is ``ref``, if any;
    else all of them."""
    wanted = ref.strip().lstrip("@").casefold()
    exact = [p for p in found if wanted in (p.email.casefold(), p.name.casefold())]
    return exact or list(found)


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
