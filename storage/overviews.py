"""What the App Home shows: plain read-only summaries per role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Table,
    bindparam,
    case,
    distinct,
    exists,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.orm import Session

from storage import people
from storage.coaching import FINISHED, OPEN_ACTION
from storage.models import (
    ActionItem,
    Cadence,
    CadenceOccurrence,
    Checkin,
    CoachingSession,
    Escalation,
    Person,
)


@dataclass(frozen=True, slots=True)
class RepLine:
    id: int
    name: str
    email: str
    open_actions: int
    overdue_actions: int
    last_session: date | None
    session_open: bool


@dataclass(frozen=True, slots=True)
class Meeting:
    meeting_type: str
    subject: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    description: str
    due: date
    status: str
    overdue: bool
    owned: bool = True  # the rep's own: they may mark it done or blocked


@dataclass(frozen=True, slots=True)
class TreeFigures:
    reps: int
    reps_coached: int
    sessions: int
    open_actions: int
    overdue_actions: int
    open_escalations: int


_people = cast(Table, Person.__table__)
_sessions = cast(Table, CoachingSession.__table__)
_actions = cast(Table, ActionItem.__table__)
_escalations = cast(Table, Escalation.__table__)


def _open_actions(rep: Any, overdue: bool = False) -> Any:
    query = select(func.count()).select_from(_actions).where(
        _actions.c.rep_id == rep, _actions.c.status.in_(OPEN_ACTION))
    if overdue:
        query = query.where(_actions.c.due_date < bindparam("today"))
    return query.scalar_subquery()


# A manager's reports with their figures, in one query whatever the team's size (each
# figure is an indexed look-up of that report's rows).
_REP_LINES = (
    select(_people.c.id, _people.c.name, _people.c.email,
           _open_actions(_people.c.id).label("open_actions"),
           _open_actions(_people.c.id, overdue=True).label("overdue_actions"),
           select(func.max(_sessions.c.ended_at))
           .where(_sessions.c.rep_id == _people.c.id, _sessions.c.status.in_(FINISHED))
           .scalar_subquery().label("last_session"),
           exists().where(_sessions.c.rep_id == _people.c.id,
                          _sessions.c.manager_id == bindparam("boss"),
                          _sessions.c.status == "open").label("session_open"))
    .where(people.SCOPE["manager"], _people.c.active.is_(True))
    .order_by(_people.c.name, _people.c.id)
)


def rep_lines(db: Session, manager: Person, today: date) -> list[RepLine]:
    """The manager's active reports with their open and overdue actions, last finished
    session and whether a session with this manager is open: one query."""
    rows = db.execute(_REP_LINES, {"boss": manager.id, "today": today})
    return [RepLine(r.id, r.name, r.email, r.open_actions, r.overdue_actions,
                    _utc(r.last_session).date() if r.last_session else None,
                    bool(r.session_open)) for r in rows]


def _utc(value: datetime | str) -> datetime:
    """A max() of a timestamp comes back untyped on SQLite (text)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def next_meetings(db: Session, owner: Person, now: datetime, limit: int = 5) -> list[Meeting]:
    rows = db.execute(
        select(Cadence.meeting_type, Person.name, CadenceOccurrence.scheduled_for)
        .join(Cadence, CadenceOccurrence.cadence_id == Cadence.id)
        .outerjoin(Person, Cadence.subject_id == Person.id)
        .where(Cadence.owner_id == owner.id, Cadence.active.is_(True),
               CadenceOccurrence.status == "planned", CadenceOccurrence.scheduled_for >= now)
        .order_by(CadenceOccurrence.scheduled_for, Person.name).limit(limit)).all()
    return [Meeting(kind, name, at) for kind, name, at in rows]


def rep_items(db: Session, rep: Person, today: date) -> list[Item]:
    """The open action items shared with the rep: their own, and any the manager shared."""
    rows = db.scalars(select(ActionItem)
                      .where(ActionItem.status.in_(OPEN_ACTION), ActionItem.shared.is_(True),
                             (ActionItem.rep_id == rep.id) | (ActionItem.owner_id == rep.id))
                      .order_by(ActionItem.due_date, ActionItem.id)).all()
    return [Item(a.id, a.description, a.due_date, a.status, a.due_date < today,
                 a.owner_id == rep.id) for a in rows]


def checkin_status(db: Session, rep: Person, week_start: date) -> str | None:
    return db.scalar(select(Checkin.status).where(Checkin.person_id == rep.id,
                                                  Checkin.period_start == week_start))


# A leader's (or the VP's) whole tree, counted in the database: one statement of a few
# set-based aggregates over the reporting tree (a recursive CTE), whatever its size; the
# digest reads the same figures. Each aggregate joins the tree's reps to the rows that are
# current — sessions of the window, open action items, through the partial indexes
# ix_coaching_session_completed_ended and ix_action_item_open — never to the history: for
# the VP, hash joins of 10,000 reps to the open items (about 40 ms at the full size on
# PostgreSQL instead of 10,000 × 4 correlated look-ups, ~0.5 s); for a small tree the
# planner may still look up rep by rep. The statuses are literals, so that SQLite can
# prove a query's WHERE implies a partial index's.
_tree = (select(_people.c.id).where(_people.c.manager_id == bindparam("boss"))
         .cte("tree", recursive=True))
_tree = _tree.union_all(select(_people.c.id).where(_people.c.manager_id == _tree.c.id))
_reps = (select(_people.c.id).where(_people.c.id.in_(select(_tree.c.id)),
                                    _people.c.active.is_(True), _people.c.role == "rep")
         .cte("reps"))
OPEN_ACTION_SQL = _actions.c.status.in_([literal_column(f"'{s}'") for s in OPEN_ACTION])
COMPLETED_SQL = _sessions.c.status == literal_column("'completed'")
_reps_counted = select(func.count().label("reps")).select_from(_reps).subquery()
_coached = (select(func.count().label("sessions"),
                   func.count(distinct(_sessions.c.rep_id)).label("reps_coached"))
            .select_from(_sessions.join(_reps, _sessions.c.rep_id == _reps.c.id))
            .where(COMPLETED_SQL, _sessions.c.ended_at >= bindparam("since"))
            .subquery())
_open = (select(func.count().label("open_actions"),
                func.count(case((_actions.c.due_date < bindparam("today"), 1)))
                .label("overdue_actions"))
         .select_from(_actions.join(_reps, _actions.c.rep_id == _reps.c.id))
         .where(OPEN_ACTION_SQL)
         .subquery())
_TREE_FIGURES = select(
    _reps_counted.c.reps, _coached.c.reps_coached, _coached.c.sessions,
    _open.c.open_actions, _open.c.overdue_actions,
    select(func.count()).select_from(_escalations)
    .where(_escalations.c.owner_id == bindparam("boss"), _escalations.c.status == "open")
    .scalar_subquery().label("open_escalations"),
).select_from(_reps_counted.join(_coached, true()).join(_open, true()))


def tree_figures(db: Session, leader: Person, now: datetime, window_days: int) -> TreeFigures:
    """The tree's active reps, those coached (and the sessions) in the window, their open
    and overdue actions, and the leader's open escalations: one query."""
    row = db.execute(_TREE_FIGURES, {"boss": leader.id, "since": now - timedelta(days=window_days),
                                     "today": now.date()}).one()
    return TreeFigures(row.reps, row.reps_coached, int(row.sessions), int(row.open_actions),
                       int(row.overdue_actions), row.open_escalations)
