"""Rate limits per user through the real Slack endpoint (COACH_RATE_LIMIT): past the limit
every request is still answered 200, the user is told kindly, nothing is stored, another
user is not affected, and a modal answer over the limit stays in the modal to send again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.channels.gateway import GatewayText
from storage.models import Conversation
from tests.channels.fake_time import FakeTime
from tests.slack.conftest import IDS, Harness, slack_settings, start
from tests.slack.driver import SlackDriver
from tests.slack.fake_slack import FakeSlack
from tests.support import make_app


@pytest.fixture
async def limited(db_url: str, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
                  ) -> AsyncIterator[tuple[Harness, FakeTime]]:
    clock = FakeTime.installed(monkeypatch)
    app = make_app(db_url, **slack_settings(fake, coach_rate_limit="3 per 10 seconds"))
    async for harness in start(app, fake):
        yield harness, clock


def dm(harness: Harness, user: str, text: str, n: int) -> dict[str, object]:
    return harness.http.event_body(
        {"type": "message", "channel_type": "im", "channel": "D" + user[1:], "user": user,
         "text": text, "subtype": None, "bot_id": None, "bot_profile": None, "ts": f"1.{n}"},
        f"Ev0{user}{n}", "MessagePayload")


def said_to(harness: Harness, user: str) -> list[str]:
    return [str(c.args["text"]) for c in harness.fake.of("chat.postMessage")
            if c.args["channel"] in (user, "D" + user[1:])]  # the DM: by channel or user


async def test_past_the_limit_a_user_is_told_and_others_go_on(
        limited: tuple[Harness, FakeTime]) -> None:
    harness, clock = limited
    maya, bob = IDS["maya"], IDS["bob"]
    for n in range(5):
        assert (await harness.http.event(dm(harness, maya, "hello", n))).status == 200
    assert (await harness.http.event(dm(harness, bob, "hello", 9))).status == 200
    await harness.http.settle()
    told = said_to(harness, maya)
    assert len(told) == 5
    assert [t == GatewayText.limited for t in told] == [False] * 3 + [True] * 2
    assert said_to(harness, bob) and GatewayText.limited not in said_to(harness, bob)
    clock.advance(10.5)  # the window has moved on
    assert (await harness.http.event(dm(harness, maya, "hello", 7))).status == 200
    await harness.http.settle()
    assert said_to(harness, maya)[-1] != GatewayText.limited


async def test_a_modal_answer_over_the_limit_stays_in_the_modal(
        limited: tuple[Harness, FakeTime]) -> None:
    harness, clock = limited
    maya = SlackDriver(harness.http, IDS["maya"])
    await maya.say("/coach alice")  # 1
    for n in range(2):  # 2, 3: the limit is used up
        await harness.http.event(dm(harness, IDS["maya"], "hello", n))
    await harness.http.settle()
    with harness.app.sessions() as db:
        version = db.scalars(select(Conversation.version)).one()
    assert maya.view is not None
    values = {"purpose": "Improve win rate", "objectives": "Agree one behaviour",
              "agenda": "ROAM", "value_to_rep": "Higher commission"}
    response = await harness.http.interact(harness.http.submission(IDS["maya"], maya.view,
                                                                   values))
    assert response.status == 200
    answer = await response.json()
    assert answer["response_action"] == "errors"  # the modal stays, with what was typed
    assert list(answer["errors"].values()) == [GatewayText.limited]
    with harness.app.sessions() as db:
        assert db.scalars(select(Conversation.version)).one() == version  # nothing stored
    clock.advance(11)
    await maya.submit(**values)  # the same answer, sent again: taken
    with harness.app.sessions() as db:
        assert db.scalars(select(Conversation.version)).one() > version
