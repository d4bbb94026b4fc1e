"""Retries, double clicks and stale cards over Teams: a repeated activity id is handled
once, a card submitted twice advances the flow once, a stale card's submit does not
advance it; strangers and other tenants see only how to get in; failures show no
exception text."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.runner import TurnRunner
from bot.teams.handlers import TeamsHandlers
from bot.teams.text import TeamsText
from storage.models import Conversation, Person, TeamsConversation, TransitionLog
from tests.teams.conftest import USERS, Harness
from tests.teams.driver import TeamsDriver, User, choice_value, last_card


def versions(h: Harness) -> list[int]:
    with h.app.sessions() as db:
        return [c.version for c in db.scalars(select(Conversation).order_by(Conversation.id))]


def transitions(h: Harness) -> int:
    with h.app.sessions() as db:
        return len(db.scalars(select(TransitionLog)).all())


async def test_a_repeated_activity_id_is_handled_once(harness: Harness) -> None:
    http, maya = harness.http, USERS["maya"]
    body = http.activity(maya, text="coach alice", id="same-activity")
    first = await http.post(body)
    sent = len(harness.connector.sent)
    logged = transitions(harness)
    again = await http.post(body)  # Teams retries a delivery it thinks we missed
    assert first.status in (200, 202) and again.status in (200, 202)
    assert len(harness.connector.sent) == sent
    assert transitions(harness) == logged
    assert versions(harness) == [1]


async def test_a_delivery_whose_turn_was_not_stored_is_handled_when_retried(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The activity's id is claimed in the turn's own transaction: a turn that failed
    claimed nothing, so Teams's retry of that delivery runs it."""
    http, maya = harness.http, USERS["maya"]
    body = http.activity(maya, text="coach alice", id="failed-once")
    command = TurnRunner._command

    def broken(self: TurnRunner, turn: Any, typed: str) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(TurnRunner, "_command", broken)
    await http.post(body)
    assert "Sorry, something went wrong" in harness.connector.to(maya.chat)[-1].said
    assert versions(harness) == []
    monkeypatch.setattr(TurnRunner, "_command", command)
    await http.post(body)  # Teams retries the delivery it got no good answer for
    assert versions(harness) == [1]
    await http.post(body)  # and once it is handled, a retry is not
    assert versions(harness) == [1]
    assert transitions(harness) == 1
    with harness.app.sessions() as db:
        references = db.scalars(select(TeamsConversation.conversation_id)).all()
    assert references == [maya.chat]


async def test_a_card_submitted_twice_advances_the_flow_once(harness: Harness) -> None:
    maya = TeamsDriver(harness.http, USERS["maya"])
    await maya.say("coach alice")
    await maya.submit(purpose="Improve win rate", objectives="Agree one behaviour",
                      agenda="ROAM", value_to_rep="Commission")
    card = last_card(maya.chat)  # "does the rep agree?" yes / no
    value = choice_value(card.cards[0], "yes")
    before = versions(harness)
    await maya.answer(card, value)
    after_first = versions(harness)
    await maya.answer(card, value)  # the same click again (a double click, a retry)
    assert after_first[0] == before[0] + 1
    assert versions(harness) == after_first
    updates = harness.connector.of("update")
    assert [u.activity_id for u in updates[-2:]] == [card.id, card.id]
    assert "✓ Yes" in str(updates[-2].cards[0]) and TeamsText.closed in str(updates[-1].cards[0])


async def test_a_stale_cards_submit_does_not_advance_the_flow(harness: Harness) -> None:
    maya = TeamsDriver(harness.http, USERS["maya"])
    await maya.say("coach alice")
    old_form = last_card(maya.chat)
    await maya.submit(purpose="Improve win rate", objectives="Agree one behaviour",
                      agenda="ROAM", value_to_rep="Commission")
    current = versions(harness)
    data = old_form.cards[0]["actions"][0]["data"]
    await maya.answer(old_form, {**data, "f.purpose": "Something else"})
    assert versions(harness) == current
    with harness.app.sessions() as db:
        state = db.scalars(select(Conversation)).one().state
    assert "Something else" not in str(state)
    assert "earlier question" in last_text(maya.chat)


def last_text(sent: list[Any]) -> str:
    return next(s.said for s in reversed(sent) if s.said)


async def test_a_stranger_is_told_how_to_get_in(harness: Harness) -> None:
    stranger = User("zed", "aad-zed", "Zed Nobody")
    harness.connector.add_member(stranger.teams_id, stranger.aad, "zed@elsewhere.example",
                                 stranger.name, stranger.tenant)
    response = await harness.http.message(stranger, "coach alice")
    assert response.status in (200, 202)
    text = harness.connector.to(stranger.chat)[-1].text
    assert "couldn't match your Teams account (zed@elsewhere.example)" in text
    assert "people import" in text


async def test_a_user_of_another_tenant_reaches_nobody(harness: Harness) -> None:
    """Same email as a person of ours, but from a tenant not linked to the organisation."""
    intruder = User("maya", "aad-maya-elsewhere", "Maya Manager", tenant="tenant-two")
    response = await harness.http.message(intruder, "coach alice")
    assert response.status in (200, 202)
    assert harness.connector.to(intruder.chat)[-1].text == TeamsText.outside
    assert harness.connector.roster_calls == 0
    with harness.app.sessions() as db:
        assert db.scalars(select(Person).where(Person.teams_user_id.is_not(None))).all() == []
        assert db.scalars(select(Conversation)).all() == []


async def test_the_bots_mention_is_stripped_and_a_rep_is_named_by_mention(
        harness: Harness) -> None:
    maya = USERS["maya"]
    text = "<at>Coach</at> coach <at>Alice Adams</at>"
    entities = [{"type": "mention", "text": "<at>Coach</at>",
                 "mentioned": {"id": "28:coach-bot", "name": "Coach"}},
                {"type": "mention", "text": "<at>Alice Adams</at>",
                 "mentioned": {"id": "29:alice", "name": "Alice Adams"}}]
    response = await harness.http.message(maya, text, entities=entities)
    assert response.status in (200, 202)
    with harness.app.sessions() as db:
        conversation = db.scalars(select(Conversation)).one()
    assert conversation.flow == "sled"
    assert "Alice" in str(last_card(harness.connector.to(maya.chat)).cards[0])


async def test_a_failure_gets_a_short_apology_never_the_exception(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: TeamsHandlers, *args: Any) -> None:
        raise RuntimeError("secret internals: db password is hunter2")

    monkeypatch.setattr(TeamsHandlers, "known", broken)
    response = await harness.http.message(USERS["maya"], "help")
    assert response.status in (200, 202)
    said = " ".join(s.text for s in harness.connector.sent)
    assert "Sorry, something went wrong" in said
    assert "hunter2" not in said and "RuntimeError" not in said


async def test_a_person_imported_with_their_entra_id_needs_no_roster_lookup(
        harness: Harness) -> None:
    from sqlalchemy import update

    with harness.app.sessions.begin() as db:
        db.execute(update(Person).where(Person.email.startswith("maya@"))
                   .values(teams_user_id=USERS["maya"].aad))
    response = await harness.http.message(USERS["maya"], "coach alice")
    assert response.status in (200, 202)
    assert harness.connector.roster_calls == 0
    with harness.app.sessions() as db:
        assert db.scalars(select(Conversation)).one().flow == "sled"


async def test_in_a_team_channel_the_bot_runs_no_session(harness: Harness) -> None:
    maya = USERS["maya"]
    channel = {"id": "19:general@thread.tacv2;messageid=1", "conversationType": "channel",
               "tenantId": maya.tenant}
    response = await harness.http.message(maya, "<at>Coach</at> coach alice",
                                          conversation=channel)
    assert response.status in (200, 202)
    assert harness.connector.to(channel["id"])[-1].text == TeamsText.personal_only
    with harness.app.sessions() as db:
        assert db.scalars(select(Conversation)).all() == []


async def test_replies_reuse_connections_to_the_connector(harness: Harness) -> None:
    """One keep-alive pool for every turn's connector client, not a connection per turn."""
    for text in ("help", "help", "help", "help"):
        await harness.http.message(USERS["maya"], text)
    peers = [s.peer for s in harness.connector.sent]
    assert len(peers) == 4 and len(set(peers)) == 1
