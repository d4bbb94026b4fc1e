"""What ``/coach`` reads, in two queries (it is the busiest command, and each query
costs more in SQLAlchemy than in the database):

- ``candidates``: whom the coach may coach (METHOD §9), each with the coach's SLED
  conversation about them, if there is one; the first few only, and ``search`` by the
  start of a name or an email when the scope is larger (a VP's 11,000 people);
- ``card``: the chosen rep's context card — last finished session, the next planned
  review, a planned model not yet run, the next session a review planned (which
  ``/coach`` picks up), open action items, latest answered check-ins
  (with their blockers), the check-ins' activity counts, and the metric rows of the
  rep's latest period, the rep's and their manager's other reports' (the team
  benchmark) — as one row of JSON arrays
  (SQLite's ``json_group_array``, PostgreSQL's ``json_agg``). Its SQL never changes
  with the data (no expanding IN) and its statuses are written into it
  (``storage.db.written``), so the driver's prepared statement is reused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

import orjson
from sqlalchemy import (
    Connection,
    Select,
    String,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
)
from sqlalchemy import (
    cast as sql_cast,
)

from flows.roam import CheckinCounts, MetricRow
from storage import people
from storage.coaching import FINISHED, MODELS, OPEN_ACTION
from storage.conversations import ACTIVE_COLUMNS, ActiveConversation, active_of
from storage.db import written
from storage.models import (
    ActionItem,
    Checkin,
    CoachingSession,
    Conversation,
    Metric,
    ModelRun,
    Person,
    PlannedSession,
    Review,
)
from storage.people import Coachee

CHECKINS_SHOWN = 3
METRIC_HISTORY = timedelta(days=400)  # older periods never make the latest snapshot

_people = cast(Table, Person.__table__)
_conversation = cast(Table, Conversation.__table__)
_sessions = cast(Table, CoachingSession.__table__)
_actions = cast(Table, ActionItem.__table__)
_checkins = cast(Table, Checkin.__table__)
_metrics = cast(Table, Metric.__table__)
_reviews = cast(Table, Review.__table__)
_runs = cast(Table, ModelRun.__table__)
_planned = cast(Table, PlannedSession.__table__)


@dataclass(frozen=True, slots=True)
class Card:
    """The context card's facts, as stored (the command words them)."""

    last: dict[str, Any] | None = None  # the last finished session: date (UTC), focus, leaf
    review_due: str | None = None  # the next planned review's date
    pending_model: dict[str, Any] | None = None  # model, date (UTC) of the session agreeing it
    actions: list[dict[str, Any]] = field(default_factory=list)  # by due date, then id
    checkins: list[dict[str, Any]] = field(default_factory=list)  # latest first
    activity: list[CheckinCounts] = field(default_factory=list)  # answered check-ins' counts
    metrics: list[MetricRow] = field(default_factory=list)  # the rep's
    team_metrics: list[MetricRow] = field(default_factory=list)  # the manager's other reports'
    # The next session a review planned for the rep, not started yet: id, focus (area id)
    planned: dict[str, Any] | None = None


# Whom a coach may coach, each with their SLED conversation ------------------------------

_about = and_(_conversation.c.platform == bindparam("platform"),
              _conversation.c.tenant == bindparam("tenant"),
              _conversation.c.user_key == bindparam("user_key"),
              _conversation.c.flow == "sled",
              _conversation.c.subject == sql_cast(_people.c.id, String))
_COLUMNS = (_people.c.id, _people.c.email, _people.c.name, _people.c.role,
            _people.c.manager_id, *ACTIVE_COLUMNS)
_CANDIDATES = {
    role: (select(*_COLUMNS)
           .select_from(_people.outerjoin(_conversation, _about))
           .where(scope, _people.c.active.is_(True))
           .order_by(_people.c.name, _people.c.id).limit(bindparam("cap")))
    for role, scope in people.FIRST_OF_SCOPE.items()
}
_FOUND = {
    (dialect, role): (select(*_COLUMNS)
                      .select_from(_people.outerjoin(_conversation, _about))
                      .where(_people.c.id.in_(people.matching(dialect, role)))
                      .order_by(_people.c.name, _people.c.id))
    for dialect in ("sqlite", "postgresql") for role in people.SCOPE
}


def candidates(conn: Connection, coach_id: int, role: str, platform: str, tenant: str,
               user_key: str, at_most: int) -> list[tuple[Coachee, ActiveConversation | None]]:
    """The first ``at_most`` people ``coach_id`` may coach, by name, each with this user's
    SLED conversation about them (any status), in one query bounded by ``at_most``."""
    query = _CANDIDATES.get(role)
    if query is None:
        return []
    params = {"boss": coach_id, "platform": platform, "tenant": tenant, "user_key": user_key,
              "cap": at_most}
    return [(Coachee(r.id, r.email, r.name, r.role, r.manager_id), active_of(r))
            for r in conn.execute(query, params)]


def search(conn: Connection, coach_id: int, role: str, platform: str, tenant: str,
           user_key: str, ref: str,
           at_most: int) -> list[tuple[Coachee, ActiveConversation | None]]:
    """As ``candidates``, for a scope too large to list: those whose name or email begins
    with ``ref`` (storage.people.search), at most ``at_most`` of each kind of match."""
    query = _FOUND.get((conn.dialect.name, role))
    terms = people.search_terms(ref, at_most)
    if query is None or not terms["ref"]:
        return []
    params = {"boss": coach_id, "platform": platform, "tenant": tenant, "user_key": user_key,
              **terms}
    return [(Coachee(r.id, r.email, r.name, r.role, r.manager_id), active_of(r))
            for r in conn.execute(query, params)]


# The context card ----------------------------------------------------------------------


def _one_of(column: Any, values: tuple[str, ...]) -> Any:
    """``column IN ('a', 'b')`` with the values in the SQL text (storage.db.written): a
    bound IN list would be rewritten into the SQL on every call (SQLAlchemy's expanding
    parameters), and a bound status makes SQLite compile the card again on every turn."""
    return column.in_([written(value) for value in values])


def _card_query(dialect: str) -> Select[Any]:
    postgres = dialect == "postgresql"
    obj = func.json_build_object if postgres else func.json_object
    rows = func.json_agg if postgres else func.json_group_array
    # On PostgreSQL a timestamptz in JSON follows the session time zone: ask for UTC.
    ended = func.timezone("UTC", _sessions.c.ended_at) if postgres else _sessions.c.ended_at

    # A JSON column is JSON inside PostgreSQL's JSON, but text inside SQLite's: parse it.
    activity_json = _checkins.c.activity if postgres else func.json(_checkins.c.activity)
    mine = _sessions.c.rep_id == bindparam("rep")

    last = (select(obj("ended", ended, "focus", _sessions.c.focus_area,
                       "leaf", _sessions.c.leaf))
            .where(mine, _one_of(_sessions.c.status, FINISHED))
            .order_by(_sessions.c.ended_at.desc()).limit(1).scalar_subquery())
    review_due = (select(func.min(_reviews.c.due_date))
                  .select_from(_reviews.join(_sessions, _reviews.c.session_id == _sessions.c.id))
                  .where(mine, _reviews.c.status == written("planned")).scalar_subquery())
    # As coaching.pending_model: the latest completed session that planned a model, while
    # that model has not been run to its end.
    planned = (select(_sessions.c.id, _sessions.c.next_model, ended.label("ended"))
               .where(mine, _sessions.c.status == written("completed"),
                      _one_of(_sessions.c.next_model, MODELS))
               .order_by(_sessions.c.ended_at.desc()).limit(1).subquery())
    run = select(_runs.c.id).where(_runs.c.session_id == planned.c.id,
                                   _runs.c.model == planned.c.next_model,
                                   _runs.c.status == written("completed"))
    pending_model = (select(obj("model", planned.c.next_model, "ended", planned.c.ended))
                     .where(~run.exists()).scalar_subquery())
    actions = (select(rows(obj("id", _actions.c.id, "description", _actions.c.description,
                               "due", _actions.c.due_date, "status", _actions.c.status,
                               "owner_id", _actions.c.owner_id, "note", _actions.c.note)))
               .where(_actions.c.rep_id == bindparam("rep"),
                      _one_of(_actions.c.status, OPEN_ACTION))
               .scalar_subquery())
    answered = and_(_checkins.c.person_id == bindparam("rep"),
                    _checkins.c.status == written("answered"))
    latest = (select(_checkins.c.period_start, _checkins.c.got_coaching,
                     _checkins.c.confidence, _checkins.c.blockers)
              .where(answered)
              .order_by(_checkins.c.period_start.desc()).limit(CHECKINS_SHOWN)
              .subquery())
    checkins = select(rows(obj("week", latest.c.period_start,
                               "coached", latest.c.got_coaching,
                               "confidence", latest.c.confidence,
                               "blockers", latest.c.blockers))).scalar_subquery()
    activity = (select(rows(obj("week", _checkins.c.period_start, "counts", activity_json)))
                .where(answered, _checkins.c.activity.is_not(None),
                       _checkins.c.period_start >= bindparam("since"))
                .scalar_subquery())
    # Only the period the card shows (roam.snapshot: the rep's latest period begun by
    # today), for the rep and the manager's other active reports, as one IN (subquery):
    # an OR of the two made PostgreSQL's planner read the whole metric table.
    latest = (select(_metrics.c.period_start, _metrics.c.period_end)
              .where(_metrics.c.person_id == bindparam("rep"),
                     _metrics.c.period_start <= bindparam("today"))
              .order_by(_metrics.c.period_end.desc(), _metrics.c.period_start.desc())
              .limit(1).subquery())
    team = select(_people.c.id).where(or_(
        and_(_people.c.manager_id == bindparam("boss"), _people.c.active.is_(True)),
        _people.c.id == bindparam("rep")))
    metrics = (select(rows(obj("person", _metrics.c.person_id, "metric", _metrics.c.metric,
                               "kind", _metrics.c.kind, "start", _metrics.c.period_start,
                               "end", _metrics.c.period_end, "target", _metrics.c.target,
                               "actual", _metrics.c.actual)))
               .select_from(_metrics.join(latest, and_(
                   _metrics.c.period_start == latest.c.period_start,
                   _metrics.c.period_end == latest.c.period_end)))
               .where(_metrics.c.person_id.in_(team))
               .scalar_subquery())
    # As coaching.planned_session: the one /coach picks up (its focus comes first).
    next_session = (select(obj("id", _planned.c.id, "focus", _planned.c.focus_area))
                    .where(_planned.c.rep_id == bindparam("rep"),
                           _planned.c.status == written("planned"))
                    .order_by(_planned.c.due_date, _planned.c.id).limit(1).scalar_subquery())
    return select(last.label("last"), review_due.label("review_due"),
                  pending_model.label("pending_model"), actions.label("actions"),
                  checkins.label("checkins"), activity.label("activity"),
                  metrics.label("metrics"), next_session.label("planned"))


_CARD = {dialect: _card_query(dialect) for dialect in ("sqlite", "postgresql")}


def _json(value: Any) -> Any:
    """SQLite hands JSON back as text; psycopg has already parsed it."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def card(conn: Connection, rep_id: int, manager_id: int | None, today: date) -> Card:
    """The rep's context card, with the metric rows of ``manager_id``'s other active
    reports for the team's benchmark, in one query. Metric rows are the rep's latest
    period begun by ``today`` (what the ROAM snapshot shows); check-in counts go back
    ``METRIC_HISTORY``."""
    row = conn.execute(_CARD[conn.dialect.name], {
        "rep": rep_id, "boss": manager_id if manager_id is not None else -1, "today": today,
        "since": today - METRIC_HISTORY}).one()
    last = _json(row.last)
    actions = sorted(_json(row.actions) or [], key=lambda a: (a["due"], a["id"]))
    checkins = sorted(_json(row.checkins) or [], key=lambda c: c["week"], reverse=True)
    model = _json(row.pending_model)
    planned = _json(row.planned)
    mine: list[MetricRow] = []
    team: list[MetricRow] = []
    for m in _json(row.metrics) or []:
        (mine if m["person"] == rep_id else team).append(MetricRow(
            m["metric"], m["kind"], date.fromisoformat(m["start"]),
            date.fromisoformat(m["end"]), float(m["target"]), float(m["actual"])))
    return Card(
        last={"date": str(last["ended"] or "")[:10], "focus": last["focus"],
              "leaf": last["leaf"]} if last else None,
        review_due=str(row.review_due) if row.review_due is not None else None,
        pending_model={"model": model["model"], "date": str(model["ended"] or "")[:10]}
        if model else None,
        actions=[{**a, "due": str(a["due"])} for a in actions],
        checkins=[{"week": str(c["week"]), "coached": bool(c["coached"]),
                   "confidence": c["confidence"], "blockers": c["blockers"]}
                  for c in checkins],
        activity=sorted((CheckinCounts(date.fromisoformat(str(c["week"])),
                                       {str(k): float(v) for k, v in _json(c["counts"]).items()
                                        if isinstance(v, int | float)})
                         for c in _json(row.activity) or []), key=lambda c: c.week),
        metrics=mine, team_metrics=team,
        planned={"id": int(planned["id"]), "focus": str(planned["focus"])} if planned else None,
    )
