"""A large organisation and its history, written with bulk Core inserts that match the
schema (no ORM objects, no flows): what bench_history measures and the EXPLAIN check reads.

Shape (the issue's probe at ``reps=10_000``): one VP, a leader per ten managers, a manager
per eight reps; per rep, at 100 % of the history, 50 finished sessions (each with a done
review, a leaf outcome and an outbox row; an escalation per ten), 200 action items (4 %
open), 500 answered check-ins (each with its ended conversation and three log rows) and
24 months of four metrics. Every rep also has, from the start, one completed session with
a planned review (so /review has something to open at 0 %).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, func, insert, select, text

from storage.models import (
    DEFAULT_ORG,
    ActionItem,
    Checkin,
    CoachingSession,
    Conversation,
    Escalation,
    LeafOutcome,
    Metric,
    Outbox,
    Person,
    Review,
    TransitionLog,
)

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
TODAY = NOW.date()
PLATFORM, TENANT = "console", "local"  # as bot/console/chat.py: the console's identity
REPS_PER_MANAGER = 8
MANAGERS_PER_LEADER = 10
METRICS = (("win rate", "result"), ("revenue", "result"), ("calls", "activity"),
           ("meetings", "activity"))


@dataclass(frozen=True, slots=True)
class Scale:
    """Per rep at 100 % of the history."""

    reps: int = 400
    sessions: int = 50
    actions: int = 200
    checkins: int = 500
    months: int = 24


@dataclass(slots=True)
class Org:
    """Ids of the people the bench talks as, by role."""

    vp: int
    leaders: list[int]
    managers: list[int]
    reps: list[int]  # in manager order: reps[i] reports to managers[i // REPS_PER_MANAGER]
    ids: dict[str, int]  # next free primary key per table (ids are written explicitly)

    def email(self, person_id: int) -> str:
        return f"p{person_id}@bench.example"

    def manager_of(self, rep_index: int) -> int:
        return self.managers[rep_index // REPS_PER_MANAGER]

    def leader_of(self, rep_index: int) -> int:
        return self.leaders[rep_index // REPS_PER_MANAGER // MANAGERS_PER_LEADER]


def _table(model: type) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def _write(conn: Connection, model: type, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), 5000):
        conn.execute(insert(_table(model)), rows[i:i + 5000])


def build_people(conn: Connection, reps: int, first_id: int = 1000) -> Org:
    """The org chart: VP, leaders, managers, reps (all active, console-reachable), with
    ids from ``first_id`` (two orgs may share a database)."""
    org = org_of(reps, first_id)
    vp, leader_ids, manager_ids, rep_ids = org.vp, org.leaders, org.managers, org.reps

    def person(pid: int, role: str, boss: int | None, name: str) -> dict[str, Any]:
        return {"id": pid, "org_id": DEFAULT_ORG, "email": org.email(pid), "name": name,
                "role": role, "manager_id": boss, "timezone": "UTC", "active": True,
                "slack_user_id": f"U{pid}", "teams_user_id": None,
                "created_at": NOW, "updated_at": NOW}

    rows = [person(vp, "leader", None, "Vera Vp")]
    rows += [person(pid, "leader", vp, f"Leader {pid}") for pid in leader_ids]
    rows += [person(pid, "manager", leader_ids[i // MANAGERS_PER_LEADER], f"Manager {pid}")
             for i, pid in enumerate(manager_ids)]
    rows += [person(pid, "rep", manager_ids[i // REPS_PER_MANAGER], f"Rep {pid}")
             for i, pid in enumerate(rep_ids)]
    _write(conn, Person, rows)
    _refresh_ids(conn, org)
    _current_reviews(conn, org)
    return org


def org_of(reps: int, first_id: int = 1000) -> Org:
    """The ids ``build_people`` gives an org of ``reps`` reps (to add history to an org
    built earlier: ``refresh_ids`` then ``add_history``)."""
    managers = -(-reps // REPS_PER_MANAGER)
    leaders = -(-managers // MANAGERS_PER_LEADER)
    vp = first_id
    leader_ids = list(range(vp + 1, vp + 1 + leaders))
    manager_ids = list(range(leader_ids[-1] + 1, leader_ids[-1] + 1 + managers))
    rep_ids = list(range(manager_ids[-1] + 1, manager_ids[-1] + 1 + reps))
    return Org(vp, leader_ids, manager_ids, rep_ids, {})


_KEYS = {"session": CoachingSession, "review": Review, "action": ActionItem, "checkin": Checkin,
         "conversation": Conversation, "log": TransitionLog, "metric": Metric,
         "leaf": LeafOutcome, "escalation": Escalation, "outbox": Outbox}


def _refresh_ids(conn: Connection, org: Org) -> None:
    """Past the rows the application wrote meanwhile (the bench's own turns)."""
    for key, model in _KEYS.items():
        org.ids[key] = (conn.scalar(select(func.max(_table(model).c.id))) or 0) + 1


def _next(org: Org, table: str) -> int:
    value = org.ids[table]
    org.ids[table] = value + 1
    return value


def _session(org: Org, rep_index: int, ended: datetime, status: str) -> dict[str, Any]:
    return {"id": _next(org, "session"), "manager_id": org.manager_of(rep_index),
            "rep_id": org.reps[rep_index], "status": status,
            "started_at": ended - timedelta(minutes=40), "ended_at": ended,
            "focus_area": "prospecting", "leaf": "SKILL_GAP", "category": "skill",
            "agreed_solution": "Open questions first", "metric": "win rate",
            "baseline": 14.0, "target": 20.0, "review_date": ended.date() + timedelta(days=14),
            "next_model": "coaching", "rep_committed": True}


def _current_reviews(conn: Connection, org: Org) -> None:
    """Each rep's one live plan: a completed session a week ago, its review due next week."""
    sessions, reviews = [], []
    for i in range(len(org.reps)):
        session = _session(org, i, NOW - timedelta(days=7), "completed")
        sessions.append(session)
        reviews.append({"id": _next(org, "review"), "session_id": session["id"],
                        "due_date": TODAY + timedelta(days=7), "status": "planned"})
    _write(conn, CoachingSession, sessions)
    _write(conn, Review, reviews)


def add_history(conn: Connection, org: Org, scale: Scale, lo: float, hi: float, *,
                checkins: bool = True) -> int:
    """Write the slice [lo, hi) of every rep's history (fractions of ``scale``); returns
    the number of rows written. Slices never overlap, so 0→0.1 then 0.1→1 is the whole.
    ``checkins=False`` leaves out the check-ins with their conversations and logs (25 of
    the full size's 27 M rows; no App Home reads them)."""
    written = 0
    _refresh_ids(conn, org)
    for chunk in _chunked(range(len(org.reps)), 50):
        batch: dict[type, list[dict[str, Any]]] = {}
        for i in chunk:
            for model, row in _rep_history(org, i, scale, lo, hi, checkins):
                batch.setdefault(model, []).append(row)
        for model in (CoachingSession, Review, LeafOutcome, Escalation, Outbox, ActionItem,
                      Checkin, Conversation, TransitionLog, Metric):
            rows = batch.get(model, [])
            _write(conn, model, rows)
            written += len(rows)
    return written


def _chunked(items: range, size: int) -> Iterator[range]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _part(total: int, lo: float, hi: float) -> range:
    return range(round(total * lo), round(total * hi))


def _rep_history(org: Org, i: int, scale: Scale, lo: float, hi: float,
                 checkins: bool = True) -> Iterator[tuple[type, dict[str, Any]]]:
    rep, manager, leader = org.reps[i], org.manager_of(i), org.leader_of(i)
    key = org.email(rep)
    for k in _part(scale.sessions, lo, hi):
        ended = NOW - timedelta(days=14 * (k + 2))
        session = _session(org, i, ended, "completed")
        yield CoachingSession, session
        review = _next(org, "review")
        yield Review, {"id": review, "session_id": session["id"],
                       "due_date": ended.date() + timedelta(days=14), "status": "done",
                       "held_at": ended + timedelta(days=14), "metric_value": 18.0,
                       "outcome": "met", "notes": {}}
        yield LeafOutcome, {"id": _next(org, "leaf"), "session_id": session["id"],
                            "review_id": None, "leaf": "SKILL_GAP", "category": "skill",
                            "kind": "skill", "values": {"behaviour": "b"}, "created_at": ended}
        if k % 10 == 0:
            yield Escalation, {"id": _next(org, "escalation"), "session_id": session["id"],
                               "leaf": "PROCESS", "owner_id": leader, "raised_by_id": manager,
                               "impact": "i", "evidence": "e", "created_at": ended,
                               "status": "open" if k == 0 else "closed"}
        outbox = _next(org, "outbox")
        yield Outbox, {"id": outbox, "idempotency_key": f"bench:{outbox}", "kind": "plan",
                       "target": key, "payload": {"text": "plan"}, "status": "sent",
                       "attempts": 1, "not_before": ended, "created_at": ended,
                       "first_leased_at": ended, "sent_at": ended}
    for k in _part(scale.actions, lo, hi):
        due = TODAY - timedelta(days=k * 3 - 20)
        yield ActionItem, {"id": _next(org, "action"), "session_id": None, "rep_id": rep,
                           "owner_id": rep if k % 2 else manager, "description": "Role-play",
                           "due_date": due, "status": "open" if k % 25 == 0 else "done",
                           "created_at": NOW, "updated_at": NOW, "shared": True}
    for k in _part(scale.checkins, lo, hi) if checkins else ():
        week = TODAY - timedelta(days=TODAY.weekday() + 7 * (k + 1))
        at = datetime.combine(week, datetime.min.time(), UTC) + timedelta(days=4)
        yield Checkin, {"id": _next(org, "checkin"), "person_id": rep, "period_start": week,
                        "status": "answered", "answered_at": at, "got_coaching": k % 2 == 0,
                        "blockers": "none" if k % 3 else "pricing", "confidence": 3,
                        "activity": {"calls": 30, "meetings": 4}, "action_updates": {}}
        conversation = _next(org, "conversation")
        yield Conversation, {"id": conversation, "platform": PLATFORM, "tenant": TENANT,
                             "user_key": key, "flow": "checkin", "subject": f"week:{week}",
                             "person_id": rep, "status": "ended",
                             "state": {"flow": "checkin", "step": "done", "data": {}},
                             "version": 3, "updated_at": at}
        for step in ("start", "answer", "end"):
            yield TransitionLog, {"id": _next(org, "log"), "conversation_id": conversation,
                                  "person_id": rep, "at": at, "flow": "checkin",
                                  "from_step": step, "to_step": step, "event": step,
                                  "version": 1, "detail": None}
    for k in _part(scale.months, lo, hi):
        first = _month_start(TODAY, k + 1)
        last = _month_start(TODAY, k) - timedelta(days=1)
        for name, kind in METRICS:
            yield Metric, {"id": _next(org, "metric"), "person_id": rep, "period_start": first,
                           "period_end": last, "metric": name, "kind": kind,
                           "target": 20.0, "actual": 10.0 + (rep + k) % 15, "source": "import"}


def _month_start(today: date, back: int) -> date:
    months = today.year * 12 + today.month - 1 - back
    return date(months // 12, months % 12 + 1, 1)


def fix_sequences(conn: Connection) -> None:
    """PostgreSQL: explicit ids leave the serial sequences behind; move them past the rows."""
    if conn.dialect.name != "postgresql":
        return
    for model in (Person, CoachingSession, Review, LeafOutcome, Escalation, Outbox, ActionItem,
                  Checkin, Conversation, TransitionLog, Metric):
        name = _table(model).name
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                          f"(SELECT coalesce(max(id), 0) + 1 FROM {name}), false)"))
