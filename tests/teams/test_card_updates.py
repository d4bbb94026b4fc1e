"""An answered card's read-only update goes after the HTTP answer (the turn stored and the
next question sent first), one person's updates one at a time and in order, and a failed
update is logged without touching the turn or the updates after it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiohttp import ClientResponse

from bot.teams.text import TeamsText
from tests.teams.conftest import USERS, Harness
from tests.teams.driver import TeamsDriver, choice_value, last_card
from tests.teams.fake_connector import Sent
from tests.teams.test_reliability import transitions


async def at_the_agreement_card(harness: Harness) -> tuple[TeamsDriver, Sent]:
    maya = TeamsDriver(harness.http, USERS["maya"])
    await maya.say("coach alice")
    await maya.submit(purpose="Improve win rate", objectives="Agree one behaviour",
                      agenda="ROAM", value_to_rep="Commission")
    return maya, last_card(maya.chat)  # "does the rep agree?" yes / no


async def click_unsettled(harness: Harness, card: Sent, value: dict[str, Any]
                          ) -> ClientResponse:
    """The click, answered: without waiting for what the bot sends after the answer."""
    response = await harness.http.post(
        harness.http.activity(USERS["maya"], value=value, replyToId=card.id), settle=False)
    assert response.status in (200, 202), await response.text()
    return response


def updates_of(harness: Harness, card: Sent) -> list[Sent]:
    return [u for u in harness.connector.of("update") if u.activity_id == card.id]


async def test_the_answered_cards_update_is_sent_after_the_answer(harness: Harness) -> None:
    maya, card = await at_the_agreement_card(harness)
    gate = harness.connector.update_gate = asyncio.Event()  # the connector holds updates
    stored = transitions(harness)
    try:
        await click_unsettled(harness, card, choice_value(card.cards[0], "yes"))
        assert transitions(harness) == stored + 1  # answered: the turn is stored
        assert last_card(maya.chat).id != card.id  # and the next question was the reply
        assert updates_of(harness, card) == []  # the old card is not updated yet
    finally:
        gate.set()
    await harness.teams.handlers.card_updates_sent()
    [update] = updates_of(harness, card)
    assert "✓ Yes" in str(update.cards[0]) and "actions" not in update.cards[0]


async def test_one_persons_card_updates_go_one_at_a_time_in_order(harness: Harness) -> None:
    _, card = await at_the_agreement_card(harness)
    gate = harness.connector.update_gate = asyncio.Event()
    before = harness.connector.updates_arrived
    value = choice_value(card.cards[0], "yes")
    try:
        await click_unsettled(harness, card, value)  # answered: "✓ Yes"
        await click_unsettled(harness, card, value)  # the double click: "closed"
        for _ in range(200):
            if harness.connector.updates_arrived > before:
                break
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)
        assert harness.connector.updates_arrived == before + 1  # the second waits
    finally:
        gate.set()
    await harness.teams.handlers.card_updates_sent()
    first, second = updates_of(harness, card)
    assert "✓ Yes" in str(first.cards[0]) and TeamsText.closed in str(second.cards[0])


async def test_a_failed_card_update_is_logged_and_later_ones_still_go(
        harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    maya, card = await at_the_agreement_card(harness)
    gate = harness.connector.update_gate = asyncio.Event()
    stored = transitions(harness)
    try:
        await click_unsettled(harness, card, choice_value(card.cards[0], "yes"))
    finally:
        harness.connector.fail_next(500)  # the held update is the next request
    with caplog.at_level(logging.WARNING, logger="coach.teams"):
        gate.set()
        await harness.teams.handlers.card_updates_sent()
    assert updates_of(harness, card) == []
    assert any(f"could not update card {card.id}" in r.getMessage() for r in caplog.records)
    assert transitions(harness) == stored + 1  # the turn stays stored
    following = last_card(maya.chat)
    await maya.answer(following, {**following.cards[0]["actions"][0]["data"],
                                  **{f: "x" for f in ("f.summary",)}})
    assert len(updates_of(harness, following)) == 1
