"""A turn's replies and card updates go straight through the kept connector client
(bot/teams/connector.py ``send_in_turn``, ``update_in_turn``), not through the SDK's
``TurnContext``: what reaches the Bot Connector must be what the SDK's own path sends,
field for field; where the SDK does something else with a reply (``expectReplies``: the
replies in the HTTP answer), its own path still sends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.teams import connector as teams_connector
from tests.support import make_app
from tests.teams.conftest import USERS, anonymous, start
from tests.teams.driver import BOT, choice_value
from tests.teams.fake_connector import FakeConnector, Sent
from tests.teams.test_card_updates import at_the_agreement_card


async def a_session_start_and_a_click(db_url: str, connector: FakeConnector) -> list[Sent]:
    """What the bot sends while maya starts a session and answers the agreement card."""
    first = len(connector.sent)
    async for harness in start(make_app(db_url, **anonymous()), connector):
        maya, card = await at_the_agreement_card(harness)
        await maya.answer(card, choice_value(card.cards[0], "yes"))
    return connector.sent[first:]


def comparable(sent: Sent) -> tuple[str, str, dict[str, Any]]:
    """A send without the ids the fake connector handed out (its counter runs on)."""
    activity = {k: v for k, v in sent.activity.items() if not (sent.kind == "update"
                                                                and k == "id")}
    return sent.kind, sent.conversation, activity


async def test_replies_and_card_updates_reach_the_connector_as_the_sdk_sends_them(
        db_url: str, connector: FakeConnector, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    direct = await a_session_start_and_a_click(db_url, connector)
    with monkeypatch.context() as sdk_only:
        sdk_only.setattr(teams_connector, "kept_client", lambda context: None)
        through_sdk = await a_session_start_and_a_click(f"sqlite:///{tmp_path / 'sdk.db'}",
                                                        connector)
    # the context card, the form; the form read-only, the agreement card; that read-only
    assert [s.kind for s in direct] == ["reply", "reply", "update", "reply", "update"]
    assert [comparable(s) for s in direct] == [comparable(s) for s in through_sdk]
    reply = direct[0].activity
    assert reply["from"]["id"] == BOT
    assert reply["recipient"]["id"] == USERS["maya"].teams_id
    assert reply["replyToId"] == direct[0].activity_id and reply["inputHint"] == (
        "acceptingInput")
    assert "id" not in reply


async def test_expect_replies_answers_in_the_http_body_and_sends_nothing(
        db_url: str, connector: FakeConnector) -> None:
    async for harness in start(make_app(db_url, **anonymous()), connector):
        await harness.http.message(USERS["maya"], "hello")  # bound (the roster needs the
        said = len(connector.sent)  # connector, which an expectReplies turn does not get)
        response = await harness.http.post(harness.http.activity(
            USERS["maya"], text="coach alice", deliveryMode="expectReplies"))
        assert response.status == 200, await response.text()
        answer = await response.json()
        [card] = [a for a in answer["activities"] if a.get("attachments")]
        assert "Alice" in str(card["attachments"][0]["content"])
        assert card["recipient"]["id"] == USERS["maya"].teams_id
        assert len(connector.sent) == said  # buffered in the answer by the SDK, not sent
