"""The queries of the operating rhythm (bot/rhythm): cadences and their occurrences, the
check-ins, action items and reviews that fall due, and the send-time guards.

Every read of a table that grows with history is a window of time by an index
(status first): the cost follows what is due, not how much history there is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.coaching import FINISHED, OPEN_ACTION, checkin_of_period
from storage.models import (
    ActionItem,
    Cadence,
    CadenceOccurrence,
    Checkin,
    CoachingSession,
    Conversation,
    Metric,
    Organization,
    Person,
    Review,
)

RHYTHM_ROLES = ("rep", "manager", "leader")
# A check-in whose answer still matters: open (asked, not answered) or not yet asked.
WAITING = ("open",)


@dataclass(frozen=True, slots=True)
class Member:
    """Someone the rhythm serves: whom they report to, where they are, whether away, and
    since when the rhythm serves them (``rhythm_since``)."""

    id: int
    org_id: int
    email: str
    name: str
    role: str
    manager_id: int | None
    timezone: str
    away_until: date | None
    created_at: datetime
    org_started: datetime | None = None  # their organisation's rhythm_started_at

    @property
    def rhythm_since(self) -> datetime:
        """The later of their arrival and their organisation's first run of the rhythm:
        what fell due for them before is not caught up (no last week's digest on a new
        install, no check-in for a Friday before they joined)."""
        if self.org_started is None or self.org_started < self.created_at:
            return self.created_at
        return self.org_started


def _member_columns() -> Any:
    return (select(Person.id, Person.org_id, Person.email, Person.name, Person.role,
                   Person.manager_id, Person.timezone, Person.away_until, Person.created_at,
                   Organization.rhythm_started_at)
            .join(Organization, Person.org_id == Organization.id))


def members(db: Session) -> list[Member]:
    """The active reps, managers and leaders (the rhythm's cast; not history)."""
    rows = db.execute(_member_columns()
                      .where(Person.active.is_(True), Person.role.in_(RHYTHM_ROLES))
                      .order_by(Person.id))
    return [Member(*row) for row in rows]


def member(db: Session, person_id: int) -> Member | None:
    row = db.execute(_member_columns().where(Person.id == person_id)).first()
    return Member(*row) if row is not None else None


def start_rhythm(db: Session, now: datetime) -> int:
    """Record ``now`` as the rhythm's start for every organisation it never ran for (read
    first: a tick that finds none writes nothing); how many were started."""
    waiting = list(db.scalars(select(Organization.id)
                              .where(Organization.rhythm_started_at.is_(None))))
    if waiting:
        db.execute(update(Organization).where(Organization.id.in_(waiting),
                                              Organization.rhythm_started_at.is_(None))
                   .values(rhythm_started_at=now))
    return len(waiting)


# Cadences --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CadenceShape:
    id: int
    owner_id: int
    meeting_type: str
    subject_id: int | None
    shape: tuple[str, str, str, str, bool]  # rhythm, day, time, timezone, active


def cadence_shapes(db: Session) -> list[CadenceShape]:
    """Every cadence as plain tuples (one per owner, meeting and rep: not history)."""
    rows = db.execute(select(Cadence.id, Cadence.owner_id, Cadence.meeting_type,
                             Cadence.subject_id, Cadence.rhythm, Cadence.day, Cadence.time,
                             Cadence.timezone, Cadence.active).order_by(Cadence.id))
    return [CadenceShape(r.id, r.owner_id, r.meeting_type, r.subject_id,
                         (r.rhythm, r.day, r.time, r.timezone, bool(r.active))) for r in rows]


def cadences_to_plan(db: Session, before: datetime) -> list[Cadence]:
    """Active cadences planned less far ahead than ``before`` (none on most ticks)."""
    return list(db.scalars(select(Cadence).where(
        Cadence.active.is_(True),
        (Cadence.planned_until.is_(None)) | (Cadence.planned_until < before))
        .order_by(Cadence.id)))


_OCCURRENCE = {dialect: make(cast(Table, CadenceOccurrence.__table__)).on_conflict_do_nothing(
    index_elements=["cadence_id", "scheduled_for"]).returning(CadenceOccurrence.id)
    for dialect, make in (("postgresql", pg_insert), ("sqlite", sqlite_insert))}


def add_occurrences(conn: Connection, cadence_id: int, times: Iterable[datetime]) -> int:
    """Plan these occurrences; one already there (same time) is left as it is."""
    added = 0
    for at in times:  # one by one: RETURNING counts what went in, on every driver
        row = conn.execute(_OCCURRENCE[conn.dialect.name],
                           {"cadence_id": cadence_id, "scheduled_for": at, "status": "planned"})
        added += row.first() is not None
    return added


def drop_planned_after(db: Session, cadence_id: int, after: datetime) -> None:
    """A cadence whose rule changed: its future planned occurrences go (they are planned
    again from the new rule); held, moved and skipped ones stay as history."""
    db.execute(delete(CadenceOccurrence).where(
        CadenceOccurrence.cadence_id == cadence_id, CadenceOccurrence.status == "planned",
        CadenceOccurrence.scheduled_for > after))


@dataclass(frozen=True, slots=True)
class OccurrenceLine:
    id: int
    cadence_id: int
    meeting_type: str
    owner_id: int
    subject_id: int | None
    scheduled_for: datetime
    status: str


def _occurrence_lines() -> Any:
    return (select(CadenceOccurrence.id, CadenceOccurrence.cadence_id, Cadence.meeting_type,
                   Cadence.owner_id, Cadence.subject_id, CadenceOccurrence.scheduled_for,
                   CadenceOccurrence.status)
            .join(Cadence, CadenceOccurrence.cadence_id == Cadence.id))


def planned_between(db: Session, since: datetime, until: datetime) -> list[OccurrenceLine]:
    """Planned occurrences of active cadences with ``since < scheduled_for <= until``."""
    rows = db.execute(_occurrence_lines().where(
        CadenceOccurrence.status == "planned", CadenceOccurrence.scheduled_for > since,
        CadenceOccurrence.scheduled_for <= until, Cadence.active.is_(True))
        .order_by(CadenceOccurrence.scheduled_for, CadenceOccurrence.id))
    return [OccurrenceLine(*row) for row in rows]


def owned_planned(db: Session, owner_id: int, since: datetime, until: datetime,
                  limit: int = 20) -> list[OccurrenceLine]:
    """One owner's planned meetings in a window (the /meetings list, ``coach schedule``)."""
    rows = db.execute(_occurrence_lines().where(
        Cadence.owner_id == owner_id, Cadence.active.is_(True),
        CadenceOccurrence.status == "planned", CadenceOccurrence.scheduled_for >= since,
        CadenceOccurrence.scheduled_for < until)
        .order_by(CadenceOccurrence.scheduled_for).limit(limit))
    return [OccurrenceLine(*row) for row in rows]


def occurrence(db: Session, occurrence_id: int) -> OccurrenceLine | None:
    row = db.execute(_occurrence_lines().where(CadenceOccurrence.id == occurrence_id)).first()
    return OccurrenceLine(*row) if row is not None else None


def set_occurrence(db: Session, occurrence_id: int, status: str, now: datetime,
                   moved_to: datetime | None = None) -> None:
    """Record what became of one occurrence (held / moved / skipped); a move plans the
    meeting at its new time as an occurrence of its own."""
    row = db.get(CadenceOccurrence, occurrence_id)
    if row is None:
        raise LookupError(f"occurrence {occurrence_id} does not exist")
    row.status, row.checked_at = status, now
    if status == "held":
        row.held_at = row.scheduled_for
    if moved_to is not None:
        row.moved_to = moved_to
        add_occurrences(db.connection(), row.cadence_id, [moved_to])


# Check-ins -------------------------------------------------------------------------------


def checkins_of(db: Session, person_ids: Sequence[int], period_start: date) -> dict[int, Checkin]:
    if not person_ids:
        return {}
    rows = db.scalars(select(Checkin).where(Checkin.person_id.in_(person_ids),
                                            Checkin.period_start == period_start))
    return {row.person_id: row for row in rows}


def checkin_row(db: Session, person_id: int, period_start: date) -> Checkin:
    return checkin_of_period(db, person_id, period_start)


def asked_before(db: Session, since: datetime, until: datetime) -> list[Checkin]:
    """Open check-ins put to the rep in ``[since, until)`` (reminders, missed marks)."""
    return list(db.scalars(select(Checkin).where(
        Checkin.status == "open", Checkin.asked_at >= since, Checkin.asked_at < until)
        .order_by(Checkin.asked_at, Checkin.id)))


def snoozed(db: Session) -> list[Checkin]:
    """Snoozed check-ins (few: a snooze asks again within a day, then it is open)."""
    return list(db.scalars(select(Checkin).where(Checkin.status == "snoozed")
                           .order_by(Checkin.id)))


def in_conversation(db: Session, person_id: int, after: datetime) -> bool:
    """Whether the person has an active conversation whose last turn came after ``after``
    (ix_conversation_person): one in progress, which a check-in must not interrupt."""
    return db.scalar(select(Conversation.id).where(
        Conversation.person_id == person_id, Conversation.status == "active",
        Conversation.updated_at > after).limit(1)) is not None


# Actions and reviews ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActionLine:
    id: int
    owner_id: int
    rep_id: int
    description: str
    due_date: date


def open_actions_due(db: Session, first: date, last: date) -> list[ActionLine]:
    rows = db.execute(select(ActionItem.id, ActionItem.owner_id, ActionItem.rep_id,
                             ActionItem.description, ActionItem.due_date)
                      .where(ActionItem.status.in_(OPEN_ACTION), ActionItem.due_date >= first,
                             ActionItem.due_date <= last)
                      .order_by(ActionItem.due_date, ActionItem.id))
    return [ActionLine(*row) for row in rows]


def open_actions_of(db: Session, rep_id: int, limit: int = 5) -> list[ActionLine]:
    rows = db.execute(select(ActionItem.id, ActionItem.owner_id, ActionItem.rep_id,
                             ActionItem.description, ActionItem.due_date)
                      .where(ActionItem.rep_id == rep_id, ActionItem.status.in_(OPEN_ACTION))
                      .order_by(ActionItem.due_date, ActionItem.id).limit(limit))
    return [ActionLine(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class ReviewLine:
    id: int
    due_date: date
    manager_id: int
    rep_id: int


def reviews_due(db: Session, first: date, last: date) -> list[ReviewLine]:
    rows = db.execute(select(Review.id, Review.due_date, CoachingSession.manager_id,
                             CoachingSession.rep_id)
                      .join(CoachingSession, Review.session_id == CoachingSession.id)
                      .where(Review.status == "planned", Review.due_date >= first,
                             Review.due_date <= last)
                      .order_by(Review.due_date, Review.id))
    return [ReviewLine(*row) for row in rows]


def next_review_of(db: Session, rep_id: int) -> date | None:
    return db.scalar(select(func.min(Review.due_date))
                     .join(CoachingSession, Review.session_id == CoachingSession.id)
                     .where(CoachingSession.rep_id == rep_id, Review.status == "planned"))


def last_one_on_one(db: Session, rep_ids: Sequence[int]) -> dict[int, datetime]:
    """Each rep's last finished session (the no-1:1 nudge); by ix_coaching_session_rep_ended."""
    if not rep_ids:
        return {}
    rows = db.execute(select(CoachingSession.rep_id, func.max(CoachingSession.ended_at))
                      .where(CoachingSession.rep_id.in_(rep_ids),
                             CoachingSession.status.in_(FINISHED))
                      .group_by(CoachingSession.rep_id))
    found: dict[int, datetime] = {}
    for rep_id, ended in rows:
        if ended is not None:
            found[rep_id] = (datetime.fromisoformat(ended) if isinstance(ended, str)
                             else ended)
    return found


def held_one_on_ones(db: Session, rep_ids: Sequence[int], since: datetime) -> set[int]:
    """The reps who had a meeting with their manager marked held since ``since`` (a 1:1
    counts as much as a logged session for the no-1:1 nudge)."""
    if not rep_ids:
        return set()
    rows = db.execute(select(Cadence.subject_id).distinct()
                      .join(CadenceOccurrence, CadenceOccurrence.cadence_id == Cadence.id)
                      .where(CadenceOccurrence.status == "held",
                             CadenceOccurrence.scheduled_for >= since,
                             Cadence.subject_id.in_(rep_ids)))
    return {rep_id for (rep_id,) in rows if rep_id is not None}


# What changed since a meeting (a pipeline review's prep nudge) -----------------------------


def last_held(db: Session, cadence_id: int, before: datetime,
              since: datetime) -> datetime | None:
    """When the cadence's latest meeting in ``[since, before)`` marked held took place."""
    return db.scalar(select(func.max(CadenceOccurrence.scheduled_for)).where(
        CadenceOccurrence.cadence_id == cadence_id, CadenceOccurrence.status == "held",
        CadenceOccurrence.scheduled_for >= since, CadenceOccurrence.scheduled_for < before))


@dataclass(frozen=True, slots=True)
class ActionCounts:
    """The reps' action items: ``opened`` and ``done`` since a time; ``open`` now, of which
    ``overdue`` (due before today)."""

    opened: int
    done: int
    open: int
    overdue: int


def action_counts(db: Session, rep_ids: Sequence[int], since: datetime,
                  today: date) -> ActionCounts:
    """Two reads, each by an index: what changed since ``since`` (an action opened or
    marked done since was updated since: ix_action_item_rep_changed), and what is open
    (ix_action_item_open)."""
    if not rep_ids:
        return ActionCounts(0, 0, 0, 0)
    opened, done = db.execute(select(
        func.count().filter(ActionItem.created_at >= since),
        func.count().filter(ActionItem.status == "done"))
        .where(ActionItem.rep_id.in_(rep_ids), ActionItem.updated_at >= since)).one()
    still_open, overdue = db.execute(select(
        func.count(), func.count().filter(ActionItem.due_date < today))
        .where(ActionItem.rep_id.in_(rep_ids), ActionItem.status.in_(OPEN_ACTION))).one()
    return ActionCounts(opened or 0, done or 0, still_open or 0, overdue or 0)


def sessions_since(db: Session, rep_ids: Sequence[int], since: datetime) -> int:
    """Coaching sessions with these reps finished since ``since``
    (ix_coaching_session_rep_ended)."""
    if not rep_ids:
        return 0
    return db.scalar(select(func.count()).select_from(CoachingSession).where(
        CoachingSession.rep_id.in_(rep_ids), CoachingSession.ended_at >= since,
        CoachingSession.status.in_(FINISHED))) or 0


def answered_since(db: Session, rep_ids: Sequence[int], since: datetime,
                   first_week: date) -> list[dict[str, Any]]:
    """The activity counts of the check-ins these reps answered since ``since``, among the
    weeks from ``first_week`` on (the unique key's (person, week) range)."""
    if not rep_ids:
        return []
    rows = db.execute(select(Checkin.activity).where(
        Checkin.person_id.in_(rep_ids), Checkin.period_start >= first_week,
        Checkin.status == "answered", Checkin.answered_at >= since))
    return [dict(activity) if isinstance(activity, dict) else {} for (activity,) in rows]


@dataclass(frozen=True, slots=True)
class MetricLine:
    person_id: int
    metric: str
    period_start: date
    period_end: date
    target: float
    actual: float


def metrics_from(db: Session, person_ids: Sequence[int], first_start: date) -> list[MetricLine]:
    """These people's metric rows of the periods starting on or after ``first_start``, each
    person's metrics newest period first (the unique key's (person, period_start) range)."""
    if not person_ids:
        return []
    rows = db.execute(select(Metric.person_id, Metric.metric, Metric.period_start,
                             Metric.period_end, Metric.target, Metric.actual)
                      .where(Metric.person_id.in_(person_ids),
                             Metric.period_start >= first_start)
                      .order_by(Metric.person_id, Metric.metric, Metric.period_end.desc(),
                                Metric.period_start.desc()))
    return [MetricLine(*row) for row in rows]


def set_away(db: Session, person_id: int, until: date | None) -> None:
    db.execute(update(Person).where(Person.id == person_id).values(away_until=until))


# Send-time guards ------------------------------------------------------------------------


def failing_guards(db: Session | Connection, guards: Mapping[int, Any],
                   now: datetime) -> set[int]:
    """Which queued messages (outbox id → its ``guard``) are no longer worth sending
    (bot/rhythm/guards.py makes the guards): the meeting no longer planned (or, for a prep
    nudge, begun: ``until``), the check-in no longer waiting, the action no longer open, the
    review no longer planned. One query per kind of guard for the whole batch. A guard
    this code does not know, or cannot read, holds (send rather than lose)."""
    failing: set[int] = set()
    wanted: dict[str, dict[int, Any]] = {"occurrence": {}, "checkin": {}, "action": {},
                                         "review": {}}
    for row_id, guard in guards.items():
        if not isinstance(guard, Mapping):
            continue
        try:
            until = guard.get("until")
            if isinstance(until, str) and now >= datetime.fromisoformat(until):
                failing.add(row_id)
            elif "occurrence" in guard:
                wanted["occurrence"][row_id] = int(guard["occurrence"])
            elif "checkin_person" in guard:
                wanted["checkin"][row_id] = (int(guard["checkin_person"]),
                                             date.fromisoformat(str(guard["period"])))
            elif "action" in guard:
                wanted["action"][row_id] = int(guard["action"])
            elif "review" in guard:
                wanted["review"][row_id] = int(guard["review"])
        except (TypeError, ValueError, KeyError, OverflowError):
            continue
    for kind, key, status_of, still in (
            ("occurrence", CadenceOccurrence.id, CadenceOccurrence.status, ("planned",)),
            ("action", ActionItem.id, ActionItem.status, OPEN_ACTION),
            ("review", Review.id, Review.status, ("planned",))):
        if wanted[kind]:
            status = dict(db.execute(select(key, status_of).where(
                key.in_(set(wanted[kind].values())))).all())
            failing.update(row_id for row_id, target in wanted[kind].items()
                           if status.get(target) not in still)
    if wanted["checkin"]:
        pairs = wanted["checkin"]
        found = {(person, start): status for person, start, status in db.execute(
            select(Checkin.person_id, Checkin.period_start, Checkin.status)
            .where(Checkin.person_id.in_({person for person, _ in pairs.values()}),
                   Checkin.period_start.in_({start for _, start in pairs.values()})))}
        failing.update(row_id for row_id, pair in pairs.items()
                       if found.get(pair) not in (None, *WAITING))
    return failing
