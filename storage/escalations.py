"""The escalation inbox: an owner's open and acknowledged escalations, and what the owner
(or anyone above them in the reporting tree) may do with one: acknowledge it, resolve
it with a note, or hand it to another manager or leader of the organisation. Every
change is one conditional UPDATE (a double click changes nothing twice) and one audit
row. Never commits: the turn does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import Connection, Table, bindparam, case, func, insert, or_, select, update
from sqlalchemy.orm import aliased

from storage.models import CoachingSession, Escalation, EscalationEvent, Person

OPEN = ("open", "acknowledged")  # still in the owner's inbox (and in every digest)
OWNERS = ("manager", "leader")  # whom an escalation may be handed to

_escalations = cast(Table, Escalation.__table__)
_events = cast(Table, EscalationEvent.__table__)
_people = cast(Table, Person.__table__)
_sessions = cast(Table, CoachingSession.__table__)


@dataclass(frozen=True, slots=True)
class InboxLine:
    """One escalation as its owner sees it (the leaf as its id: the playbook names it)."""

    id: int
    leaf: str
    status: str
    impact: str
    evidence: str
    raised_by: str
    rep: str
    created_at: datetime
    fix_owner: str | None


@dataclass(frozen=True, slots=True)
class Inbox:
    lines: list[InboxLine]  # the first few: open ones first, oldest first
    open: int  # all the owner's open ones
    acknowledged: int

    @property
    def total(self) -> int:
        return self.open + self.acknowledged


@dataclass(frozen=True, slots=True)
class Owned:
    """Whose an escalation is, and where it stands: what an action is checked against."""

    id: int
    owner_id: int | None
    status: str
    leaf: str


Change = Literal["done", "already", "resolved"]


_raiser = aliased(Person, name="raiser")
_rep = aliased(Person, name="rep")
_COLUMNS = (Escalation.id, Escalation.leaf, Escalation.status, Escalation.impact,
            Escalation.evidence, _raiser.name, _rep.name, Escalation.created_at,
            Escalation.fix_owner)


def _lines(*counts: Any) -> Any:
    return (select(*_COLUMNS, *counts)
            .join(_raiser, _raiser.id == Escalation.raised_by_id)
            .join(CoachingSession, CoachingSession.id == Escalation.session_id)
            .join(_rep, _rep.id == CoachingSession.rep_id))


# One statement: the first few lines, and (window counts, taken before the LIMIT) how many
# open and acknowledged ones there are in all.
_INBOX = (_lines(func.sum(case((Escalation.status == "open", 1), else_=0)).over(),
                 func.count().over())
          .where(Escalation.owner_id == bindparam("owner"), Escalation.status.in_(OPEN))
          .order_by(case((Escalation.status == "open", 0), else_=1), Escalation.created_at,
                    Escalation.id)
          .limit(bindparam("limit")))
_ONE = _lines().where(Escalation.id == bindparam("id"))

# Walk UP from the owner (bounded by the tree's depth): the people above them.
_above = (select(_people.c.manager_id.label("id")).where(_people.c.id == bindparam("owner"))
          .cte("above", recursive=True))
_above = _above.union(select(_people.c.manager_id).where(_people.c.id == _above.c.id,
                                                        _people.c.manager_id.is_not(None)))
_IS_ABOVE = select(_above.c.id).where(_above.c.id == bindparam("actor"))


def inbox(conn: Connection, owner_id: int, limit: int) -> Inbox:
    """The owner's open escalations first, then the acknowledged ones, oldest first."""
    rows = conn.execute(_INBOX, {"owner": owner_id, "limit": max(1, limit)}).all()
    if not rows:
        return Inbox([], 0, 0)
    opened, total = int(rows[0][-2]), int(rows[0][-1])
    return Inbox([InboxLine(*row[:-2]) for row in rows[:limit]], opened, total - opened)


def line_of(conn: Connection, escalation_id: int) -> InboxLine | None:
    """One escalation as an inbox shows it (whatever its status)."""
    row = conn.execute(_ONE, {"id": escalation_id}).first()
    return None if row is None else InboxLine(*row)


def owned(conn: Connection, escalation_id: int) -> Owned | None:
    row = conn.execute(select(_escalations.c.id, _escalations.c.owner_id,
                              _escalations.c.status, _escalations.c.leaf)
                       .where(_escalations.c.id == escalation_id)).first()
    return None if row is None else Owned(*row)


def may_act(conn: Connection, actor_id: int, owner_id: int | None) -> bool:
    """METHOD §9: the owner, or someone above the owner in the reporting tree (so never
    anyone of another organisation)."""
    if owner_id is None:
        return False
    if actor_id == owner_id:
        return True
    return conn.execute(_IS_ABOVE, {"owner": owner_id, "actor": actor_id}).first() is not None


def acknowledge(conn: Connection, escalation_id: int, actor_id: int, now: datetime) -> Change:
    done = conn.execute(update(_escalations).where(
        _escalations.c.id == escalation_id, _escalations.c.status == "open")
        .values(status="acknowledged", acknowledged_at=now)).rowcount
    if done:
        _log(conn, escalation_id, "acknowledged", actor_id, now)
        return "done"
    return "resolved" if _status(conn, escalation_id) == "resolved" else "already"


def resolve(conn: Connection, escalation_id: int, actor_id: int, note: str,
            now: datetime) -> Change:
    done = conn.execute(update(_escalations).where(
        _escalations.c.id == escalation_id, _escalations.c.status.in_(OPEN))
        .values(status="resolved", resolved_at=now, resolution=note)).rowcount
    if done:
        _log(conn, escalation_id, "resolved", actor_id, now, note=note)
        return "done"
    return "already"


def reassign(conn: Connection, escalation_id: int, actor_id: int, from_owner: int,
             to_owner: int, now: datetime) -> Change:
    """Hand it to ``to_owner``: open again (the new owner has not seen it yet)."""
    done = conn.execute(update(_escalations).where(
        _escalations.c.id == escalation_id, _escalations.c.status.in_(OPEN),
        _escalations.c.owner_id == from_owner)
        .values(owner_id=to_owner, status="open", acknowledged_at=None)).rowcount
    if done:
        _log(conn, escalation_id, "reassigned", actor_id, now, from_owner=from_owner,
             to_owner=to_owner)
        return "done"
    return "resolved" if _status(conn, escalation_id) == "resolved" else "already"


def new_owners(conn: Connection, org_id: int, ref: str, limit: int,
               besides: int | None = None) -> list[tuple[int, str, str, str]]:
    """Active managers and leaders of the organisation matching ``ref`` (an email, or the
    start of a name or of a word in it; empty: everyone), by name, at most ``limit``:
    (id, email, name, time zone)."""
    wanted = ref.strip().lstrip("@").casefold()
    query = (select(_people.c.id, _people.c.email, _people.c.name, _people.c.timezone)
             .where(_people.c.org_id == org_id, _people.c.active.is_(True),
                    _people.c.role.in_(OWNERS))
             .order_by(_people.c.name, _people.c.id).limit(limit))
    if besides is not None:
        query = query.where(_people.c.id != besides)
    if wanted:
        name = func.lower(_people.c.name)
        pattern = _like_escape(wanted)
        query = query.where(or_(_people.c.email == wanted, name == wanted,
                                name.like(f"{pattern}%", escape="\\"),
                                name.like(f"% {pattern}%", escape="\\")))
    return [(row[0], row[1], row[2], row[3]) for row in conn.execute(query)]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _status(conn: Connection, escalation_id: int) -> str | None:
    return conn.execute(select(_escalations.c.status)
                        .where(_escalations.c.id == escalation_id)).scalar()


_LOG = insert(_events)


def _log(conn: Connection, escalation_id: int, action: str, actor_id: int, now: datetime,
         note: str | None = None, from_owner: int | None = None,
         to_owner: int | None = None) -> None:
    conn.execute(_LOG, {"escalation_id": escalation_id, "action": action, "actor_id": actor_id,
                        "at": now, "note": note, "from_owner_id": from_owner,
                        "to_owner_id": to_owner})
