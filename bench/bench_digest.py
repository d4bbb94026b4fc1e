"""The weekly digest of a whole organisation on PostgreSQL, against hand-written aggregate
SQL for the same figures in the same run (issue 10, bench (a)).

    .venv/bin/python -m bench.bench_digest [--scale F] [--samples N] [--pg URL]

At ``--scale 1`` the org is the issue's: 10,000 reps, 500 managers (20 reps each), 50
leaders and a VP, 200,000 held sessions, 1,000,000 check-ins, plus 100,000 action items,
240,000 result metrics, cadences with 88,000 occurrences and 10,000 escalations; the
default scale (0.02: 200 reps) loads in seconds. Rows are bulk-loaded with COPY into a
scratch database created and dropped here (never the one ``--pg`` names), then vacuumed
and analysed as autovacuum would have done. Printed per
recipient (the VP: the whole tree; a leader; a manager): p50 and p95 of the digest
(storage.digest's statements and the Digest built from them), p50 of the raw SQL, their
ratio and the digest's statement count.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, text

from bench.bench_turns import with_pg_database
from bench.machine import describe, percentile
from bot.bootstrap import App, bootstrap
from bot.clock import ManualClock, zone
from bot.services import digest
from bot.settings import Settings
from storage import digest as figures
from storage.models import Person

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
MONDAY = date(2026, 11, 23)  # the week reported on (2026-W48)
FULL_REPS = 10_000
REPS_PER_MANAGER = 20
MANAGERS_PER_LEADER = 10
SESSIONS_PER_REP = 20  # one a fortnight, the last forty weeks
CHECKINS_PER_REP = 100  # weekly, the last hundred weeks
ACTIONS_PER_REP = 10
MONTHS = 12  # two result metrics a month
CATEGORIES = (("coaching", "COACHING"), ("training", "TRAINING"), ("expectations", "FEEDBACK"),
              ("obstacle", "REMOVE_OBSTACLE"), ("systemic", "ESCALATE_SYSTEMIC"),
              ("priorities", "SET_PRIORITIES"))
FOCUS = ("prospecting", "pipeline_management", "forecast_management", "lead_management",
         "account_management", "opportunity_qualification")


@dataclass(frozen=True, slots=True)
class Org:
    vp: int
    leaders: list[int]
    managers: list[int]
    reps: list[int]

    def manager_of(self, rep_index: int) -> int:
        return self.managers[rep_index // REPS_PER_MANAGER]


# --- loading -----------------------------------------------------------------------------

def load(engine: Engine, reps: int) -> Org:
    """The org and its history, COPYed in; returns who is who."""
    managers = max(1, -(-reps // REPS_PER_MANAGER))
    leaders = max(1, -(-managers // MANAGERS_PER_LEADER))
    vp = 1
    leader_ids = list(range(2, 2 + leaders))
    manager_ids = list(range(leader_ids[-1] + 1, leader_ids[-1] + 1 + managers))
    rep_ids = list(range(manager_ids[-1] + 1, manager_ids[-1] + 1 + reps))
    org = Org(vp, leader_ids, manager_ids, rep_ids)
    raw = engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
        for table, columns, rows in _tables(org):
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        for table in ("person", "coaching_session", "checkin", "action_item", "metric",
                      "cadence", "cadence_occurrence", "escalation"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
        raw.commit()
        # What autovacuum does to a production database after a load: statistics for the
        # planner and the visibility map, without which no index-only scan skips the table.
        raw.driver_connection.autocommit = True  # type: ignore[union-attr]
        cursor.execute("VACUUM ANALYZE")
    finally:
        raw.close()
    return org


def _tables(org: Org) -> Iterator[tuple[str, tuple[str, ...], Iterator[tuple[Any, ...]]]]:
    yield "person", ("id", "org_id", "email", "name", "role", "manager_id", "timezone",
                     "active", "created_at", "updated_at"), _people(org)
    yield "coaching_session", ("id", "manager_id", "rep_id", "status", "started_at",
                               "ended_at", "focus_area", "leaf", "category"), _sessions(org)
    yield "checkin", ("id", "person_id", "period_start", "status", "answered_at",
                      "got_coaching"), _checkins(org)
    yield "action_item", ("id", "rep_id", "owner_id", "description", "due_date", "status",
                          "created_at", "updated_at", "shared"), _actions(org)
    yield "metric", ("id", "person_id", "period_start", "period_end", "metric", "kind",
                     "target", "actual", "source"), _metrics(org)
    yield "cadence", ("id", "owner_id", "subject_id", "meeting_type", "rhythm", "day", "time",
                      "timezone", "active"), _cadences(org)
    yield "cadence_occurrence", ("id", "cadence_id", "scheduled_for", "status"), \
        _occurrences(org)
    yield "escalation", ("id", "session_id", "leaf", "owner_id", "raised_by_id", "impact",
                         "evidence", "status", "created_at"), _escalations(org)


def _people(org: Org) -> Iterator[tuple[Any, ...]]:
    def person(pid: int, role: str, boss: int | None) -> tuple[Any, ...]:
        return (pid, 1, f"p{pid}@bench.example", f"{role.title()} {pid}", role, boss, "UTC",
                True, NOW, NOW)

    yield person(org.vp, "leader", None)
    yield from (person(pid, "leader", org.vp) for pid in org.leaders)
    yield from (person(pid, "manager", org.leaders[i // MANAGERS_PER_LEADER])
                for i, pid in enumerate(org.managers))
    yield from (person(pid, "rep", org.manager_of(i)) for i, pid in enumerate(org.reps))


def _sessions(org: Org) -> Iterator[tuple[Any, ...]]:
    n = 0
    for i, rep in enumerate(org.reps):
        for k in range(SESSIONS_PER_REP):
            n += 1
            ended = NOW - timedelta(days=14 * k + (i % 14), hours=i % 9)
            category, leaf = CATEGORIES[(i + k) % len(CATEGORIES)]
            yield (n, org.manager_of(i), rep, "completed", ended - timedelta(minutes=40),
                   ended, FOCUS[(i // 3 + k) % len(FOCUS)], leaf, category)


def _checkins(org: Org) -> Iterator[tuple[Any, ...]]:
    n = 0
    this_monday = NOW.date() - timedelta(days=NOW.weekday())
    for i, rep in enumerate(org.reps):
        for k in range(CHECKINS_PER_REP):
            n += 1
            week = this_monday - timedelta(weeks=k + 1)
            status = ("missed" if (i + k) % 10 == 0 else "open" if (i + k) % 20 == 1
                      else "answered")
            answered = datetime.combine(week, datetime.min.time(), UTC) + timedelta(days=4)
            yield (n, rep, week, status, answered if status == "answered" else None,
                   (i + k) % 3 != 0 if status == "answered" else None)


def _actions(org: Org) -> Iterator[tuple[Any, ...]]:
    n = 0
    for i, rep in enumerate(org.reps):
        for k in range(ACTIONS_PER_REP):
            n += 1
            created = NOW - timedelta(days=7 * k + i % 7)
            done = (i + k) % 3 != 0
            yield (n, rep, rep if k % 2 else org.manager_of(i), "Role-play",
                   created.date() + timedelta(days=10), "done" if done else "open", created,
                   created + timedelta(days=5) if done else created, True)


def _metrics(org: Org) -> Iterator[tuple[Any, ...]]:
    n = 0
    for i, rep in enumerate(org.reps):
        for k in range(MONTHS):
            months = NOW.year * 12 + NOW.month - 1 - k
            first = date(months // 12, months % 12 + 1, 1)
            last = date((months + 1) // 12, (months + 1) % 12 + 1, 1) - timedelta(days=1)
            for name, target in (("revenue", 100_000.0), ("win rate", 25.0)):
                n += 1
                yield (n, rep, first, last, name, "result", target,
                       target * (0.6 + ((i + k) % 9) / 10), "import")


def _cadences(org: Org) -> Iterator[tuple[Any, ...]]:
    n = 0
    for manager in org.managers:
        for kind in ("team_meeting", "forecast_call"):
            n += 1
            yield (n, manager, None, kind, "weekly", "mon", "09:00", "UTC", True)
    for i, rep in enumerate(org.reps):
        n += 1
        yield (n, org.manager_of(i), rep, "pipeline_review", "biweekly", "tue", "10:00", "UTC",
               True)


def _occurrences(org: Org) -> Iterator[tuple[Any, ...]]:
    n, cadence = 0, 0
    statuses = ("held", "held", "held", "skipped", "planned", "moved")
    for _ in org.managers:
        for _kind in range(2):
            cadence += 1
            for week in range(12):
                n += 1
                yield (n, cadence, NOW - timedelta(weeks=week, days=1), statuses[n % 6])
    for _ in org.reps:
        cadence += 1
        for fortnight in range(6):
            n += 1
            yield (n, cadence, NOW - timedelta(weeks=2 * fortnight, days=2), statuses[n % 6])


def _escalations(org: Org) -> Iterator[tuple[Any, ...]]:
    for i in range(len(org.reps)):
        n = i + 1
        session = i * SESSIONS_PER_REP + 1
        owner = org.leaders[i // REPS_PER_MANAGER // MANAGERS_PER_LEADER] if i % 2 \
            else org.manager_of(i)
        yield (n, session, "ESCALATE_SYSTEMIC", owner, org.manager_of(i), "impact", "evidence",
               ("open", "acknowledged", "resolved")[i % 3], NOW - timedelta(days=i % 60))


# --- the raw SQL -------------------------------------------------------------------------

REPS = """WITH RECURSIVE tree(id) AS (
  SELECT id FROM person WHERE manager_id = :boss
  UNION ALL SELECT p.id FROM person p JOIN tree ON p.manager_id = tree.id),
reps AS (SELECT p.id, p.manager_id FROM person p JOIN tree USING (id)
         WHERE p.active AND p.role = 'rep')
"""
WEEK = ("floor(extract(epoch FROM {column} - CAST(:w0 AS timestamptz)) / 604800)::int")
RAW = {
    "teams": "SELECT manager_id, count(*) FROM reps GROUP BY manager_id",
    "sessions": f"""SELECT s.manager_id, {WEEK.format(column="s.ended_at")} AS week,
        count(*), count(DISTINCT s.rep_id) FROM coaching_session s JOIN reps r ON r.id = s.rep_id
        WHERE s.status IN ('completed', 'no_action', 'no_agreement')
          AND s.ended_at >= :w0 AND s.ended_at < :end GROUP BY 1, 2""",
    "coverage": """SELECT e.week_end, count(DISTINCT s.rep_id)
        FROM unnest(CAST(:ends AS timestamptz[])) AS e(week_end)
        JOIN coaching_session s ON s.ended_at >= e.week_end - make_interval(days => :cov)
             AND s.ended_at < e.week_end
        JOIN reps r ON r.id = s.rep_id
        WHERE s.status IN ('completed', 'no_action', 'no_agreement') GROUP BY 1""",
    "mix": f"""SELECT s.category, {WEEK.format(column="s.ended_at")}, count(*)
        FROM coaching_session s JOIN reps r ON r.id = s.rep_id
        WHERE s.status IN ('completed', 'no_action', 'no_agreement') AND s.category IS NOT NULL
          AND s.ended_at >= :w0 AND s.ended_at < :end GROUP BY 1, 2""",
    "systemic": """SELECT 'category', s.category, count(DISTINCT s.rep_id),
               count(DISTINCT r.manager_id)
        FROM coaching_session s JOIN reps r ON r.id = s.rep_id
        WHERE s.status IN ('completed', 'no_action', 'no_agreement')
          AND s.ended_at >= :since30 AND s.ended_at < :end AND s.category IS NOT NULL GROUP BY 2
        UNION ALL SELECT 'focus_area', s.focus_area, count(DISTINCT s.rep_id),
               count(DISTINCT r.manager_id)
        FROM coaching_session s JOIN reps r ON r.id = s.rep_id
        WHERE s.status IN ('completed', 'no_action', 'no_agreement')
          AND s.ended_at >= :since30 AND s.ended_at < :end AND s.focus_area IS NOT NULL
        GROUP BY 2
        UNION ALL SELECT 'leaf', s.leaf, count(DISTINCT s.rep_id), count(DISTINCT r.manager_id)
        FROM coaching_session s JOIN reps r ON r.id = s.rep_id
        WHERE s.status IN ('completed', 'no_action', 'no_agreement')
          AND s.ended_at >= :since30 AND s.ended_at < :end
          AND s.leaf IN ('SYSTEMIC_REDESIGN', 'ESCALATE_SYSTEMIC') GROUP BY 2""",
    "whole_job": """SELECT DISTINCT s.focus_area FROM coaching_session s JOIN reps r
        ON r.id = s.rep_id WHERE s.status IN ('completed', 'no_action', 'no_agreement')
          AND s.ended_at >= :since91 AND s.ended_at < :end AND s.focus_area IS NOT NULL""",
    "adherence": f"""SELECT c.owner_id, c.meeting_type, {WEEK.format(column="o.scheduled_for")},
        count(*) FILTER (WHERE o.status = 'held'), count(*)
        FROM cadence_occurrence o JOIN cadence c ON c.id = o.cadence_id
        WHERE (c.owner_id = :boss OR c.owner_id IN (SELECT id FROM tree))
          AND o.status IN ('held', 'skipped', 'planned')
          AND o.scheduled_for >= :w0 AND o.scheduled_for < :end GROUP BY 1, 2, 3""",
    "actions": """SELECT e.week_start,
        count(*) FILTER (WHERE a.created_at >= e.week_start
                         AND a.created_at < e.week_start + interval '7 days'),
        count(*) FILTER (WHERE a.status = 'done' AND a.updated_at >= e.week_start
                         AND a.updated_at < e.week_start + interval '7 days'),
        count(*) FILTER (WHERE a.created_at < e.week_start + interval '7 days'
                         AND a.due_date < CAST(e.week_start + interval '7 days' AS date)
                         AND (a.status IN ('open', 'in_progress', 'blocked')
                              OR (a.status = 'done'
                                  AND a.updated_at >= e.week_start + interval '7 days')))
        FROM unnest(CAST(:starts AS timestamptz[])) AS e(week_start)
        CROSS JOIN action_item a JOIN reps r ON r.id = a.rep_id
        WHERE a.status IN ('open', 'in_progress', 'blocked') OR a.created_at >= :w0
           OR a.updated_at >= :w0
        GROUP BY 1""",
    "checkins": """SELECT r.manager_id, c.period_start,
        count(*) FILTER (WHERE c.status = 'answered'), count(*) FILTER (WHERE c.status = 'missed'),
        count(*) FILTER (WHERE c.status = 'open'),
        count(*) FILTER (WHERE c.status = 'answered' AND c.got_coaching)
        FROM checkin c JOIN reps r ON r.id = c.person_id
        WHERE c.period_start >= :d0 AND c.period_start <= :dn GROUP BY 1, 2""",
    "results": """SELECT m.metric, e.day, sum(m.actual), sum(m.target)
        FROM unnest(CAST(:days AS date[])) AS e(day)
        JOIN metric m ON m.period_start <= e.day AND m.period_end >= e.day
        JOIN reps r ON r.id = m.person_id
        WHERE m.kind = 'result' AND m.period_start >= :d0 - 92 GROUP BY 1, 2""",
    "escalations": """SELECT e.id, e.leaf, e.owner_id, e.status, e.created_at, count(*) OVER ()
        FROM escalation e WHERE (e.owner_id = :boss OR e.owner_id IN (SELECT id FROM tree))
          AND e.status IN ('open', 'acknowledged') ORDER BY e.created_at, e.id LIMIT 10""",
}


def raw_params(boss: int, weeks: figures.Weeks, coverage_days: int) -> dict[str, Any]:
    n = weeks.count
    return {"boss": boss, "w0": weeks.start(0), "end": weeks.end(n - 1),
            "ends": [weeks.end(k) for k in range(n)],
            "starts": [weeks.start(k) for k in range(n)], "cov": coverage_days,
            "since30": weeks.end(n - 1) - timedelta(days=30),
            "since91": weeks.end(n - 1) - timedelta(days=figures.QUARTER_DAYS),
            "d0": weeks.mondays[0], "dn": weeks.mondays[-1],
            "days": [weeks.last_day(k) for k in range(n)]}


def raw_digest(app: App, boss: int, role: str, weeks: figures.Weeks,
               coverage_days: int) -> dict[str, list[Any]]:
    """The same figures by hand-written SQL, one statement each (a manager's scope is
    their direct reports: the tree CTE then starts and ends one level down)."""
    params = raw_params(boss, weeks, coverage_days)
    tree = REPS if role == "leader" else REPS.replace(
        "UNION ALL SELECT p.id FROM person p JOIN tree ON p.manager_id = tree.id",
        "UNION ALL SELECT p.id FROM person p JOIN tree ON p.manager_id = tree.id WHERE false")
    out: dict[str, list[Any]] = {}
    with app.engine.connect() as conn:
        for name, sql in RAW.items():
            out[name] = list(conn.execute(text(tree + sql), params))
    return out


# --- the run -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Figure:
    who: str
    p50: float
    p95: float
    raw_p50: float
    statements: int

    @property
    def ratio(self) -> float:
        return self.p50 / self.raw_p50


def timed(body: Callable[[], object], samples: int) -> list[float]:
    body()  # warm: plans cached, pages read once
    out = []
    for _ in range(samples):
        start = time.perf_counter()
        body()
        out.append((time.perf_counter() - start) * 1000)
    return out


def measure(app: App, org: Org, samples: int) -> list[Figure]:
    settings = app.playbook.digest
    found: list[Figure] = []
    for label, boss, role in (("VP (whole tree)", org.vp, "leader"),
                              ("leader", org.leaders[0], "leader"),
                              ("manager", org.managers[0], "manager")):
        with app.sessions() as db:
            person = db.get(Person, boss)
            assert person is not None
            weeks = figures.Weeks.ending(MONDAY, zone(person.timezone),
                                         settings.compare_weeks + 1, NOW)
            seen = [0]

            def count(*args: object, seen: list[int] = seen) -> None:
                seen[0] += 1

            event.listen(app.engine, "before_cursor_execute", count)
            built = digest.build(db, person, MONDAY, app.playbook, NOW)
            event.remove(app.engine, "before_cursor_execute", count)
            raw = raw_digest(app, boss, role, weeks, settings.coverage_days)
            _same(built, raw, weeks)
            ours = timed(lambda db=db, person=person: digest.build(
                db, person, MONDAY, app.playbook, NOW), samples)
        theirs = timed(lambda boss=boss, role=role, weeks=weeks: raw_digest(
            app, boss, role, weeks, settings.coverage_days), samples)
        found.append(Figure(label, percentile(ours, 50), percentile(ours, 95),
                            percentile(theirs, 50), seen[0]))
    return found


def _same(built: digest.Digest, raw: dict[str, list[Any]], weeks: figures.Weeks) -> None:
    """The raw SQL counts what the digest counts (else the ratio compares nothing)."""
    assert built.reps == sum(row[1] for row in raw["teams"]), "reps"
    last_end = weeks.end(weeks.count - 1)
    covered = next((row[1] for row in raw["coverage"] if row[0] == last_end), 0)
    assert built.covered == covered, ("coverage", built.covered, covered)
    this_week = built.weeks - 1
    sessions = sum(row[2] for row in raw["sessions"] if row[1] == this_week)
    assert sessions == sum(built.sessions_by_manager.values()), "sessions"
    assert built.open_escalations == (raw["escalations"][0][5] if raw["escalations"] else 0)


def run(url: str, scale: float, samples: int) -> list[Figure]:
    app = bootstrap(Settings(coach_env="test", database_url=url), ManualClock(NOW))
    try:
        reps = max(REPS_PER_MANAGER * 2, round(FULL_REPS * scale))
        started = time.perf_counter()
        org = load(app.engine, reps)
        print(f"loaded {reps:,} reps, {len(org.managers):,} managers, "
              f"{reps * SESSIONS_PER_REP:,} sessions, {reps * CHECKINS_PER_REP:,} check-ins "
              f"in {time.perf_counter() - started:.0f} s")
        found = measure(app, org, samples)
        print(f"{'digest of':<18} {'p50 ms':>9} {'p95 ms':>9} {'raw SQL p50':>12} "
              f"{'ratio':>6} {'statements':>10}")
        for f in found:
            print(f"{f.who:<18} {f.p50:>9.1f} {f.p95:>9.1f} {f.raw_p50:>12.1f} "
                  f"{f.ratio:>6.2f} {f.statements:>10}")
        return found
    finally:
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=0.02,
                        help="fraction of the issue's org (1: 10,000 reps; default 0.02)")
    parser.add_argument("--samples", type=int, default=15, help="runs of each digest")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="an admin URL; a scratch database is created and dropped")
    args = parser.parse_args()
    if not 0 < args.scale <= 1:
        parser.error("--scale must be in (0, 1]")
    print(f"machine: {describe()}")
    with_pg_database(args.pg, lambda url: run(url, args.scale, args.samples) and None)


if __name__ == "__main__":
    main()
