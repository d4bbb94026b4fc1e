"""Coaching records: sessions, stages, action items, reviews, check-ins, metrics.

``apply`` stores what a flow asked for (its effects) inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from flows.effects import (
    ActionDraft,
    CompleteModel,
    CompleteReview,
    CompleteSession,
    Effect,
    KeepPrivateNote,
    PlanModelReview,
    RaiseEscalation,
    RecordCheckin,
    RecordLeafOutcome,
    RecordModelStage,
    RecordStage,
    ResolveEscalation,
    StartFlow,
)
from storage import escalations
from storage.models import (
    ActionItem,
    Checkin,
    CoachingSession,
    Escalation,
    LeafOutcome,
    Metric,
    ModelRun,
    Person,
    PlannedSession,
    PrivateNote,
    Review,
    SessionStage,
)
from storage.unit import UnitOfWork

OPEN_ACTION = ("open", "in_progress", "blocked")
FINISHED = ("completed", "no_action", "no_agreement")  # sessions that count as held
MODELS = ("training", "coaching")  # the models a session may hand off to

# Prebuilt Core statements for what most turns write or read (see storage/unit.py).
_sessions = cast(Table, CoachingSession.__table__)
_stages = cast(Table, SessionStage.__table__)
_OPEN_SESSION = insert(_sessions)
_SESSION_FIELDS = update(_sessions).where(_sessions.c.id == bindparam("sid"))
_planned = cast(Table, PlannedSession.__table__)
_START_PLANNED = (update(_planned).where(_planned.c.id == bindparam("pid"))
                  .values(status="started", session_id=bindparam("sid")))


def _stage_upsert(make: Callable[[Table], Any]) -> Any:
    """One row per (session, model, stage): a stage redone keeps the latest answers."""
    statement = make(_stages)
    return statement.on_conflict_do_update(
        index_elements=["session_id", "model", "stage", "round"],
        set_={"values": statement.excluded["values"],
              "recorded_at": statement.excluded.recorded_at})


_STAGE_UPSERT = {"postgresql": _stage_upsert(pg_insert), "sqlite": _stage_upsert(sqlite_insert)}


def open_session(conn: Connection, manager_id: int, rep_id: int, now: datetime) -> int:
    """A new coaching session row; its id."""
    result = conn.execute(_OPEN_SESSION, {"manager_id": manager_id, "rep_id": rep_id,
                                          "status": "open", "started_at": now})
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def apply(unit: UnitOfWork, effect: Effect, *, actor_id: int, now: datetime) -> None:
    """Store one effect. ``StartFlow`` is the caller's to carry out. Stage records (most
    turns) are Core statements on the connection; the rest use the ORM session."""
    match effect:
        case RecordStage(session_id, stage, values):
            _record_stage(unit.conn, session_id, "sled", stage, dict(values), now)
            _copy_stage_fields(unit.conn, session_id, stage, values)
            return
        case RecordModelStage(session_id, model, stage, values):
            run = _model_run(unit.db, session_id, model, now)
            _record_stage(unit.conn, session_id, model, stage, dict(values), now,
                          round_=run.round)
            return
        case ResolveEscalation(escalation_id, note):
            _resolve_escalation(unit.conn, escalation_id, actor_id, note, now)
            return
    _apply_with_objects(unit.db, effect, actor_id=actor_id, now=now)


def _apply_with_objects(db: Session, effect: Effect, *, actor_id: int, now: datetime) -> None:
    match effect:
        case CompleteModel():
            _complete_model(db, effect, now)
        case PlanModelReview(session_id, model, due):
            _model_run(db, session_id, model, now).review_due = due
        case CompleteSession():
            _complete_session(db, effect, now)
        case RaiseEscalation():
            _session(db, effect.session_id)
            owners = escalation_recipients(db, actor_id)
            db.add(Escalation(session_id=effect.session_id, leaf=effect.leaf,
                              impact=effect.impact, evidence=effect.evidence,
                              fix_owner=effect.fix_owner or None, review_id=effect.review_id,
                              owner_id=owners[0].id if owners else None, raised_by_id=actor_id,
                              created_at=now))
        case RecordLeafOutcome(session_id, review_id, leaf, category, record):
            db.add(LeafOutcome(session_id=session_id, review_id=review_id, leaf=leaf,
                               category=category, kind=record.kind, values=record.values(),
                               created_at=now))
        case KeepPrivateNote(session_id, kind, text):
            db.add(PrivateNote(session_id=session_id, author_id=actor_id, kind=kind, text=text,
                               created_at=now))
        case CompleteReview():
            _complete_review(db, effect, now)
        case RecordCheckin():
            _record_checkin(db, effect, now)
        case StartFlow():
            pass
        case _:
            raise TypeError(f"unknown effect {effect!r}")


class EscalationRefused(PermissionError):
    """The person may not act on this escalation (any more): not its owner, not above."""


def _resolve_escalation(conn: Connection, escalation_id: int, actor_id: int, note: str,
                        now: datetime) -> None:
    """METHOD §9 again at the moment of storing: the inbox checked it when the form opened,
    but the escalation may have been handed on since (then nothing is stored)."""
    found = escalations.owned(conn, escalation_id)
    if found is None or not escalations.may_act(conn, actor_id, found.owner_id):
        raise EscalationRefused(f"person {actor_id} may not resolve escalation {escalation_id}")
    escalations.resolve(conn, escalation_id, actor_id, note, now)


def escalation_recipients(db: Session, coach_id: int) -> list[Person]:
    """Who owns an escalation raised by ``coach_id``: the person above them (a leader
    coaching never escalates to themself); at the top of the tree, the org's admins."""
    coach = db.get(Person, coach_id)
    above = db.get(Person, coach.manager_id) if coach and coach.manager_id else None
    if above is not None and above.active:
        return [above]
    if coach is None:
        return []
    return list(db.scalars(select(Person).where(Person.role == "admin",
                                                Person.org_id == coach.org_id,
                                                Person.active.is_(True),
                                                Person.id != coach_id)
                           .order_by(Person.id)))


def _session(db: Session, session_id: int) -> CoachingSession:
    row = db.get(CoachingSession, session_id)
    if row is None:
        raise LookupError(f"coaching session {session_id} does not exist")
    return row


def _record_stage(conn: Connection, session_id: int, model: str, stage: str,
                  values: dict[str, Any], now: datetime, round_: int = 1) -> None:
    """One upsert: a stage redone after going back keeps the latest answers (the
    transition log keeps the history); a model run repeated (``round_``) keeps its own."""
    conn.execute(_STAGE_UPSERT[conn.dialect.name], {
        "session_id": session_id, "model": model, "stage": stage, "values": values,
        "recorded_at": now, "round": round_})


_STAGE_FIELDS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "S": lambda v: {"rep_aligned": bool(v.get("rep_aligned"))},
    "L": lambda v: {"roam_snapshot": v.get("roam"), "focus_area": v.get("focus_area"),
                    "problem_agreed": bool(v.get("problem_agreed"))},
    "E": lambda v: {"chart_answers": v.get("chart_answers"), "leaf": v.get("leaf"),
                    "category": v.get("category"), "agreed_solution": v.get("agreed_solution")},
}


def _copy_stage_fields(conn: Connection, session_id: int, stage: str, values: Any) -> None:
    """Copy a stage's headline answers onto the session row (one UPDATE)."""
    fields = _STAGE_FIELDS.get(stage)
    if fields is None:
        return
    result = conn.execute(_SESSION_FIELDS, {"sid": session_id, **fields(values)})
    if result.rowcount != 1:
        raise LookupError(f"coaching session {session_id} does not exist")


def _model_run(db: Session, session_id: int, model: str, now: datetime) -> ModelRun:
    """The run of ``model`` in progress for the session; a new round after a completed one
    (a field training repeated)."""
    runs = list(db.scalars(select(ModelRun).where(ModelRun.session_id == session_id,
                                                  ModelRun.model == model)
                           .order_by(ModelRun.round)))
    if runs and runs[-1].status != "completed":
        return runs[-1]
    run = ModelRun(session_id=session_id, model=model, status="open", started_at=now,
                   round=runs[-1].round + 1 if runs else 1)
    db.add(run)
    db.flush()
    return run


def _complete_model(db: Session, done: CompleteModel, now: datetime) -> None:
    run = _model_run(db, done.session_id, done.model, now)
    run.status, run.decision, run.ended_at = "completed", done.decision, now


def _complete_session(db: Session, done: CompleteSession, now: datetime) -> None:
    session = _session(db, done.session_id)
    session.status, session.ended_at = done.status, now
    if done.status == "cancelled":
        return
    for name in ("leaf", "category", "agreed_solution", "metric", "baseline", "target",
                 "review_date", "next_model", "rep_committed"):
        value = getattr(done, name)
        if value is not None:
            setattr(session, name, value)
    _add_actions(db, session, done.actions, now)
    if done.review_date is not None:
        db.add(Review(session_id=session.id, due_date=done.review_date, status="planned"))


def _add_actions(db: Session, session: CoachingSession, drafts: tuple[ActionDraft, ...],
                 now: datetime) -> None:
    for draft in drafts:
        owner_id = session.rep_id if draft.owner == "rep" else session.manager_id
        db.add(ActionItem(session_id=session.id, rep_id=session.rep_id, owner_id=owner_id,
                          description=draft.description, due_date=draft.due, status="open",
                          shared=draft.shown_to_rep, created_at=now, updated_at=now))


def _plan_model(db: Session, session: CoachingSession, model: str) -> None:
    """A review plans ``model`` for the session: /model runs it next, even when the same
    model already ran once (that run is reopened; its stages keep the latest answers)."""
    session.next_model = model
    run = db.scalar(select(ModelRun).where(ModelRun.session_id == session.id,
                                           ModelRun.model == model))
    if run is not None and run.status == "completed":
        run.status, run.ended_at = "planned", None


def _complete_review(db: Session, done: CompleteReview, now: datetime) -> None:
    """Store the review and what comes next: the rep's commitment as an action item, the
    manager's late actions at their new dates, the next review, or (target met) the focus
    closed and the next session planned."""
    review = db.get(Review, done.review_id)
    if review is None:
        raise LookupError(f"review {done.review_id} does not exist")
    session = _session(db, done.session_id)
    review.status, review.held_at = "done", now
    review.metric_value, review.outcome, review.leaf = done.metric_value, done.outcome, done.leaf
    review.notes = {**dict(done.notes), "next_focus": done.next_focus}
    for action_id, status in done.action_status.items():
        item = db.get(ActionItem, int(action_id))
        if item is not None and item.session_id == done.session_id:
            item.status, item.updated_at = ("done" if status == "done" else item.status), now
    for action_id, due in done.rescheduled:
        item = db.get(ActionItem, int(action_id))
        if item is not None and item.session_id == done.session_id:
            item.due_date, item.updated_at = due, now
    _add_actions(db, session, done.actions, now)
    if done.outcome == "met":  # the focus is closed: no other review of this plan is due
        for other in db.scalars(select(Review).where(Review.session_id == session.id,
                                                     Review.status == "planned",
                                                     Review.id != review.id)):
            other.status = "cancelled"
    if done.next_focus is not None and done.next_session_date is not None:
        db.add(PlannedSession(rep_id=session.rep_id, manager_id=session.manager_id,
                              focus_area=done.next_focus, due_date=done.next_session_date,
                              status="planned", review_id=review.id, created_at=now))
    if done.next_review_date is not None:
        db.add(Review(session_id=done.session_id, due_date=done.next_review_date,
                      status="planned"))
    if done.next_model:
        _plan_model(db, session, done.next_model)


def _record_checkin(db: Session, done: RecordCheckin, now: datetime) -> None:
    row = db.get(Checkin, done.checkin_id)
    if row is None:
        raise LookupError(f"check-in {done.checkin_id} does not exist")
    row.status, row.answered_at = done.status, now
    row.ask_again_at = done.ask_again_at if done.status == "snoozed" else None
    if done.status != "answered":
        return
    row.got_coaching, row.blockers, row.confidence = (done.got_coaching, done.blockers,
                                                      done.confidence)
    row.activity = dict(done.activity)
    row.action_updates = {k: dict(v) for k, v in done.action_updates.items()}
    for action_id, change in done.action_updates.items():
        item = db.get(ActionItem, int(action_id))
        if item is not None and item.owner_id == row.person_id and item.shared:
            item.status, item.updated_at = change.get("status", item.status), now
            item.note = change.get("note") or item.note


# Reading back -----------------------------------------------------------------------------


def last_session(db: Session, rep_id: int) -> CoachingSession | None:
    return db.scalar(select(CoachingSession)
                     .where(CoachingSession.rep_id == rep_id,
                            CoachingSession.status.in_(FINISHED))
                     .order_by(CoachingSession.ended_at.desc()).limit(1))


def open_actions(db: Session, rep_id: int) -> list[ActionItem]:
    return list(db.scalars(select(ActionItem)
                           .where(ActionItem.rep_id == rep_id,
                                  ActionItem.status.in_(OPEN_ACTION))
                           .order_by(ActionItem.due_date, ActionItem.id)))


def own_shared_actions(db: Session, rep_id: int) -> list[ActionItem]:
    """The open action items a rep reports on: theirs, and shared with them."""
    return [a for a in open_actions(db, rep_id) if a.owner_id == rep_id and a.shared]


def latest_leaf(db: Session, rep_id: int) -> str | None:
    """The leaf of the rep's most recent leaf outcome (a session's or a review's)."""
    return db.scalar(select(LeafOutcome.leaf)
                     .join(CoachingSession, LeafOutcome.session_id == CoachingSession.id)
                     .where(CoachingSession.rep_id == rep_id)
                     .order_by(LeafOutcome.created_at.desc(), LeafOutcome.id.desc()).limit(1))


def actions_of(db: Session, session_id: int) -> list[ActionItem]:
    return list(db.scalars(select(ActionItem).where(ActionItem.session_id == session_id)
                           .order_by(ActionItem.id)))


@dataclass(frozen=True, slots=True)
class PendingModel:
    """The model ``/model <rep>`` runs next, for the session that planned it."""

    session: CoachingSession
    model: str
    review_due: date | None = None  # a coaching run's Review planned for a later day


# A finished training's decision → what runs next (METHOD §5: repeat / hand off to coaching).
_AFTER_TRAINING = {"repeat": "training", "coaching": "coaching"}


def pending_model(db: Session, rep_id: int) -> PendingModel | None:
    """What the latest completed session's hand-off still asks for: its model if no run of
    it is completed yet, else what the last completed run decided (repeat the training,
    hand off to coaching); ``None`` when the models are done."""
    session = db.scalar(select(CoachingSession)
                        .where(CoachingSession.rep_id == rep_id,
                               CoachingSession.status == "completed",
                               CoachingSession.next_model.in_(MODELS))
                        .order_by(CoachingSession.ended_at.desc(), CoachingSession.id.desc())
                        .limit(1))
    if session is None or session.next_model is None:
        return None
    runs = list(db.scalars(select(ModelRun).where(ModelRun.session_id == session.id)
                           .order_by(ModelRun.started_at, ModelRun.id)))
    open_run = next((r for r in reversed(runs) if r.status != "completed"), None)
    if open_run is not None:
        return PendingModel(session, open_run.model, open_run.review_due)
    completed = [r for r in runs if r.status == "completed"]
    if not any(r.model == session.next_model for r in completed):
        return PendingModel(session, session.next_model)
    after = _AFTER_TRAINING.get(completed[-1].decision or "") \
        if completed[-1].model == "training" else None
    return PendingModel(session, after) if after else None


def planned_session(db: Session, rep_id: int) -> PlannedSession | None:
    """The next coaching session a review planned for the rep, not yet started."""
    return db.scalar(select(PlannedSession)
                     .where(PlannedSession.rep_id == rep_id, PlannedSession.status == "planned")
                     .order_by(PlannedSession.due_date, PlannedSession.id).limit(1))


def start_planned_session(conn: Connection, planned_id: int, session_id: int) -> None:
    """A new session picks up the planned one (found by the context card's query)."""
    conn.execute(_START_PLANNED, {"pid": planned_id, "sid": session_id})


def next_review(db: Session, rep_id: int) -> tuple[Review, CoachingSession] | None:
    row = db.execute(select(Review, CoachingSession)
                     .join(CoachingSession, Review.session_id == CoachingSession.id)
                     .where(CoachingSession.rep_id == rep_id, Review.status == "planned")
                     .order_by(Review.due_date, Review.id).limit(1)).first()
    return (row[0], row[1]) if row else None


def latest_metric(db: Session, rep_id: int, name: str, today: date) -> Metric | None:
    """The rep's latest imported row of metric ``name`` (any case) whose period has begun."""
    return db.scalar(select(Metric)
                     .where(Metric.person_id == rep_id,
                            func.lower(Metric.metric) == name.strip().lower(),
                            Metric.period_start <= today)
                     .order_by(Metric.period_end.desc(), Metric.period_start.desc()).limit(1))


def last_chart(db: Session, session: CoachingSession) -> tuple[dict[str, bool], date] | None:
    """The chart answers last given about this session's gap, and the day they were given:
    a review's rerun of the chart, else the session's own."""
    reviews = db.scalars(select(Review).where(Review.session_id == session.id,
                                              Review.status == "done",
                                              Review.held_at.is_not(None))
                         .order_by(Review.held_at.desc(), Review.id.desc()))
    for review in reviews:
        chart = (review.notes or {}).get("chart")
        if isinstance(chart, dict) and chart and review.held_at is not None:
            return _answers(chart), review.held_at.date()
    if session.chart_answers and session.ended_at is not None:
        return _answers(session.chart_answers), session.ended_at.date()
    return None


def _answers(raw: Mapping[str, Any]) -> dict[str, bool]:
    return {str(k): v for k, v in raw.items() if isinstance(v, bool)}


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def checkin_for_week(db: Session, person: Person, day: date) -> Checkin:
    return checkin_of_period(db, person.id, week_start(day))


def checkin_of_period(db: Session, person_id: int, period_start: date) -> Checkin:
    """The person's check-in of the week starting ``period_start``, created when missing.
    Two writers creating it at once (the scheduler's check-in and the rep's own /checkin)
    end with the same row: the loser's insert, in a savepoint, gives way to the winner's
    committed row (unique on person and week) instead of failing the turn."""
    this_week = select(Checkin).where(Checkin.person_id == person_id,
                                      Checkin.period_start == period_start)
    row = db.scalar(this_week)
    if row is not None:
        return row
    try:
        with db.begin_nested():
            row = Checkin(person_id=person_id, period_start=period_start, status="open")
            db.add(row)
    except IntegrityError:
        row = db.scalar(this_week)
        if row is None:
            raise
    return row
