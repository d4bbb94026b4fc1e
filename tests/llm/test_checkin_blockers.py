"""Check-in blockers (issue 11): the rep's free text is tagged by the model once the
check-in is stored (never inside its transaction), the tags are stored and the weekly
digest counts them; without a model, or when it fails, the check-in is stored just the
same and the digest counts its blockers as untagged. SQLite and PostgreSQL, the real
openai client, the fake server on loopback."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from bot.bootstrap import App
from bot.services import digest
from storage import blockers, people
from storage.models import DEFAULT_ORG, Checkin, CheckinBlocker, ModelRequest
from tests.llm.fake_openai import FakeOpenAI, Reply, good, task_of
from tests.llm.sessions import ALICE, MAYA, answer_checkin, model_app
from tests.support import START, Console, make_app, texts

TEXT = ("The CRM was down all week; still waiting on legal for the Acme contract. "
        "Call me at (415) 555-2671 or alice.adams@example.com, Bob Brown knows.")
TAGGED = good({"blockers": [
    {"tag": "tools", "quote": "The CRM was down all week"},
    {"tag": "approvals", "quote": "waiting on legal for the Acme contract"}]})


def week_figures(app: App, who: str = MAYA) -> dict[str, Any]:
    """The digest of the check-in's week (the one START is in) for Maya's team."""
    with app.sessions() as db:
        person = people.by_email(db, who, DEFAULT_ORG)
        assert person is not None
        found = digest.build(db, person, START.date(), app.playbook, START)
        return {"json": found.as_json(), "text": digest.render_text(found, app.playbook)}


def the_checkin(app: App) -> Checkin:
    with app.sessions() as db:
        return db.scalars(select(Checkin).where(Checkin.blockers.is_not(None))).one()


def test_blockers_are_tagged_after_the_checkin_is_stored_and_counted(
        db_url: str, fake_openai: FakeOpenAI) -> None:
    app = model_app(db_url, fake_openai)
    seen_at_request: list[tuple[str, str | None]] = []
    reader = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))

    def while_asked(body: dict[str, Any]) -> None:  # another connection, mid-request
        with reader.connect() as conn:
            row = conn.execute(select(Checkin.status, Checkin.blockers)).first()
            seen_at_request.append((row.status, row.blockers) if row else ("none", None))

    fake_openai.on_request = while_asked
    fake_openai.reply(TAGGED, task="blockers")
    try:
        replies = answer_checkin(Console(app, ALICE), TEXT)
        assert "your check-in is saved" in texts(replies)
        # the model was asked once the check-in had been committed, not inside its turn
        assert seen_at_request == [("answered", TEXT)]
        checkin = the_checkin(app)
        with app.engine.connect() as conn:
            assert blockers.of(conn, checkin.id) == [
                ("tools", "The CRM was down all week"),
                ("approvals", "waiting on legal for the Acme contract")]
        figures = week_figures(app)
        assert figures["json"]["blocker_tags"] == {"approvals": 1, "tools": 1}
        assert figures["json"]["untagged_blockers"] == 0
        assert "Blockers named in check-ins: approvals 1, tools 1 [blocker_tags]" in \
            figures["text"]
        assert "CRM" not in figures["text"]  # counted, never quoted
        with app.sessions() as db:
            logged = db.scalars(select(ModelRequest)
                                .where(ModelRequest.purpose == "blockers")).one()
            assert logged.outcome == "ok" and logged.content is None
        [body] = fake_openai.bodies_of("blockers")
        prompt = json.loads(body)["messages"][0]["content"]
        for private in ("555-2671", "alice.adams@example.com", "Bob", "Brown", "Adams"):
            assert private not in prompt
        assert "The CRM was down all week" in prompt
    finally:
        reader.dispose()
        app.close()


@pytest.mark.parametrize("reply", [
    Reply(status=500), Reply("the CRM, mostly"), Reply(status=429),
    good({"blockers": [{"tag": "tools", "quote": "words the rep never wrote"}]}),
    good({"blockers": [{"tag": "weather", "quote": "The CRM was down all week"}]}),
    Reply(json.dumps({"blockers": []}), delay=3.0),  # past the turn's budget
], ids=["500", "not-json", "429", "invented-quote", "unknown-tag", "too-late"])
def test_a_failed_extraction_leaves_the_checkin_and_counts_it_untagged(
        db_url: str, fake_openai: FakeOpenAI, reply: Reply) -> None:
    app = model_app(db_url, fake_openai)
    fake_openai.reply(reply, task="blockers")
    try:
        replies = answer_checkin(Console(app, ALICE), TEXT)
        assert "your check-in is saved" in texts(replies)
        checkin = the_checkin(app)
        assert (checkin.status, checkin.blockers, checkin.confidence) == ("answered", TEXT, 4)
        with app.sessions() as db:
            assert db.scalars(select(CheckinBlocker)).all() == []
            outcome = db.scalars(select(ModelRequest.outcome)
                                 .where(ModelRequest.purpose == "blockers")).one()
            assert outcome != "ok"
        figures = week_figures(app)["json"]
        assert (figures["blocker_tags"], figures["untagged_blockers"]) == ({}, 1)
    finally:
        app.close()


def test_without_a_model_the_text_is_stored_and_counted_untagged(db_url: str) -> None:
    app = make_app(db_url)
    try:
        replies = answer_checkin(Console(app, ALICE), TEXT)
        assert "your check-in is saved" in texts(replies)
        assert the_checkin(app).blockers == TEXT
        figures = week_figures(app)
        assert (figures["json"]["blocker_tags"], figures["json"]["untagged_blockers"]) == ({}, 1)
        assert "Blockers named in check-ins: 1 not tagged [blocker_tags]" in figures["text"]
    finally:
        app.close()


def test_no_blocker_text_asks_nothing(db_url: str, fake_openai: FakeOpenAI) -> None:
    app = model_app(db_url, fake_openai)
    try:
        answer_checkin(Console(app, ALICE), "none")
        assert [task_of(json.loads(b)) for b in fake_openai.bodies] == []
        figures = week_figures(app)
        assert (figures["json"]["blocker_tags"], figures["json"]["untagged_blockers"]) == ({}, 0)
        assert "Blockers named in check-ins: none this week" in figures["text"]
    finally:
        app.close()


def test_tags_delivered_twice_are_stored_once_and_only_on_an_answered_checkin(
        db_url: str) -> None:
    app = make_app(db_url)
    try:
        answer_checkin(Console(app, ALICE), TEXT)
        checkin = the_checkin(app)
        with app.engine.begin() as conn:
            for _ in range(2):
                assert blockers.replace(conn, checkin.id, [("tools", "The CRM was down")])
            assert blockers.of(conn, checkin.id) == [("tools", "The CRM was down")]
            assert not blockers.replace(conn, checkin.id + 1000, [("tools", "x")])
    finally:
        app.close()
