"""A turn's direct replies when the Bot Connector will not take them (a 429 storm, a
5xx, no answer): the turn is stored, its replies go through the outbox to the speaker's
personal chat, each exactly once and in order (later turns' replies behind them), after
the Retry-After; no apology is needed, so none is lost."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select, update

from bot.channels.gateway import GatewayText
from bot.clock import ManualClock
from flows.messages import Message, message_to_json
from storage import replies
from storage.models import Conversation, Outbox, Person
from tests.support import START
from tests.teams.conftest import USERS, Harness
from tests.teams.driver import TeamsDriver, User
from tests.teams.fake_connector import FakeConnector


def bind(h: Harness, local: str) -> None:
    with h.app.sessions.begin() as db:
        db.execute(update(Person).where(Person.email.startswith(f"{local}@"))
                   .values(teams_user_id=USERS[local].aad))


def rows(h: Harness) -> list[Outbox]:
    with h.app.sessions() as db:
        return list(db.scalars(select(Outbox).order_by(Outbox.id)))


async def test_throttled_replies_arrive_once_in_order_after_the_retry_after(
        harness: Harness, connector: FakeConnector) -> None:
    h, clock = harness, harness.app.clock
    assert isinstance(clock, ManualClock)
    bind(h, "maya")
    maya = TeamsDriver(h.http, USERS["maya"])
    await maya.say("help")  # the chat is known; what help says, taken directly
    help_text = maya.chat[-1].said
    before = len(maya.chat)
    connector.fail_next(429, retry_after="30")
    first = h.http.activity(USERS["maya"], text="coach alice")
    assert (await h.http.post(first)).status in (200, 202)
    await maya.say("help")  # earlier replies still wait: this one goes behind them
    await h.teams.gateway.idle()
    assert len(maya.chat) == before  # nothing shown yet, no apology either
    with h.app.sessions() as db:  # the turn is stored all the same
        assert db.scalar(select(func.count()).select_from(Conversation)) == 1
    queued = rows(h)
    assert [r.status for r in queued] == ["pending"] * len(queued) and len(queued) >= 2
    assert {r.not_before for r in queued} == {clock.now() + timedelta(seconds=30)}
    assert (await h.http.post(first)).status in (200, 202)  # Teams delivers it again
    await h.teams.gateway.idle()  # the outbox pass it woke (nothing was due)
    assert len(rows(h)) == len(queued)  # seen before: nothing queued twice

    clock.set(clock.now() + timedelta(seconds=31))
    await h.teams.gateway.outbox.run_once()
    shown = maya.chat[before:]
    assert [s.kind for s in shown] == ["send"] * len(queued)  # the stored reference's chat
    assert "alice" in shown[0].said.lower() and shown[-1].said == help_text
    assert not any(GatewayText.crashed in s.said for s in maya.chat)
    assert {r.status for r in rows(h)} == {"sent"}
    await h.teams.gateway.outbox.run_once()
    assert len(maya.chat) == before + len(queued)  # exactly once

    await maya.say("help")  # nothing waits any more: replied directly again
    assert maya.chat[-1].kind == "reply" and maya.chat[-1].said == help_text


async def test_a_reply_lost_to_a_5xx_or_no_answer_goes_out_with_the_next_pass(
        harness: Harness, connector: FakeConnector) -> None:
    bind(harness, "maya")
    maya = TeamsDriver(harness.http, USERS["maya"])
    await maya.say("help")
    before = len(maya.chat)
    connector.fail_next(503)
    await maya.say("help")
    await harness.teams.gateway.idle()  # the outbox pass the turn woke
    assert [s.kind for s in maya.chat[before:]] == ["send"]
    assert {r.status for r in rows(harness)} == {"sent"}


async def test_a_refused_reply_still_gets_the_apology(
        harness: Harness, connector: FakeConnector) -> None:
    bind(harness, "maya")
    maya = TeamsDriver(harness.http, USERS["maya"])
    await maya.say("help")
    connector.fail_next(403)  # not a send that may work later: nothing is queued
    await maya.say("help")
    assert GatewayText.crashed in maya.chat[-1].said
    assert rows(harness) == []


async def test_a_stranger_has_nothing_queued_and_is_apologised_to(
        harness: Harness, connector: FakeConnector) -> None:
    stranger = TeamsDriver(harness.http, User("zed", "aad-zed", "Zed Nobody"))  # not in
    connector.fail_next(429, retry_after="5")  # the roster: bound to nobody
    await stranger.say("help")
    await harness.teams.gateway.idle()
    assert [GatewayText.crashed in s.said for s in stranger.chat] == [True]
    assert rows(harness) == []


def test_replies_wait_only_for_their_own_speaker(engine: Engine) -> None:
    now = START
    with engine.begin() as conn:
        replies.defer(conn, platform="teams", tenant="t", user_key="a_b%c", email="a@x",
                      delivery="in-1", messages=[message_to_json(Message("hi"))], now=now)
    with engine.connect() as conn:
        assert replies.waiting_until(conn, "teams", "t", "a_b%c") == now
        for other in ("__b%c", "a%", "a_b", "a_b%c:in"):  # LIKE's wildcards are escaped
            assert replies.waiting_until(conn, "teams", "t", other) is None
        assert replies.waiting_until(conn, "slack", "t", "a_b%c") is None


def test_the_claim_of_a_turn_finds_the_replies_it_goes_behind_in_the_same_statement(
        engine: Engine) -> None:
    now = START
    with engine.begin() as conn:
        replies.defer(conn, platform="teams", tenant="t", user_key="a_b%c", email="a@x",
                      delivery="in-1", messages=[message_to_json(Message("hi"))], now=now,
                      not_before=now + timedelta(seconds=5))
    with engine.begin() as conn:
        assert replies.claim_behind(conn, "teams", "t", "a_b%c", "in-2", now) == (
            True, now + timedelta(seconds=5))
        assert replies.claim_behind(conn, "teams", "t", "a_b%", "in-3", now) == (True, None)
        assert replies.claim_behind(conn, "teams", "t", "a_b%c", "in-2", now) == (
            False, None)  # the same delivery again: seen
