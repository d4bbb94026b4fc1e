"""The weekly digest's figures (METHOD §8) for a leader's whole reporting tree or a manager's
own team, over the reported ISO week and the weeks before it.

The first statement reads the people in scope once (the recursive CTE of storage/people.py
for a leader, the direct reports for a manager); every figure is then one set-based
aggregate over their ids, bound as one parameter, all weeks at once: the number of
statements is fixed (:data:`STATEMENTS`) whatever the org's size. Each reaches the growing
tables by their person index (a rep's sessions, actions, check-ins, metrics; an owner's
cadences and escalations) or, for a whole org, by the window's time index, never by
reading one whole.

Definitions (the README's "Weekly digest" names them too):

- a *rep in scope* is an active person with role ``rep`` in the tree (a manager: their
  direct reports), or one erased (storage/erasure.py) since the first reported week: their
  history stays counted, anonymous, while it is in the digest's weeks; their *team* is
  their manager;
- a *held session* is a coaching session with a finished status (storage.coaching.FINISHED),
  dated by ``ended_at``;
- an action item is *done* in the week its status became ``done`` (``updated_at``) and
  *overdue* at a week's end when it was due before that day and not done by then;
- the check-in response rate is answered / (answered + missed + open past due): an open
  check-in of a week that is over counts as unanswered;
- a meeting is *planned* when an occurrence was scheduled in the week and not moved
  (held, skipped, or still ``planned`` once its time passed); adherence = held / planned;
- results: per result metric, the sums of ``actual`` and ``target`` of the reps' rows
  whose period holds the week's last day;
- blockers (the reported week only): the tagged blockers of the week's answered check-ins
  by tag (storage/blockers.py: a language model tags them), and the answered check-ins
  with blocker text but no tagged blocker (no model, a failure, or none found).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    FromClause,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from storage import people
from storage.coaching import FINISHED, OPEN_ACTION
from storage.models import (
    ActionItem,
    Cadence,
    CadenceOccurrence,
    Checkin,
    CheckinBlocker,
    CoachingSession,
    Escalation,
    Metric,
    Person,
)

STATEMENTS = 12  # what one digest costs, whatever the org's size (tests hold us to it)
QUARTER_DAYS = 91  # whole-job balance looks back this far from the week's end
PERIOD_DAYS = 92  # a result metric's period is at most a quarter long
UNRESOLVED = ("open", "acknowledged")  # escalation statuses still waiting for someone
COUNTED_MEETINGS = ("held", "skipped", "planned")  # "moved" counts where it moved to
LISTED_ESCALATIONS = 10

_people = cast(Table, Person.__table__)
_sessions = cast(Table, CoachingSession.__table__)
_actions = cast(Table, ActionItem.__table__)
_checkins = cast(Table, Checkin.__table__)
_metrics = cast(Table, Metric.__table__)
_cadences = cast(Table, Cadence.__table__)
_occurrences = cast(Table, CadenceOccurrence.__table__)
_escalations = cast(Table, Escalation.__table__)
_blockers = cast(Table, CheckinBlocker.__table__)


@dataclass(frozen=True, slots=True)
class Weeks:
    """The reported ISO week and the ones before it, oldest first, in the recipient's zone.

    ``bounds[k]`` .. ``bounds[k + 1]`` is week k as UTC instants; the last bound is clipped
    at ``now`` for a week not over yet. ``mondays[k]`` is week k's Monday, ``last_day(k)``
    its last day (or today in an unfinished week)."""

    mondays: tuple[date, ...]
    bounds: tuple[datetime, ...]
    now: datetime
    tz: ZoneInfo

    @classmethod
    def ending(cls, monday: date, tz: ZoneInfo, count: int, now: datetime) -> Weeks:
        """``count`` weeks, the last one starting on ``monday`` (a Monday)."""
        mondays = tuple(monday - timedelta(weeks=count - 1 - k) for k in range(count))
        bounds = [datetime.combine(m, time(), tz) for m in mondays]
        bounds.append(datetime.combine(monday + timedelta(weeks=1), time(), tz))
        clipped = [min(b, max(now, bounds[0])) for b in bounds]
        return cls(mondays, tuple(clipped), now, tz)

    @property
    def count(self) -> int:
        return len(self.mondays)

    def start(self, k: int) -> datetime:
        return self.bounds[k]

    def end(self, k: int) -> datetime:
        return self.bounds[k + 1]

    def over(self, k: int) -> bool:
        """Is week k over (an open check-in of it is past due)?"""
        return datetime.combine(self.mondays[k] + timedelta(weeks=1), time(), self.tz) <= self.now

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    def last_day(self, k: int) -> date:
        return min(self.mondays[k] + timedelta(days=6), self.today)

    def overdue_day(self, k: int) -> date:
        """An action due before this day was overdue at week k's end."""
        return min(self.mondays[k] + timedelta(weeks=1), self.today)


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose figures: a leader's (``role`` "leader") tree or a manager's team."""

    boss_id: int
    role: str
    postgresql: bool = False  # the ids in scope bound as an array, else as JSON (_in_scope)
    erased_since: datetime | None = None  # erased reps still counted (set by ``figures``)

    def __post_init__(self) -> None:
        if self.role not in people.SCOPE:
            raise ValueError(f"a digest is for managers and leaders, not a {self.role}")


@dataclass(frozen=True, slots=True)
class ManagerRef:
    id: int
    email: str
    name: str


@dataclass(slots=True)
class ManagerWeeks:
    """One manager's per-week figures (lists indexed like :class:`Weeks`)."""

    manager: ManagerRef
    reps: int = 0  # active reps reporting to them now (0: someone outside the teams)
    sessions: list[int] = field(default_factory=list)
    reps_coached: list[int] = field(default_factory=list)  # distinct reps with a session
    confirmed: list[int] = field(default_factory=list)  # check-ins saying "got coaching"
    meetings: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # (held, planned)


@dataclass(frozen=True, slots=True)
class Flag:
    kind: str  # category | focus_area | leaf
    value: str
    reps: int
    teams: int


@dataclass(frozen=True, slots=True)
class OpenEscalation:
    id: int
    leaf: str
    owner: str
    status: str
    since: datetime


@dataclass(slots=True)
class Figures:
    """Every figure of the digest, per week where it has a trend (oldest week first)."""

    weeks: Weeks
    reps: int = 0
    covered: list[int] = field(default_factory=list)
    managers: dict[int, ManagerWeeks] = field(default_factory=dict)
    opened: list[int] = field(default_factory=list)
    done: list[int] = field(default_factory=list)
    overdue: list[int] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    unanswered: list[int] = field(default_factory=list)  # missed + open past due
    results: dict[str, list[tuple[float, float] | None]] = field(default_factory=dict)
    mix: dict[str, list[int]] = field(default_factory=dict)  # category → per week
    flags: list[Flag] = field(default_factory=list)
    focus_touched: set[str] = field(default_factory=set)
    open_escalations: int = 0
    escalations: list[OpenEscalation] = field(default_factory=list)
    blocker_tags: dict[str, int] = field(default_factory=dict)  # the reported week's
    untagged_blockers: int = 0  # answered check-ins with blocker text and no tag

    def team_heads(self) -> list[ManagerWeeks]:
        return [m for m in self.managers.values() if m.reps > 0]


def figures(db: Session, scope: Scope, weeks: Weeks, coverage_days: int,
            systemic_leaves: Sequence[str], systemic_window_days: int) -> Figures:
    """All the digest's figures for ``scope`` over ``weeks``: :data:`STATEMENTS` queries.
    The first reads the people in scope; every other is bound to the ids it found."""
    out = Figures(weeks)
    scope = replace(scope, erased_since=weeks.start(0),
                    postgresql=db.get_bind().dialect.name == "postgresql")
    with _planned_for_their_ids(scope, db):
        params = _teams(db, scope, out)
        _sessions_by_manager(db, scope, out, params)
        _coverage(db, scope, out, params, coverage_days)
        _solution_mix(db, scope, out, params)
        _systemic(db, scope, out, params, systemic_leaves, systemic_window_days)
        _whole_job(db, scope, out, params)
        _adherence(db, scope, out, params)
        _action_items(db, scope, out, params)
        _checkins_by_manager(db, scope, out, params)
        _results(db, scope, out, params)
        _open_escalations(db, scope, out, params)
        _blocker_tags(db, scope, out, params)
    return out


# --- who is in scope -------------------------------------------------------------------

def _teams(db: Session, scope: Scope, out: Figures) -> dict[str, Any]:
    """The people in scope (people.SCOPE, METHOD §9), read once: the reps counted (active,
    or erased since ``scope.erased_since``) make the teams (``out.reps``, each manager's
    ``reps``); returned as the parameters of every other figure's query, ``reps`` (whose
    sessions, actions, check-ins and metrics count) and ``owners`` (the recipient and
    everyone in scope: whose cadences and escalations count), so that no query walks the
    reporting tree again."""
    person, boss = _people, _people.alias("boss_of")
    assert scope.erased_since is not None
    counted = and_(person.c.role == "rep", or_(person.c.active.is_(True),
                                               person.c.erased_at >= scope.erased_since))
    rows = db.execute(
        select(person.c.id, counted.label("counted"), boss.c.id.label("boss_id"),
               boss.c.email, boss.c.name)
        .select_from(person.join(boss, person.c.manager_id == boss.c.id))
        .where(people.SCOPE[scope.role]), {"boss": scope.boss_id})
    reps: list[int] = []
    owners = [scope.boss_id]
    teams: dict[tuple[int, str, str], int] = {}  # (manager id, email, name) → reps
    for person_id, is_counted, *manager in rows:
        owners.append(person_id)
        if is_counted:
            reps.append(person_id)
            key = cast(tuple[int, str, str], tuple(manager))
            teams[key] = teams.get(key, 0) + 1
    for (manager_id, email, name), size in teams.items():
        _manager(out, manager_id, email, name).reps = size
    out.reps = len(reps)
    owners = list(dict.fromkeys(owners))  # each once: joined, a repeated id counts twice
    return {"reps": _id_list(scope, reps), "owners": _id_list(scope, owners)}


def _id_list(scope: Scope, ids: list[int]) -> str:
    """``ids`` as one text parameter, an array literal on PostgreSQL (that the server reads
    in a fraction of the time psycopg takes to send a list of 10,000 ints: ~20 ms each
    time, in pure Python), a JSON array on SQLite."""
    if scope.postgresql:
        return "{" + ",".join(map(str, ids)) + "}"
    return json.dumps(ids)


def _in_scope(scope: Scope, rows: FromClause, column: Any,
              ids: str = "reps") -> FromClause:
    """``rows`` joined to the ids bound as ``ids`` (see :func:`_teams`) on ``column``: only
    the rows of reps in scope (``reps``) or of the owners that count (``owners``). The
    ids are a table of their own, not ``IN``: the planner sees how many there are (the
    array's length on PostgreSQL), so it probes an index id by id for a team and reads the
    window's rows once for a whole org, and prices no id one by one. (On SQLite, a JSON
    array: its number of variables is limited.)"""
    if scope.postgresql:
        as_array = sql_cast(bindparam(ids, type_=String), ARRAY(Integer))
        listed = func.unnest(as_array).table_valued("value").render_derived()
    else:
        listed = func.json_each(bindparam(ids, type_=String)).table_valued("value")
    return rows.join(listed, listed.c.value == column)


@contextmanager
def _planned_for_their_ids(scope: Scope, db: Session) -> Iterator[None]:
    """PostgreSQL: psycopg prepares a statement run five times on a connection, and the
    server then plans it once for any parameters (a generic plan) that guesses ten ids in
    scope: a whole org's rows read rep by rep. The digest's statements are not prepared
    (each is planned for the ids it is given: under a millisecond each)."""
    if not scope.postgresql:
        yield
        return
    driver = db.connection().connection.driver_connection
    threshold = driver.prepare_threshold  # type: ignore[union-attr]
    driver.prepare_threshold = None  # type: ignore[union-attr]
    try:
        yield
    finally:
        driver.prepare_threshold = threshold  # type: ignore[union-attr]


def _week_of(column: Any, bounds: Sequence[Any]) -> Any:
    """Which week (0 = oldest) a value falls in, given the weeks' starts after the first."""
    return case(*((column < bound, k) for k, bound in enumerate(bounds)), else_=len(bounds))


def _manager(out: Figures, manager_id: int, email: str, name: str) -> ManagerWeeks:
    found = out.managers.get(manager_id)
    if found is None:
        n = out.weeks.count
        found = out.managers[manager_id] = ManagerWeeks(
            ManagerRef(manager_id, email, name), 0, [0] * n, [0] * n, [0] * n)
    return found


# --- the figures -------------------------------------------------------------------------

def _held(weeks: Weeks, since: datetime) -> list[ColumnElement[bool]]:
    """Sessions held between ``since`` and the last week's end (of the rows joined to the
    reps in scope: see :func:`_in_scope`)."""
    return [_sessions.c.status.in_(FINISHED),
            _sessions.c.ended_at >= since, _sessions.c.ended_at < weeks.end(weeks.count - 1)]


def _sessions_by_manager(db: Session, scope: Scope, out: Figures,
                         params: dict[str, Any]) -> None:
    weeks = out.weeks
    week = _week_of(_sessions.c.ended_at, weeks.bounds[1:-1]).label("week")
    counts = (select(_sessions.c.manager_id, week, func.count().label("sessions"),
                     func.count(_sessions.c.rep_id.distinct()).label("reps"))
              .select_from(_in_scope(scope, _sessions, _sessions.c.rep_id))
              .where(*_held(weeks, weeks.start(0)))
              .group_by(_sessions.c.manager_id, week))
    rows = db.execute(_named(counts), params)
    for row in rows:
        manager = _manager(out, row.id, row.email, row.name)
        manager.sessions[row.week] = row.sessions
        manager.reps_coached[row.week] = row.reps


def _named(counts: Select[Any]) -> Select[Any]:
    """``counts`` (grouped by a ``manager_id`` first) with the manager's id, email and name:
    joined once the rows are counted, to a few rows per manager, not to every row counted."""
    found = counts.subquery()
    boss = _people.alias("boss_of")
    return (select(boss.c.id, boss.c.email, boss.c.name,
                   *(column for column in found.c if column.name != "manager_id"))
            .join_from(found, boss, found.c.manager_id == boss.c.id))


def _coverage(db: Session, scope: Scope, out: Figures, params: dict[str, Any],
              coverage_days: int) -> None:
    """Per week: the reps with a held session in the ``coverage_days`` before its end."""
    weeks, window = out.weeks, timedelta(days=coverage_days)
    counts = [func.count(case((and_(_sessions.c.ended_at >= weeks.end(k) - window,
                                    _sessions.c.ended_at < weeks.end(k)),
                              _sessions.c.rep_id)).distinct())
              for k in range(weeks.count)]
    row = db.execute(select(*counts).select_from(_in_scope(scope, _sessions, _sessions.c.rep_id))
                     .where(*_held(weeks, weeks.end(0) - window)), params).one()
    out.covered = [int(n) for n in row]


def _solution_mix(db: Session, scope: Scope, out: Figures, params: dict[str, Any]) -> None:
    weeks = out.weeks
    week = _week_of(_sessions.c.ended_at, weeks.bounds[1:-1]).label("week")
    rows = db.execute(
        select(_sessions.c.category, week, func.count().label("n"))
        .select_from(_in_scope(scope, _sessions, _sessions.c.rep_id))
        .where(*_held(weeks, weeks.start(0)), _sessions.c.category.is_not(None))
        .group_by(_sessions.c.category, week), params)
    for row in rows:
        out.mix.setdefault(row.category, [0] * weeks.count)[row.week] = row.n


def _systemic(db: Session, scope: Scope, out: Figures, params: dict[str, Any],
              systemic_leaves: Sequence[str], window_days: int) -> None:
    """The same category or focus area for several reps or teams in the window ending with
    the reported week, and every systemic leaf: reps and teams (their managers) counted."""
    weeks, rep = out.weeks, _people.alias("rep")
    since = weeks.end(weeks.count - 1) - timedelta(days=window_days)
    held = (select(_sessions.c.rep_id, rep.c.manager_id, _sessions.c.category,
                   _sessions.c.focus_area, _sessions.c.leaf)
            .select_from(_in_scope(scope, _sessions, _sessions.c.rep_id)
                         .join(rep, _sessions.c.rep_id == rep.c.id))
            .where(*_held(weeks, since)).cte("held"))  # read once, counted three ways

    def grouped(kind: str, column: Any, *where: Any) -> Select[Any]:
        return (select(literal(kind).label("kind"), column.label("value"),
                       func.count(held.c.rep_id.distinct()).label("reps"),
                       func.count(held.c.manager_id.distinct()).label("teams"))
                .where(column.is_not(None), *where).group_by(column))

    query = grouped("category", held.c.category).union_all(
        grouped("focus_area", held.c.focus_area),
        grouped("leaf", held.c.leaf, held.c.leaf.in_(list(systemic_leaves))))
    out.flags = [Flag(r.kind, r.value, r.reps, r.teams) for r in db.execute(query, params)]


def _whole_job(db: Session, scope: Scope, out: Figures, params: dict[str, Any]) -> None:
    weeks = out.weeks
    since = weeks.end(weeks.count - 1) - timedelta(days=QUARTER_DAYS)
    rows = db.execute(select(_sessions.c.focus_area).distinct()
                      .select_from(_in_scope(scope, _sessions, _sessions.c.rep_id))
                      .where(*_held(weeks, since), _sessions.c.focus_area.is_not(None)),
                      params)
    out.focus_touched = {row.focus_area for row in rows}


def _adherence(db: Session, scope: Scope, out: Figures, params: dict[str, Any]) -> None:
    weeks, owner = out.weeks, _people.alias("owner")
    week = _week_of(_occurrences.c.scheduled_for, weeks.bounds[1:-1]).label("week")
    rows = db.execute(
        select(owner.c.id, owner.c.email, owner.c.name, _cadences.c.meeting_type, week,
               func.count(case((_occurrences.c.status == "held", 1))).label("held"),
               func.count().label("planned"))
        .select_from(_in_scope(scope, _cadences, _cadences.c.owner_id, "owners")
                     .join(_occurrences, _occurrences.c.cadence_id == _cadences.c.id)
                     .join(owner, _cadences.c.owner_id == owner.c.id))
        .where(_occurrences.c.status.in_(COUNTED_MEETINGS),
               _occurrences.c.scheduled_for >= weeks.start(0),
               _occurrences.c.scheduled_for < weeks.end(weeks.count - 1))
        .group_by(owner.c.id, owner.c.email, owner.c.name, _cadences.c.meeting_type, week),
        params)
    for row in rows:
        manager = _manager(out, row.id, row.email, row.name)
        per_week = manager.meetings.setdefault(row.meeting_type, [(0, 0)] * weeks.count)
        per_week[row.week] = (row.held, row.planned)


def _action_items(db: Session, scope: Scope, out: Figures, params: dict[str, Any]) -> None:
    weeks, a = out.weeks, _actions.c
    is_open = a.status.in_(OPEN_ACTION)
    columns: list[Any] = []
    for k in range(weeks.count):
        start, end = weeks.start(k), weeks.end(k)
        columns += [
            func.count(case((and_(a.created_at >= start, a.created_at < end), 1))),
            func.count(case((and_(a.status == "done", a.updated_at >= start,
                                  a.updated_at < end), 1))),
            func.count(case((and_(a.created_at < end, a.due_date < weeks.overdue_day(k),
                                  or_(is_open, and_(a.status == "done", a.updated_at >= end))),
                             1))),
        ]
    row = db.execute(select(*columns).select_from(_in_scope(scope, _actions, a.rep_id)).where(
        or_(is_open, a.created_at >= weeks.start(0), a.updated_at >= weeks.start(0))),
        params).one()
    out.opened = [int(row[3 * k]) for k in range(weeks.count)]
    out.done = [int(row[3 * k + 1]) for k in range(weeks.count)]
    out.overdue = [int(row[3 * k + 2]) for k in range(weeks.count)]


def _checkins_by_manager(db: Session, scope: Scope, out: Figures,
                         params: dict[str, Any]) -> None:
    weeks, rep, c = out.weeks, _people.alias("rep"), _checkins.c
    week = _week_of(c.period_start, weeks.mondays[1:]).label("week")
    counts = (
        select(rep.c.manager_id, week,
               func.count(case((c.status == "answered", 1))).label("answered"),
               func.count(case((c.status == "missed", 1))).label("missed"),
               func.count(case((c.status == "open", 1))).label("open"),
               func.count(case((and_(c.status == "answered", c.got_coaching.is_(True)), 1)))
               .label("confirmed"))
        .select_from(_in_scope(scope, _checkins, c.person_id)
                     .join(rep, c.person_id == rep.c.id))
        .where(c.period_start >= weeks.mondays[0],
               c.period_start <= weeks.mondays[-1])
        .group_by(rep.c.manager_id, week))
    rows = db.execute(_named(counts), params)
    out.answered, out.unanswered = [0] * weeks.count, [0] * weeks.count
    for row in rows:
        out.answered[row.week] += row.answered
        out.unanswered[row.week] += row.missed + (row.open if weeks.over(row.week) else 0)
        _manager(out, row.id, row.email, row.name).confirmed[row.week] = row.confirmed


def _results(db: Session, scope: Scope, out: Figures, params: dict[str, Any]) -> None:
    weeks, m = out.weeks, _metrics.c
    columns: list[Any] = []
    for k in range(weeks.count):
        day = weeks.last_day(k)
        holds = and_(m.period_start <= day, m.period_end >= day)
        columns += [func.sum(case((holds, m.actual))), func.sum(case((holds, m.target))),
                    func.count(case((holds, 1)))]
    rows = db.execute(
        select(m.metric, *columns)
        .select_from(_in_scope(scope, _metrics, m.person_id))
        .where(m.kind == "result",
               m.period_start >= weeks.mondays[0] - timedelta(days=PERIOD_DAYS),
               m.period_start <= weeks.last_day(weeks.count - 1),
               m.period_end >= weeks.mondays[0] + timedelta(days=6))
        .group_by(m.metric), params)
    for row in rows:
        out.results[row.metric] = [
            (float(row[1 + 3 * k]), float(row[2 + 3 * k])) if row[3 + 3 * k] else None
            for k in range(weeks.count)]


def _open_escalations(db: Session, scope: Scope, out: Figures, params: dict[str, Any]) -> None:
    e, owner = _escalations.c, _people.alias("owner")
    rows = db.execute(
        select(e.id, e.leaf, owner.c.email, e.status, e.created_at,
               func.count().over().label("total"))
        .select_from(_in_scope(scope, _escalations, e.owner_id, "owners")
                     .join(owner, e.owner_id == owner.c.id))
        .where(e.status.in_(UNRESOLVED))
        .order_by(e.created_at, e.id).limit(LISTED_ESCALATIONS), params).all()
    out.open_escalations = rows[0].total if rows else 0
    out.escalations = [OpenEscalation(r.id, r.leaf, r.email, r.status, r.created_at)
                       for r in rows]


def _blocker_tags(db: Session, scope: Scope, out: Figures, params: dict[str, Any]) -> None:
    """The reported week's check-in blockers: tagged ones by tag, and the answered check-ins
    with blocker text none of which was tagged (tag NULL in the result). A statement of its
    own (issue 11), by the check-in's (person, week) key and the blockers' check-in index."""
    c, b = _checkins.c, _blockers.c
    week = [c.period_start == out.weeks.mondays[-1], c.status == "answered"]
    tagged = (select(b.tag.label("tag"), func.count().label("n"))
              .select_from(_in_scope(scope, _checkins, c.person_id)
                           .join(_blockers, b.checkin_id == c.id))
              .where(*week).group_by(b.tag))
    untagged = (select(literal(None, String).label("tag"), func.count().label("n"))
                .select_from(_in_scope(scope, _checkins, c.person_id))
                .where(*week, c.blockers.is_not(None),
                       ~select(b.id).where(b.checkin_id == c.id).exists()))
    for row in db.execute(tagged.union_all(untagged), params):
        if row.tag is None:
            out.untagged_blockers = int(row.n)
        else:
            out.blocker_tags[row.tag] = int(row.n)
