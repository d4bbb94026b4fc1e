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
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, event

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
from bot.services import home
from flows.messages import Say, Submit
from storage import conversations
from storage.models import Person
from tests.support import make_app

GROWING = {"coaching_session", "action_item", "checkin", "metric", "review", "transition_log",
           "conversation", "leaf_outcome", "escalation", "outbox"}
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
                      if (m := re.match(r"SCAN (\w+)", line))]
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


def plan_of(engine: Engine, statement: str, parameters: Any) -> str:
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            cursor: Any = psycopg.ClientCursor(raw.driver_connection)  # type: ignore[arg-type]
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("EXPLAIN " + statement, parameters)
            return " | ".join(row[0] for row in cursor.fetchall())
        cursor = raw.cursor()
        cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        return " | ".join(row[3] for row in cursor.fetchall())
    finally:
        raw.rollback()
        raw.close()


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
    plans = [plan_of(app.engine, statement, params) for statement, params in seen]
    app.close()
    assert all("ix_model_request_at" in plan for plan in plans[:2]), plans[:2]
    for plan in plans[2:]:
        assert "Seq Scan" not in plan and not re.search(r"SCAN person(?! USING)", plan), plan
