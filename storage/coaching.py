"""Coaching records: sessions, stages, action items, reviews, check-ins, metrics.

``apply`` stores what a flow asked for (its effects) inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from flows.effects import (
    CompleteModel,
    CompleteReview,
    CompleteSession,
    Effect,
    KeepPrivateNote,
    RaiseEscalation,
    RecordCheckin,
    RecordModelStage,
    RecordStage,
    StartFlow,
)
from storage import people
from storage.models import (
    ActionItem,
    Checkin,
    CoachingSession,
    Escalation,
    Metric,
    ModelRun,
    Person,
    PrivateNote,
    Review,
    SessionStage,
)
from storage.unit import Unit

OPEN_ACTION = ("open", "in_progress", "blocked")
FINISHED = ("completed", "no_action")  # sessions that count as held
MODELS = ("training", "coaching")  # the models a session may hand off to

# Prebuilt Core statements for what most turns write or read (see storage/unit.py).
_sessions = cast(Table, CoachingSession.__table__)
_stages = cast(Table, SessionStage.__table__)
_OPEN_SESSION = insert(_sessions)
_SESSION_FIELDS = update(_sessions).where(_sessions.c.id == bindparam("sid"))


def _stage_upsert(make: Callable[[Table], Any]) -> Any:
    """One row per (session, model, stage): a stage redone keeps the latest answers."""
    statement = make(_stages)
    return statement.on_conflict_do_update(
        index_elements=["session_id", "model", "stage"],
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


def apply(unit: Unit, effect: Effect, *, actor_id: int, now: datetime) -> None:
    """Store one effect. ``StartFlow`` is the caller's to carry out. Stage records (most
    turns) are Core statements on the connection; the rest use the ORM session."""
    match effect:
        case RecordStage(session_id, stage, values):
            _record_stage(unit.conn, session_id, "sled", stage, dict(values), now)
            _copy_stage_fields(unit.conn, session_id, stage, values)
            return
        case RecordModelStage(session_id, model, stage, values):
            _model_run(unit.db, session_id, model, now)
            _record_stage(unit.conn, session_id, model, stage, dict(values), now)
            return
    _apply_with_objects(unit.db, effect, actor_id=actor_id, now=now)


def _apply_with_objects(db: Session, effect: Effect, *, actor_id: int, now: datetime) -> None:
    match effect:
        case CompleteModel(session_id, model, decision):
            run = _model_run(db, session_id, model, now)
            run.status, run.decision, run.ended_at = "completed", decision, now
        case CompleteSession():
            _complete_session(db, effect, now)
        case RaiseEscalation(session_id, leaf, impact, evidence):
            session = _session(db, session_id)
            rep = db.get(Person, session.rep_id)
            owner = people.leader_above(db, rep) if rep is not None else None
            db.add(Escalation(session_id=session_id, leaf=leaf, impact=impact, evidence=evidence,
                              owner_id=owner.id if owner else None, raised_by_id=actor_id,
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


def _session(db: Session, session_id: int) -> CoachingSession:
    row = db.get(CoachingSession, session_id)
    if row is None:
        raise LookupError(f"coaching session {session_id} does not exist")
    return row


def _record_stage(conn: Connection, session_id: int, model: str, stage: str,
                  values: dict[str, Any], now: datetime) -> None:
    """One upsert: a stage redone after going back keeps the latest answers (the
    transition log keeps the history)."""
    conn.execute(_STAGE_UPSERT[conn.dialect.name], {
        "session_id": session_id, "model": model, "stage": stage, "values": values,
        "recorded_at": now})


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
    run = db.scalar(select(ModelRun).where(ModelRun.session_id == session_id,
                                           ModelRun.model == model))
    if run is None:
        run = ModelRun(session_id=session_id, model=model, status="open", started_at=now)
        db.add(run)
        db.flush()
    return run


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
    for draft in done.actions:
        owner_id = session.rep_id if draft.owner == "rep" else session.manager_id
        db.add(ActionItem(session_id=session.id, rep_id=session.rep_id, owner_id=owner_id,
                          description=draft.description, due_date=draft.due, status="open",
                          created_at=now, updated_at=now))
    if done.review_date is not None:
        db.add(Review(session_id=session.id, due_date=done.review_date, status="planned"))


def _complete_review(db: Session, done: CompleteReview, now: datetime) -> None:
    review = db.get(Review, done.review_id)
    if review is None:
        raise LookupError(f"review {done.review_id} does not exist")
    review.status, review.held_at = "done", now
    review.metric_value, review.outcome, review.leaf = done.metric_value, done.outcome, done.leaf
    review.notes = {**dict(done.notes), "next_focus": done.next_focus}
    for action_id, status in done.action_status.items():
        item = db.get(ActionItem, int(action_id))
        if item is not None and item.session_id == done.session_id:
            item.status, item.updated_at = ("done" if status == "done" else item.status), now
    if done.next_review_date is not None:
        db.add(Review(session_id=done.session_id, due_date=done.next_review_date,
                      status="planned"))


def _record_checkin(db: Session, done: RecordCheckin, now: datetime) -> None:
    row = db.get(Checkin, done.checkin_id)
    if row is None:
        raise LookupError(f"check-in {done.checkin_id} does not exist")
    row.status, row.answered_at = done.status, now
    if done.status != "answered":
        return
    row.got_coaching, row.blockers, row.confidence = (done.got_coaching, done.blockers,
                                                      done.confidence)
    row.activity = dict(done.activity)
    row.action_updates = {k: dict(v) for k, v in done.action_updates.items()}
    for action_id, change in done.action_updates.items():
        item = db.get(ActionItem, int(action_id))
        if item is not None and item.rep_id == row.person_id:
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


def actions_of(db: Session, session_id: int) -> list[ActionItem]:
    return list(db.scalars(select(ActionItem).where(ActionItem.session_id == session_id)
                           .order_by(ActionItem.id)))


def pending_model(db: Session, rep_id: int) -> CoachingSession | None:
    """The latest completed session whose hand-off model has not been completed."""
    session = db.scalar(select(CoachingSession)
                        .where(CoachingSession.rep_id == rep_id,
                               CoachingSession.status == "completed",
                               CoachingSession.next_model.in_(MODELS))
                        .order_by(CoachingSession.ended_at.desc()).limit(1))
    if session is None:
        return None
    done = db.scalar(select(ModelRun).where(ModelRun.session_id == session.id,
                                            ModelRun.model == session.next_model,
                                            ModelRun.status == "completed"))
    return None if done else session


def next_review(db: Session, rep_id: int) -> tuple[Review, CoachingSession] | None:
    row = db.execute(select(Review, CoachingSession)
                     .join(CoachingSession, Review.session_id == CoachingSession.id)
                     .where(CoachingSession.rep_id == rep_id, Review.status == "planned")
                     .order_by(Review.due_date).limit(1)).first()
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
    start = week_start(day)
    row = db.scalar(select(Checkin).where(Checkin.person_id == person.id,
                                          Checkin.period_start == start))
    if row is None:
        row = Checkin(person_id=person.id, period_start=start, status="open")
        db.add(row)
        db.flush()
    return row
