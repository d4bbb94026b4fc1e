"""Every query of a turn (/coach, an answer, /review, the first query of each) and of the
App Home data is bounded by the rows it shows: EXPLAIN finds no full scan of a table that
grows with history. Statements are captured as sent (before_cursor_execute) and explained
with the same parameters. On PostgreSQL sequential scans are priced out
(``enable_seqscan = off``), so one that remains means no index could serve the query,
whatever the table's size today."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, event, insert, select

from bench.history import (
    NOW,
    PLATFORM,
    TENANT,
    Org,
    Scale,
    add_history,
    build_people,
    fix_sequences,
)
from bot.channels.who import Who
from bot.services import digest, home
from bot.slack.store import SlackStore
from flows.messages import Say, Submit
from storage import conversations, teams_conversations, tenancy, views
from storage import digest as figures
from storage.models import (
    Cadence,
    CadenceOccurrence,
    Checkin,
    CheckinBlocker,
    Outbox,
    Person,
    PlannedSession,
)
from tests.support import make_app

GROWING = {"coaching_session", "action_item", "checkin", "metric", "review", "transition_log",
           "conversation", "leaf_outcome", "escalation", "outbox", "cadence_occurrence",
           "planned_session", "slack_view", "teams_conversation", "checkin_blocker"}
# Partial indexes of the rows still to do, not the done ones: read whole, they are bounded
# by the backlog, not by the history (ix_outbox_due: the outbox's unsent rows).
UNHISTORIC = {"ix_outbox_due"}
SMALL = Scale(reps=24, sessions=6, actions=30, checkins=12, months=6)


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
             executemany: bool) -> None:
        seen.append((statement, parameters[0] if executemany else parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def plan_problems(engine: Engine, seen: list[tuple[str, Any]]) -> list[str]:
    return [p for statement, params in seen for p in full_scans(engine, statement, params)]


def full_scans(engine: Engine, statement: str, parameters: Any) -> list[str]:
    """The growing tables this statement would read whole, by its plan."""
    head = statement.lstrip().split(None, 1)[0].upper()
    if head not in ("SELECT", "WITH", "UPDATE", "DELETE"):
        return []
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            cursor = psycopg.ClientCursor(raw.driver_connection)  # type: ignore[arg-type]
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("EXPLAIN " + statement, parameters)
            plan = [row[0] for row in cursor.fetchall()]
            tables = [m.group(1) for line in plan if (m := re.search(r"Seq Scan on (\w+)", line))]
        else:
            cursor = raw.cursor()
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            plan = [row[3] for row in cursor.fetchall()]
            tables = [re.sub(r"_\d+$", "", m.group(1)) for line in plan
                      if (m := re.match(r"SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?", line))
                      and m.group(2) not in UNHISTORIC]
        raw.rollback()
    finally:
        raw.close()
    return [f"{table}: {statement[:300]} -> {plan}" for table in tables if table in GROWING]


def org_with_history(db_url: str) -> tuple[Any, Org]:
    app = make_app(db_url, demo=False, start=NOW)
    with app.engine.begin() as conn:
        org = build_people(conn, SMALL.reps)
        add_history(conn, org, SMALL, 0.0, 1.0)
        fix_sequences(conn)
    return app, org


@pytest.mark.parametrize("command", ["/coach", "/review"])
def test_turns_read_no_growing_table_whole(db_url: str, command: str) -> None:
    app, org = org_with_history(db_url)
    manager = Who(PLATFORM, TENANT, org.email(org.manager_of(3)))
    rep = Who(PLATFORM, TENANT, org.email(org.reps[3]))
    with app.engine.begin() as conn:  # a session a review planned: /coach picks it up
        for n, rep_id in enumerate(org.reps[:8]):
            conn.execute(insert(PlannedSession).values(
                rep_id=rep_id, manager_id=org.manager_of(n), focus_area="prospecting",
                due_date=NOW.date(), status="planned" if n == 3 else "started",
                created_at=NOW))
    with captured(app.engine) as seen:
        app.runner.handle(manager, Say(f"{command} {org.email(org.reps[3])}"))
        if command == "/coach":  # and an answer to its first question
            app.runner.handle(manager, Submit({"purpose": "Lift win rate",
                                               "objectives": "One behaviour",
                                               "value_to_rep": "Commission"}))
        app.runner.handle(rep, Say("/help"))  # a rep's first query
    assert len(seen) > 5
    problems = [p for statement, params in seen for p in full_scans(app.engine, statement,
                                                                     params)]
    app.close()
    assert problems == []


def test_app_home_reads_no_growing_table_whole(db_url: str) -> None:
    app, org = org_with_history(db_url)
    people = (org.reps[3], org.manager_of(3), org.leader_of(3), org.vp)
    with captured(app.engine) as seen, app.sessions() as db:
        for person_id in people:
            person = db.get(Person, person_id)
            assert person is not None
            home.load(db, person, NOW, app.playbook)
    problems = [p for statement, params in seen for p in full_scans(app.engine, statement,
                                                                     params)]
    app.close()
    assert problems == []


def test_the_digest_reads_no_growing_table_whole(db_url: str) -> None:
    """Every figure of a VP's, a leader's and a manager's weekly digest goes by the people
    in scope, read once and joined as a list of ids (a rep's sessions, actions, check-ins,
    metrics; an owner's cadences and escalations) or by the reported weeks' time index."""
    app, org = org_with_history(db_url)
    with app.sessions.begin() as db:  # each manager's weekly team meeting, a year of them
        for manager in org.managers:
            cadence = Cadence(owner_id=manager, meeting_type="team_meeting", rhythm="weekly",
                              day="mon", time="09:00", timezone="UTC")
            db.add(cadence)
            db.flush()
            db.add_all(CadenceOccurrence(cadence_id=cadence.id, status="held",
                                         scheduled_for=NOW - timedelta(weeks=k))
                       for k in range(52))
    monday = NOW.date() - timedelta(days=NOW.weekday() + 7)
    with app.sessions.begin() as db:  # the week's blockers, some tagged (issue 11)
        week = list(db.scalars(select(Checkin).where(Checkin.period_start == monday)))
        assert week
        for n, row in enumerate(week):
            row.status, row.blockers = "answered", "CRM down"
            if n % 2:
                db.add(CheckinBlocker(checkin_id=row.id, tag="tools", quote="CRM down"))
    with captured(app.engine) as seen, app.sessions() as db:
        for person_id in (org.vp, org.leader_of(3), org.manager_of(3)):
            person = db.get(Person, person_id)
            assert person is not None
            digest.build(db, person, monday, app.playbook, NOW)
    assert len(seen) >= 3 * figures.STATEMENTS
    problems = [p for statement, params in seen for p in full_scans(app.engine, statement,
                                                                     params)]
    app.close()
    assert problems == []


def test_slack_view_owners_are_read_written_and_pruned_by_index(db_url: str) -> None:
    """Every /coach records its modal's owner, every click reads one, now and then the
    old ones go: by key and by the opened_at index, never the whole table."""
    app = make_app(db_url, demo=False, start=NOW)
    store = SlackStore(app.engine, app.sessions, app.clock)
    with app.engine.begin() as conn:
        for n in range(60):
            views.remember(conn, f"V{n}", "T1", f"U{n}", NOW - timedelta(days=n % 12))
    with captured(app.engine) as seen:
        store.remember_view("VNEW", Who("slack", "T1", "U1"))  # the first one prunes too
        assert store.owns_view("VNEW", Who("slack", "T1", "U1"))
        assert not store.owns_view("V11", Who("slack", "T1", "U11"))  # too old: refused
        assert store.open_view_of(Who("slack", "T1", "U1")) == "VNEW"  # a late answer's
        store.forget_view("VNEW")  # closed
        assert store.open_view_of(Who("slack", "T1", "U1")) == "V1"
    assert {s.split()[0] for s, _ in seen} >= {"DELETE", "INSERT", "SELECT"}
    problems = plan_problems(app.engine, seen)
    app.close()
    assert problems == []


def test_the_check_sees_a_full_scan(engine: Engine) -> None:
    """The check itself: a filter no index serves is reported, a key read is not."""
    dialect = engine.dialect.name
    param = "%(v)s" if dialect == "postgresql" else "?"
    value: Any = {"v": 1.0} if dialect == "postgresql" else (1.0,)
    assert full_scans(engine, f"SELECT id FROM metric WHERE actual > {param}", value)
    key: Any = {"v": 1} if dialect == "postgresql" else (1,)
    assert not full_scans(engine, f"SELECT actual FROM metric WHERE id = {param}", key)


def test_a_speakers_first_query_goes_by_person_not_by_every_conversation(db_url: str) -> None:
    """load_turn: the person's live conversation through ix_conversation_person, not the
    unique key's (platform, tenant, user_key) prefix over all their ended check-ins."""
    app, org = org_with_history(db_url)
    with captured(app.engine) as seen, app.engine.connect() as conn:
        conversations.load_turn(conn, PLATFORM, TENANT, org.email(org.reps[3]))
    statement, params = seen[-1]
    raw = app.engine.raw_connection()
    try:
        if app.engine.dialect.name == "postgresql":
            cursor: Any = psycopg.ClientCursor(raw.driver_connection)  # type: ignore[arg-type]
            cursor.execute("EXPLAIN " + statement, params)
            plan = " ".join(row[0] for row in cursor.fetchall())
        else:
            cursor = raw.cursor()
            cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
            plan = " ".join(row[3] for row in cursor.fetchall())
    finally:
        raw.close()
    app.close()
    assert "ix_conversation_person" in plan, plan


def test_the_escalation_inbox_reads_no_growing_table_whole(db_url: str) -> None:
    """/escalations and its actions go by (owner_id, status) and by key."""
    from sqlalchemy import select

    from storage.models import Escalation

    app, _org = org_with_history(db_url)
    with app.sessions() as db:
        escalation = db.scalars(select(Escalation).where(Escalation.status == "open")
                                .order_by(Escalation.id)).first()
        assert escalation is not None and escalation.owner_id is not None
        owner = db.get(Person, escalation.owner_id)
        assert owner is not None
        who, number = Who(PLATFORM, TENANT, owner.email), escalation.id
    with captured(app.engine) as seen:
        said = [app.runner.handle(who, Say(command))[0].text for command in (
            "/escalations", f"/escalations ack {number}", f"/escalations reassign {number}",
            f"/escalations resolve {number} Fixed")]
    assert said[1].startswith("Acknowledged") and said[3] == f"Resolved #{number}."
    problems = [p for statement, params in seen for p in full_scans(app.engine, statement,
                                                                     params)]
    app.close()
    assert len(seen) > 8
    assert problems == []


def test_a_proactive_teams_message_finds_its_chat_by_key(db_url: str) -> None:
    """The Teams notifier's lookup (recipient email → their personal chat in the tenant)
    goes through the person's unique email and ix_teams_conversation_user."""
    app, org = org_with_history(db_url)
    with app.engine.begin() as conn:
        tenancy.link(conn, 1, "teams", "tenant-x", NOW)
        for index, rep in enumerate(org.reps):
            conn.execute(Person.__table__.update().where(Person.id == rep)
                         .values(teams_user_id=f"aad-{rep}"))
            for chat in range(3):  # their personal chat, and team chats of others
                teams_conversations.remember(
                    conn, tenant="tenant-x", conversation_id=f"a:{rep}:{chat}",
                    user_key=f"aad-{rep}" if chat == 0 else "",
                    scope="personal" if chat == 0 else "team",
                    reference={"conversation": {"id": f"a:{rep}:{chat}"}, "n": index},
                    now=NOW)
    with captured(app.engine) as seen, app.engine.connect() as conn:
        found = teams_conversations.personal_of(conn, "tenant-x", org.email(org.reps[3]))
    assert found is not None and found["conversation"]["id"] == f"a:{org.reps[3]}:0"
    problems = [p for statement, params in seen for p in full_scans(app.engine, statement,
                                                                     params)]
    app.close()
    assert problems == []


def test_the_due_work_reads_no_growing_table_whole(db_url: str) -> None:
    """run_due over an org with history: a Friday afternoon (check-ins asked, reminders,
    actions and reviews due, prep nudges) and the Monday after (digests, "did it happen?");
    then the sender's guards. Every read is a window by an index."""
    from datetime import timedelta

    from bot.channels.local import deliver
    from bot.rhythm.due import Rhythm, run_due

    app, _org = org_with_history(db_url)
    rhythm = Rhythm(app.sessions, app.playbook, app.runner)
    friday = NOW + timedelta(days=3)  # 2026-12-04 15:00 UTC: the check-in time
    run_due(rhythm, friday - timedelta(hours=1))  # cadences and occurrences planned first
    reports = []
    with captured(app.engine) as seen:
        for when in (friday, friday + timedelta(hours=21), friday + timedelta(days=3, hours=-4)):
            reports.append(run_due(rhythm, when))
            app.clock.set(when)  # type: ignore[attr-defined]
            deliver(app.sessions, app.clock, "console", lambda *args: None)
    assert len(seen) > 20
    assert reports[0].checkins_started == SMALL.reps
    assert {"checkin_reminder", "digest", "meeting_check"} <= {
        kind for report in reports for kind in report.by_kind}
    problems = [p for statement, params in seen for p in full_scans(app.engine, statement,
                                                                     params)]
    app.close()
    assert problems == []


def analyze(engine: Engine) -> None:
    """Statistics, as a database that has been running has them (autovacuum; PRAGMA
    optimize at start and after imports)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")


def plan_of(engine: Engine, statement: str, parameters: Any, *,
            own_costs: bool = False) -> list[str]:
    """The plan's lines (PostgreSQL with sequential scans priced out, as ``full_scans``;
    ``own_costs``: as the planner picks it at its own costs)."""
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            cursor: Any = psycopg.ClientCursor(raw.driver_connection)  # type: ignore[arg-type]
            if not own_costs:
                cursor.execute("SET enable_seqscan = off")
            cursor.execute("EXPLAIN " + statement, parameters)
            return [row[0] for row in cursor.fetchall()]
        cursor = raw.cursor()
        cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        return [row[3] for row in cursor.fetchall()]
    finally:
        raw.rollback()
        raw.close()


def test_a_vps_coach_picker_searches_people_by_index_not_the_whole_tree(db_url: str) -> None:
    """A tree larger than a list: /coach <name> reads the first few of the scope, then the
    matches through ix_person_name_search / ix_person_email_search; no read of person is a
    full scan (a leader's tree is walked up from each match, never listed)."""
    app = make_app(db_url, demo=False, start=NOW)
    with app.engine.begin() as conn:
        org = build_people(conn, 400)
        fix_sequences(conn)
    analyze(app.engine)
    vp = Who(PLATFORM, TENANT, org.email(org.vp))
    with captured(app.engine) as seen:
        answer = app.runner.handle(vp, Say(f"/coach Rep {org.reps[7]}"))
        app.runner.handle(vp, Say("/cancel"))
    reads = [(s, p) for s, p in seen if " person" in s and s.lstrip().upper().startswith(
        ("SELECT", "WITH"))]
    plans = [plan_of(app.engine, s, p) for s, p in reads]
    app.close()
    assert "Rep" in answer[0].text or answer  # started (the SLED opening)
    searched = [" ".join(plan) for plan in plans if "_search" in " ".join(plan)]
    assert any("ix_person_name_search" in plan for plan in searched), plans
    assert any("ix_person_email_search" in plan for plan in searched), plans
    whole = [line for plan in plans for line in plan
             if re.search(r"Seq Scan on person|^SCAN (person|candidate|up_from)\b", line)]
    assert whole == [], plans
    # Read in the index's order and stopped after the few shown: no sort of all matches.
    assert not any(re.search(r"Sort Key: \(?lower|Sort Key: \w+\.email", plan)
                   for plan in searched), searched


def test_the_model_log_and_the_names_to_redact_go_by_index(db_url: str) -> None:
    """coach llm log reads the latest rows by the index on ``at`` (a LIMIT walk, never the
    table); the names redacted before a request come by primary key and manager_id."""
    from datetime import timedelta

    from storage import model_requests, people

    app, org = org_with_history(db_url)
    with captured(app.engine) as seen, app.engine.connect() as conn:
        model_requests.recent(conn, 50)
        model_requests.totals(conn, NOW - timedelta(days=30))
        people.names_around(conn, org.manager_of(3), org.reps[3])
    plans = [" | ".join(plan_of(app.engine, statement, params))
             for statement, params in seen]
    app.close()
    assert all("ix_model_request_at" in plan for plan in plans[:2]), plans[:2]
    for plan in plans[2:]:
        assert "Seq Scan" not in plan and not re.search(r"SCAN person(?! USING)", plan), plan


def test_the_outbox_backlog_of_a_metrics_scrape_reads_the_pending_range(db_url: str) -> None:
    """/metrics reads the due, unsent rows by ``ix_outbox_due``, not the sent history."""
    from storage import outbox

    app, _org = org_with_history(db_url)
    with captured(app.engine) as seen, app.sessions() as db:
        outbox.backlog(db, NOW)
    problems = plan_problems(app.engine, seen)
    plan = " | ".join(plan_of(app.engine, *seen[0]))
    app.close()
    assert len(seen) == 1 and problems == []
    assert "ix_outbox_due" in plan, plan


def test_a_lease_reads_the_due_rows_by_index_and_its_guards_per_kind(db_url: str) -> None:
    """A sender's lease of 200 rows: one read of the due range of ``ix_outbox_due``, one
    query per kind of guard for the whole batch, one UPDATE for the rows dropped and one
    for the rows leased (on PostgreSQL the read and the lease in one); with the previous
    batch's sent mark, a bounded handful of statements, none reading the outbox's
    history."""
    from bot.rhythm import guards
    from storage import deliveries

    app, _org = org_with_history(db_url)
    with app.engine.begin() as conn:
        person, period = conn.execute(select(Checkin.person_id, Checkin.period_start)
                                      .where(Checkin.status == "answered").limit(1)).one()
        kinds = [guards.meeting_still_planned(10**6), guards.action_still_open(10**6),
                 guards.review_still_planned(10**6), guards.checkin_still_waiting(person, period),
                 None]
        conn.execute(insert(Outbox), [
            {"idempotency_key": f"row:{n}", "kind": "teams" if n % 7 == 0 else "slack",
             "target": f"r{n % 40}@example.com", "status": "sent" if n < 3000 else "pending",
             "payload": {"message": {"text": "hi"}, "guard": kinds[n % 5]}, "attempts": 0,
             "not_before": NOW + timedelta(seconds=n - 3600), "created_at": NOW}
            for n in range(4000)])  # the history first, then the rows still to send
    analyze(app.engine)
    with captured(app.engine) as seen, app.sessions.begin() as db:
        deliveries.mark_all_sent(db, [1, 2, 3], NOW)
        leased = deliveries.lease_due(db, channel="slack", now=NOW, lease_seconds=60,
                                      limit=200)
    lease_plan = " | ".join(plan_of(app.engine, *seen[1]))
    problems = plan_problems(app.engine, seen)
    with app.engine.connect() as conn:
        dropped = conn.execute(select(Outbox.idempotency_key)
                               .where(Outbox.status == "dropped")).scalars().all()
    app.close()
    assert problems == []
    # PostgreSQL picks by cost between it and the primary key (no sequential scan either way)
    assert "ix_outbox_due" in lease_plan or db_url.startswith("postgresql"), lease_plan
    # read, four kinds of guard, dropped, leased (+ the mark before); on PostgreSQL the
    # read and the lease are one statement (WITH due AS (… FOR UPDATE SKIP LOCKED),
    # leased AS (UPDATE …) SELECT …)
    assert len(seen) == (7 if db_url.startswith("postgresql") else 8), [s[:60] for s, _ in seen]
    assert len(leased) == 200 - len(dropped)
    assert {int(key.split(":")[1]) % 5 for key in dropped} == {0, 1, 2, 3}
    assert {int(lease.row.idempotency_key.split(":")[1]) % 5 for lease in leased} == {4}


def test_a_leases_recipients_are_found_by_index_with_their_emails_bound_as_one_list(
        db_url: str) -> None:
    """The Slack ids of a lease's 200 recipients: one statement whose text does not change
    with their number (the emails bound as one JSON list, storage/lists.py), reading
    person by (org, email), never the whole org."""
    from storage import deliveries
    from storage.models import OrgWorkspace, Person

    app, _org = org_with_history(db_url)
    with app.engine.begin() as conn:
        conn.execute(insert(OrgWorkspace), [{"org_id": 1, "platform": "slack",
                                             "workspace_id": "T0ONE", "linked_at": NOW}])
        people = conn.execute(select(Person.email).where(Person.org_id == 1)).scalars().all()
        conn.execute(Person.__table__.update().where(Person.org_id == 1)
                     .values(slack_user_id="U" + Person.email))
    analyze(app.engine)
    wanted = {("T0ONE", email) for email in people[:200]} | {("T0ONE", "nobody@x.example"),
                                                             ("T0OTHER", people[0])}
    texts = set()
    for size in (3, len(wanted)):
        with captured(app.engine) as seen, app.sessions() as db:
            ids = deliveries.recipient_ids(db, "slack", set(list(wanted)[:size]))
        texts.add(seen[0][0])
    plan = " | ".join(plan_of(app.engine, *seen[0]))
    app.close()
    assert len(seen) == 1 and len(texts) == 1  # one statement text for any number
    assert ids == {("T0ONE", email): f"U{email}" for email in people[:200]}
    assert "SCAN person" not in plan and "Seq Scan on person" not in plan, plan


def test_a_burst_is_leased_marked_and_addressed_by_index_at_the_planners_own_costs(
        db_url: str) -> None:
    """A burst of due check-ins, as bench_dispatch sends them: 2,000 reps, a row each, and
    leases of 500. Planned at the database's own costs (sequential scans allowed), the
    rows a lease updates and a mark marks are found by primary key, and the recipients by
    (org, email), whatever the planner guesses of the lists' lengths: no scan of the
    outbox or of the org's people per batch. (With ``UPDATE … FROM due`` and
    ``IN (SELECT … jsonb_array_elements_text …)`` PostgreSQL hash-joined a lease to a scan
    of the whole outbox and the recipients to one of every person.)"""
    from storage import deliveries
    from storage.models import OrgWorkspace

    app = make_app(db_url, demo=False, start=NOW)
    with app.engine.begin() as conn:
        conn.execute(insert(OrgWorkspace), [{"org_id": 1, "platform": "slack",
                                             "workspace_id": "T0ONE", "linked_at": NOW}])
        conn.execute(insert(Person), [
            {"org_id": 1, "email": f"rep{n}@burst.example", "name": f"Rep {n}", "role": "rep",
             "timezone": "UTC", "slack_user_id": f"U{n}", "active": True, "created_at": NOW,
             "updated_at": NOW} for n in range(2000)])
        conn.execute(insert(Outbox), [
            {"idempotency_key": f"checkin:{n}", "kind": "slack", "target": f"rep{n}@burst.example",
             "payload": {"tenant": "T0ONE", "message": {"text": "Time for your check-in"}},
             "status": "pending", "attempts": 0, "not_before": NOW, "created_at": NOW}
            for n in range(2000)])
    analyze(app.engine)
    with captured(app.engine) as seen, app.sessions.begin() as db:
        leased = deliveries.lease_due(db, channel="slack", now=NOW, lease_seconds=60,
                                      limit=500)
        ids = deliveries.recipient_ids(db, "slack", {("T0ONE", lease.row.target)
                                                     for lease in leased})
        deliveries.mark_all_sent(db, [lease.row.id for lease in leased], NOW)
    plans = [" | ".join(plan_of(app.engine, statement, parameters, own_costs=True))
             for statement, parameters in seen]
    app.close()
    assert len(leased) == 500 and len(ids) == 500
    assert leased[0].row.tenant == "T0ONE" and leased[0].row.guard is None
    assert "Time for your check-in" in leased[0].row.message
    for plan in plans:
        assert "Seq Scan on outbox" not in plan and "SCAN outbox" not in plan, plan
        assert "Seq Scan on person" not in plan and "SCAN person" not in plan, plan


def test_the_models_after_work_goes_by_index(db_url: str) -> None:
    """Issue 11: the digests held for a narrative are found by the pending index (the rows
    waiting, not the outbox's history), released and settled by key; a check-in's tagged
    blockers are written and read by the check-in's key."""
    from storage import blockers, outbox

    app, _org = org_with_history(db_url)
    with app.engine.begin() as conn:
        conn.execute(insert(Outbox), [
            {"idempotency_key": f"{'digest' if n % 50 == 0 else 'conv'}:{n}", "kind": "slack",
             "target": "x@example.com", "payload": {"narrative": {}} if n % 50 == 0 else {},
             "status": "sent" if n % 3 else "pending", "attempts": 0,
             "not_before": NOW + timedelta(seconds=n - 500), "created_at": NOW}
            for n in range(1000)])
        checkin_id = conn.execute(select(Checkin.id).limit(1)).scalar_one()
        conn.execute(Checkin.__table__.update().where(Checkin.id == checkin_id)
                     .values(status="answered"))
    analyze(app.engine)
    with captured(app.engine) as seen, app.engine.begin() as conn:
        found = outbox.held(conn, key_prefix="digest:", marker="narrative", now=NOW)
        assert found
        outbox.release(conn, found[0][0], {"message": {}}, NOW)
        outbox.settle_held(conn, ["conv:600:0", "conv:601:0"], shown=True, now=NOW)
        blockers.replace(conn, checkin_id, [("tools", "CRM down")])
        blockers.of(conn, checkin_id)
    assert {s.split()[0] for s, _ in seen} >= {"SELECT", "UPDATE", "DELETE", "INSERT"}
    problems = plan_problems(app.engine, seen)
    app.close()
    assert problems == []


def test_a_teams_turn_finds_its_speakers_waiting_replies_by_index(db_url: str) -> None:
    """Every Teams turn asks whether its speaker's earlier replies still wait in the
    outbox: it reads the waiting replies of ``ix_outbox_reply_waiting`` (a few, in a
    storm), not the thousands of check-ins queued to everyone nor the sent history."""
    from storage import replies

    app, _org = org_with_history(db_url)
    with app.engine.begin() as conn:
        conn.execute(insert(Outbox), [
            {"idempotency_key": f"checkin:{n}", "kind": "teams", "target": f"r{n}@example.com",
             "status": "sent" if n < 2000 else "pending", "payload": {}, "attempts": 0,
             "not_before": NOW, "created_at": NOW} for n in range(5000)])
        replies.defer(conn, platform="teams", tenant="t1", user_key="29:1-ann", email="a@x.y",
                      delivery="act-1", messages=[{"text": "hi"}], now=NOW,
                      not_before=NOW + timedelta(seconds=30))
    analyze(app.engine)
    with captured(app.engine) as seen, app.engine.connect() as conn:
        waiting = replies.waiting_until(conn, "teams", "t1", "29:1-ann")
        nobody = replies.waiting_until(conn, "teams", "t1", "29:1-bob")
        claimed = replies.claim_behind(conn, "teams", "t1", "29:1-ann", "act-2", NOW)
    problems = plan_problems(app.engine, seen)
    plan = " | ".join(plan_of(app.engine, *seen[0]))
    claim_plan = " | ".join(plan_of(app.engine, *seen[-1]))  # the claim, with the subquery
    app.close()
    assert waiting == NOW + timedelta(seconds=30) and nobody is None
    assert claimed == (True, NOW + timedelta(seconds=30))
    assert problems == [] and "ix_outbox_reply_waiting" in plan, plan
    assert "ix_outbox_reply_waiting" in claim_plan, claim_plan
