"""A whole /coach session driven only by Teams activities, compared with the console."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storage.models import CoachingSession, Person
from tests.slack.test_session_http import Recorder, outcome
from tests.support import Console, full_session
from tests.teams.conftest import USERS, Harness
from tests.teams.driver import TeamsDriver, card_submit, last_card


async def test_full_session_over_teams_stores_what_the_console_stores(harness: Harness) -> None:
    app = harness.app
    console = Recorder(Console(app))
    full_session(console)  # the terminal chat: maya coaches alice
    alice = TeamsDriver(harness.http, USERS["alice"])
    await alice.say("hello")  # alice opened the app once: bound, her chat's reference kept

    driver = TeamsDriver(harness.http, USERS["maya"])
    for verb, args, values in console.inputs:  # the same inputs, as Teams activities
        await getattr(driver, verb)(*args, **values)

    with app.sessions() as db:
        console_row, teams_row = db.scalars(
            select(CoachingSession).order_by(CoachingSession.id)).all()
        assert outcome(db, teams_row) == outcome(db, console_row)
        assert teams_row.status == "completed" and teams_row.leaf == "COACHING"
        maya = db.scalar(select(Person).where(Person.teams_user_id == "aad-maya"))
        assert maya is not None and maya.email.startswith("maya@")  # bound by roster email
    updates = harness.connector.of("update")
    assert updates, "answered cards are replaced by their read-only form"
    assert all("actions" not in s.cards[0] for s in updates)

    # The rep gets the action plan (shared parts only) in her chat, with a "got it" button.
    await harness.teams.gateway.idle()
    await harness.teams.gateway.outbox.run_once()
    plan = last_card(alice.chat)
    assert plan.kind == "send" and "Role-play discovery" in plan.said
    ack = card_submit(plan.cards[0], "ack")
    await alice.answer(plan, ack)
    with app.sessions() as db:
        teams_row = db.get(CoachingSession, teams_row.id)
        assert teams_row is not None
        assert teams_row.rep_acknowledged_at == datetime(2026, 12, 1, 15, tzinfo=UTC)
    thanks = harness.connector.of("update")[-1]
    assert thanks.activity_id == plan.id and "Thanks, Alice" in thanks.said
