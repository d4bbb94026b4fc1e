"""What the App Home shows: plain read-only summaries per role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
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


def rep_lines(db: Session, manager: Person, today: date) -> list[RepLine]:
    lines: list[RepLine] = []
    for rep in people.reports_of(db, manager.id):
        actions = db.scalars(select(ActionItem).where(ActionItem.rep_id == rep.id,
                                                      ActionItem.status.in_(OPEN_ACTION))).all()
        last = db.scalar(select(func.max(CoachingSession.ended_at)).where(
            CoachingSession.rep_id == rep.id,
            CoachingSession.status.in_(FINISHED)))
        open_id = db.scalar(select(CoachingSession.id).where(
            CoachingSession.rep_id == rep.id, CoachingSession.manager_id == manager.id,
            CoachingSession.status == "open").limit(1))
        lines.append(RepLine(rep.id, rep.name, rep.email, len(actions),
                             sum(1 for a in actions if a.due_date < today),
                             last.date() if last else None, open_id is not None))
    return lines


def next_meetings(db: Session, owner: Person, now: datetime, limit: int = 5) -> list[Meeting]:
    rows = db.execute(
        select(Cadence.meeting_type, Person.name, CadenceOccurrence.scheduled_for)
        .join(Cadence, CadenceOccurrence.cadence_id == Cadence.id)
        .outerjoin(Person, Cadence.subject_id == Person.id)
        .where(Cadence.owner_id == owner.id, Cadence.active.is_(True),
               CadenceOccurrence.status == "planned", CadenceOccurrence.scheduled_for >= now)
        .order_by(CadenceOccurrence.scheduled_for).limit(limit)).all()
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


def tree_figures(db: Session, leader: Person, now: datetime, window_days: int) -> TreeFigures:
    tree = people.tree_of(db, leader.id)
    rep_ids = [p.id for p in tree if p.role == "rep"]
    since = now - timedelta(days=window_days)
    sessions = db.execute(select(CoachingSession.rep_id).where(
        CoachingSession.rep_id.in_(rep_ids), CoachingSession.status == "completed",
        CoachingSession.ended_at >= since)).scalars().all()
    actions = db.scalars(select(ActionItem).where(ActionItem.rep_id.in_(rep_ids),
                                                  ActionItem.status.in_(OPEN_ACTION))).all()
    today = now.date()
    escalations = db.scalar(select(func.count(Escalation.id)).where(
        Escalation.owner_id == leader.id, Escalation.status == "open")) or 0
    return TreeFigures(len(rep_ids), len(set(sessions)), len(sessions), len(actions),
                       sum(1 for a in actions if a.due_date < today), escalations)
