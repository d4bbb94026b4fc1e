"""What a turn asks the database: the first query also answers the manager's right to
go on (METHOD §9) and whether other conversations are active, so the common turns need
no extra round trips for them; the answers stay exactly those of the separate queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event, func, insert, select, update

from bot.cli.demo_org import DOMAIN, MANAGER
from bot.console.chat import PLATFORM, TENANT, who
from flows.messages import Say, Submit
from storage import conversations, people
from storage.models import Conversation, Person, PlannedSession
from tests.support import Console, make_app, texts

ALICE = f"alice@{DOMAIN}"


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def keep(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def test_an_answer_asks_no_separate_reporting_line_query(db_url: str) -> None:
    app = make_app(db_url)
    app.runner.handle(who(MANAGER), Say("/coach alice"))
    with statements(app.engine) as seen:
        replies = app.runner.handle(who(MANAGER), Submit(
            {"purpose": "p", "objectives": "o", "value_to_rep": "v"}))
    assert replies[-1].step == "rep_aligned"
    reads = [s for s in seen if s.startswith("SELECT")]
    assert len(reads) == 1, reads  # the first query only
    app.close()


def test_a_coach_with_nothing_else_active_pauses_nothing(db_url: str) -> None:
    app = make_app(db_url)
    with statements(app.engine) as seen:
        app.runner.handle(who(MANAGER), Say("/coach alice"))
    assert not [s for s in seen if s.startswith("UPDATE conversation")], seen
    app.close()


def test_a_conversation_left_active_behind_the_turns_back_is_still_paused(db_url: str) -> None:
    """One active conversation per person, even when something else wrote a second one:
    the first query counts them, and the next conversation started pauses the rest."""
    app = make_app(db_url)
    console = Console(app)
    console.say("/coach alice")
    with app.sessions.begin() as db:
        first = db.scalars(select(Conversation)).one()
        values = {c: getattr(first, c) for c in ("platform", "tenant", "user_key", "person_id",
                                                  "state", "version", "updated_at")}
        db.execute(insert(Conversation).values(**values, flow="sled", subject="stray",
                                               status="active"))
    console.say("/coach bob")
    with app.sessions() as db:
        active = db.scalars(select(Conversation).where(Conversation.status == "active")).all()
        assert [c.subject for c in active] == [str(_id(db, f"bob@{DOMAIN}"))]
    app.close()


def test_a_deactivated_rep_ends_the_session_at_the_next_answer(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    console.say("/coach alice")
    with app.sessions.begin() as db:
        db.execute(update(Person).where(Person.email == ALICE).values(active=False))
    replies = console.submit(purpose="p", objectives="o", value_to_rep="v")
    assert "no longer in your reporting line" in texts(replies)
    app.close()


def test_the_first_querys_answer_is_may_coachs_for_every_pair(db_url: str) -> None:
    """For each speaker and each rep (some moved, one inactive), with a conversation about
    the rep: the first query's manager check equals people.may_coach for a manager."""
    app = make_app(db_url)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with app.sessions.begin() as db:
        db.execute(update(Person).where(Person.email == f"bob@{DOMAIN}").values(active=False))
        db.execute(update(Person).where(Person.email == f"carmen@{DOMAIN}")
                   .values(manager_id=_id(db, MANAGER)))
        everyone = db.execute(select(Person.id, Person.email)).all()
    checked = 0
    for speaker_id, speaker in everyone:
        for rep_id, _ in everyone:
            with app.engine.begin() as conn:
                conn.execute(update(Conversation).where(Conversation.status == "active")
                             .values(status="ended"))
                conversations.create(conn, platform=PLATFORM, tenant=TENANT, user_key=speaker,
                                     flow="sled", subject=str(rep_id), person_id=speaker_id,
                                     state={"flow": "sled"}, status="active", now=now)
                me, row = conversations.load_turn(conn, PLATFORM, TENANT, speaker)
                assert me is not None and row is not None and row.subject == str(rep_id)
                assert row.also_active == 0
                assert row.manager_coaches == people.may_coach(conn, speaker_id, "manager",
                                                               rep_id), (speaker, rep_id)
                checked += row.manager_coaches
    assert checked >= 3  # some pairs allowed, the rest refused
    app.close()


def test_coach_picks_up_the_planned_session(db_url: str) -> None:
    app = make_app(db_url)
    with app.sessions.begin() as db:
        alice, maya = _id(db, ALICE), _id(db, MANAGER)
        db.execute(insert(PlannedSession).values(
            rep_id=alice, manager_id=maya, focus_area="pipeline_management",
            due_date=datetime(2026, 12, 3).date(), status="planned",
            created_at=datetime(2026, 11, 20, tzinfo=UTC)))
    Console(app).say("/coach alice")
    with app.sessions() as db:
        planned = db.scalars(select(PlannedSession)).one()
        assert planned.status == "started" and planned.session_id is not None
        state = db.scalars(select(Conversation.state)).one()
        assert state["data"]["planned_focus"] == "pipeline_management"
        assert db.scalar(select(func.count()).select_from(PlannedSession)) == 1
    app.close()


def _id(db: Any, email: str) -> int:
    return int(db.scalar(select(Person.id).where(Person.email == email)))
