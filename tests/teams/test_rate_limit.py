"""Rate limits per user through the real Teams endpoint (/api/messages): past the limit
the activity is still accepted, the user is told kindly, nothing is stored, another user
goes on, and the card answered over the limit stays as it was, to be sent again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.channels.gateway import GatewayText
from storage.models import Conversation
from tests.channels.fake_time import FakeTime
from tests.support import make_app
from tests.teams.conftest import USERS, Harness, anonymous, start
from tests.teams.driver import TeamsDriver, card_submit
from tests.teams.fake_connector import FakeConnector, Sent


@pytest.fixture
async def limited(db_url: str, connector: FakeConnector, monkeypatch: pytest.MonkeyPatch
                  ) -> AsyncIterator[tuple[Harness, FakeTime]]:
    clock = FakeTime.installed(monkeypatch)
    app = make_app(db_url, **anonymous(coach_rate_limit="3 per 10 seconds"))
    async for harness in start(app, connector):
        yield harness, clock


async def test_past_the_limit_a_user_is_told_and_others_go_on(
        limited: tuple[Harness, FakeTime]) -> None:
    harness, clock = limited
    maya = TeamsDriver(harness.http, USERS["maya"])
    bob = TeamsDriver(harness.http, USERS["bob"])
    for _ in range(5):
        await maya.say("hello")
    await bob.say("hello")
    told = [s.said for s in maya.chat]
    assert len(told) == 5
    assert [GatewayText.limited in t for t in told] == [False] * 3 + [True] * 2
    assert bob.chat and not any(GatewayText.limited in s.said for s in bob.chat)
    clock.advance(10.5)
    await maya.say("hello")
    assert GatewayText.limited not in maya.chat[-1].said


async def test_a_card_answered_over_the_limit_stays_to_be_sent_again(
        limited: tuple[Harness, FakeTime]) -> None:
    harness, clock = limited
    maya = TeamsDriver(harness.http, USERS["maya"])
    await maya.say("/coach alice")  # 1
    await maya.say("hello")  # 2
    await maya.say("hello")  # 3: the limit is used up
    with harness.app.sessions() as db:
        version = db.scalars(select(Conversation.version)).one()
    updates = len(harness.connector.of("update"))
    values = {"purpose": "Improve win rate", "objectives": "Agree one behaviour",
              "agenda": "ROAM", "value_to_rep": "Higher commission"}
    card = next(s for s in maya.chat if s.cards)
    await maya.answer(card, {**_submit_data(card), **{f"f.{k}": v for k, v in values.items()}})
    assert GatewayText.limited in maya.chat[-1].said
    assert len(harness.connector.of("update")) == updates  # the card is left to answer
    with harness.app.sessions() as db:
        assert db.scalars(select(Conversation.version)).one() == version
    clock.advance(11)
    await maya.answer(card, {**_submit_data(card), **{f"f.{k}": v for k, v in values.items()}})
    with harness.app.sessions() as db:
        assert db.scalars(select(Conversation.version)).one() > version
    assert len(harness.connector.of("update")) == updates + 1


def _submit_data(card: Sent) -> dict[str, object]:
    return card_submit(card.cards[0], "submit")


async def test_two_replicas_on_one_redis_share_a_users_budget(
        db_url: str, connector: FakeConnector, redis_url: str) -> None:
    settings = anonymous(coach_rate_limit="3 per 10 seconds",
                         coach_rate_limit_storage=redis_url)
    replicas = [start(make_app(db_url, **settings), connector),
                start(make_app(db_url, demo=False, **settings), connector)]
    first, second = [await anext(replica) for replica in replicas]
    try:
        told = []
        for turn in range(5):  # the load balancer alternates
            maya = TeamsDriver((first, second)[turn % 2].http, USERS["maya"])
            await maya.say("hello")
            told.append(maya.chat[-1].said)
        assert [GatewayText.limited in t for t in told] == [False] * 3 + [True] * 2
    finally:
        for replica in replicas:
            await replica.aclose()


async def test_with_the_storage_unreachable_turns_are_stored_and_answered(
        db_url: str, connector: FakeConnector, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(db_url, **anonymous(coach_rate_limit="1 per 10 seconds",
                                       coach_rate_limit_storage="redis://127.0.0.1:1/0"))
    async for harness in start(app, connector):
        maya = TeamsDriver(harness.http, USERS["maya"])
        for _ in range(3):
            await maya.say("/coach alice")
        assert len(maya.chat) >= 3
        assert not any(GatewayText.limited in s.said for s in maya.chat)
        with harness.app.sessions() as db:
            assert db.scalars(select(Conversation.version)).one() >= 1
    warned = [r for r in caplog.records if "rate-limit storage" in r.getMessage()]
    assert [r.levelname for r in warned] == ["WARNING"]
