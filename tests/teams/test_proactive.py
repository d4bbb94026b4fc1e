"""Proactive messages over Teams: the conversation reference stored on install and on a
first message, a check-in sent through it after a restart (continue_conversation), the
connector's 429 and 5xx retried, and an uninstall that forgets the reference."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import select, update

from bot.channels.who import Who
from flows.messages import Say
from storage.models import Outbox, Person, TeamsConversation
from tests.support import make_app
from tests.teams.conftest import USERS, Harness, anonymous, start
from tests.teams.driver import BOT, TENANT, User
from tests.teams.fake_connector import FakeConnector


def install(h: Harness, user: User) -> dict[str, object]:
    return h.http.activity(user, type="conversationUpdate", membersAdded=[
        {"id": BOT}], text=None)


async def restarted(db_url: str, connector: FakeConnector) -> AsyncIterator[Harness]:
    async for h in start(make_app(db_url, demo=False, **anonymous()), connector):
        yield h


def bind(h: Harness, local: str) -> None:
    with h.app.sessions.begin() as db:
        db.execute(update(Person).where(Person.email.startswith(f"{local}@"))
                   .values(teams_user_id=USERS[local].aad))


async def test_a_check_in_reaches_a_rep_through_the_stored_reference_after_a_restart(
        harness: Harness, db_url: str, connector: FakeConnector) -> None:
    alice = USERS["alice"]
    bind(harness, "alice")
    response = await harness.http.post(install(harness, alice))
    assert response.status in (200, 202)
    assert "Type **help**" in connector.to(alice.chat)[-1].text  # the welcome
    with harness.app.sessions() as db:
        chat = db.scalars(select(TeamsConversation)).one()
        assert (chat.tenant, chat.user_key, chat.scope) == (TENANT, alice.aad, "personal")
    await harness.teams.gateway.idle()
    harness.app.close()

    async for again in restarted(db_url, connector):  # a new process: nothing in memory
        sent_before = len(connector.sent)
        result = await again.teams.gateway.on_behalf(
            Who("teams", TENANT, alice.aad), Say("/checkin"), "checkin:alice:2026-W49")
        assert result.status == "ok"
        await again.teams.gateway.idle()
        await again.teams.gateway.outbox.run_once()
        proactive = connector.sent[sent_before:]
        assert proactive and all(s.kind == "send" for s in proactive)  # not a reply
        assert all(s.conversation == alice.chat for s in proactive)
        assert any(s.cards for s in proactive)  # the check-in's first question
        with again.app.sessions() as db:
            rows = db.scalars(select(Outbox)).all()
            assert rows and {r.status for r in rows} == {"sent"}


async def test_a_first_message_stores_the_reference_too(harness: Harness) -> None:
    await harness.http.message(USERS["maya"], "help")
    with harness.app.sessions() as db:
        chat = db.scalars(select(TeamsConversation)).one()
    assert chat.user_key == "aad-maya" and chat.reference["serviceUrl"] == harness.connector.url


async def test_throttling_and_server_errors_are_retried_with_retry_after(
        harness: Harness, connector: FakeConnector) -> None:
    alice = USERS["alice"]
    bind(harness, "alice")
    await harness.http.post(install(harness, alice))
    connector.fail_next(429, retry_after="7")
    connector.fail_next(503)
    sent_before = len(connector.sent)
    await harness.teams.gateway.on_behalf(Who("teams", TENANT, alice.aad), Say("/checkin"),
                                          "checkin:alice:1")
    await harness.teams.gateway.idle()
    await harness.teams.gateway.outbox.run_once()
    assert harness.sleeps.waited == [7.0, 2.0]  # Retry-After, then the doubled backoff
    assert len(connector.sent) > sent_before
    with harness.app.sessions() as db:
        assert {r.status for r in db.scalars(select(Outbox))} == {"sent"}


async def test_a_connector_that_keeps_failing_sends_the_row_back_to_the_outbox(
        harness: Harness, connector: FakeConnector) -> None:
    alice = USERS["alice"]
    bind(harness, "alice")
    await harness.http.post(install(harness, alice))
    connector.fail_next(429, retry_after="120")  # longer than we wait in-process
    await harness.teams.gateway.on_behalf(Who("teams", TENANT, alice.aad), Say("/checkin"),
                                          "checkin:alice:2")
    await harness.teams.gateway.idle()
    await harness.teams.gateway.outbox.run_once()
    with harness.app.sessions() as db:
        row = db.scalars(select(Outbox)).first()
        assert row is not None and row.status == "pending" and "429" in (row.last_error or "")


async def test_an_uninstall_forgets_the_reference_and_nothing_more_is_sent(
        harness: Harness, connector: FakeConnector) -> None:
    alice = USERS["alice"]
    bind(harness, "alice")
    await harness.http.post(install(harness, alice))
    removed = harness.http.activity(alice, type="installationUpdate", action="remove",
                                    text=None)
    assert (await harness.http.post(removed)).status in (200, 202)
    with harness.app.sessions() as db:
        assert db.scalars(select(TeamsConversation)).all() == []
    sent_before = len(connector.sent)
    await harness.teams.gateway.on_behalf(Who("teams", TENANT, alice.aad), Say("/checkin"),
                                          "checkin:alice:3")
    await harness.teams.gateway.idle()
    await harness.teams.gateway.outbox.run_once()
    assert len(connector.sent) == sent_before
    with harness.app.sessions() as db:
        row = db.scalars(select(Outbox)).first()
        assert row is not None and "not opened the app" in (row.last_error or "")
