"""Signatures, retries, deduplication, rate limits and double clicks, through HTTP."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sqlalchemy import func, select

from bot.channels.who import Who
from storage.models import Conversation, Outbox, ProcessedEvent, TransitionLog
from tests.slack.conftest import IDS, Harness
from tests.slack.driver import SlackDriver, find_choice, sign


def counts(harness: Harness) -> tuple[int, int, int]:
    with harness.app.sessions() as db:
        return (db.scalar(select(func.count(Conversation.id))) or 0,
                db.scalar(select(func.count(TransitionLog.id))) or 0,
                db.scalar(select(func.count(ProcessedEvent.id))) or 0)


async def test_bad_signature_or_old_timestamp_is_refused_and_nothing_stored(
        harness: Harness) -> None:
    http = harness.http
    at_start = len(harness.fake.calls)  # the workspace linked at start (auth.test)
    body = http.command_body(IDS["maya"], "alice")
    forged = sign(body, secret="not-the-secret")
    old = sign(body, timestamp=int(time.time()) - 301)
    event = json.dumps(http.event_body({"type": "app_home_opened", "user": IDS["maya"],
                                        "tab": "home"}, "Ev0BAD", "AppHomeOpenedPayload"))
    for text, content_type, headers in ((body, "application/x-www-form-urlencoded", forged),
                                        (body, "application/x-www-form-urlencoded", old),
                                        (event, "application/json", sign(event, secret="x")),
                                        (body, "application/x-www-form-urlencoded", {})):
        response = await http.post(text, content_type, headers)
        assert response.status == 401
    await http.settle()
    assert counts(harness) == (0, 0, 0)
    assert [c.method for c in harness.fake.calls[at_start:]] == []


async def test_a_retried_event_is_answered_and_processed_once(harness: Harness) -> None:
    http = harness.http
    body = http.event_body({"type": "message", "channel_type": "im", "channel": "D0MAYA",
                            "user": IDS["maya"], "text": "/coach alice", "subtype": None,
                            "bot_id": None, "bot_profile": None, "ts": "1.1"},
                           "Ev0RETRY", "MessagePayload")
    first = await http.event(body)
    retried = await http.event(body, **{"X-Slack-Retry-Num": "1",
                                        "X-Slack-Retry-Reason": "http_timeout"})
    assert first.status == retried.status == 200
    await http.settle()
    with harness.app.sessions() as db:
        assert db.scalar(select(func.count(ProcessedEvent.id))) == 1
        assert db.scalar(select(func.count(Conversation.id))) == 1
    # The same event id from another workspace is another event.
    other = {**body, "team_id": "T0OTHER"}
    other["authorizations"] = [{**body["authorizations"][0], "team_id": "T0OTHER"}]
    assert (await http.event(other)).status == 200
    await http.settle()
    with harness.app.sessions() as db:
        assert db.scalar(select(func.count(ProcessedEvent.id))) == 2


async def test_a_429_is_retried_after_retry_after_and_sent_once(harness: Harness) -> None:
    harness.fake.fail("views.open", 429, 1, **{"Retry-After": "7"})
    driver = SlackDriver(harness.http, IDS["maya"])
    await driver.say("/coach alice")
    opened = harness.fake.of("views.open", ok_only=False)
    assert [c.status for c in opened] == [429, 200]
    assert harness.sleeps.waited == [7.0]


async def test_a_5xx_is_retried(harness: Harness) -> None:
    harness.fake.fail("views.open", 503, 1)
    await SlackDriver(harness.http, IDS["maya"]).say("/coach alice")
    assert [c.status for c in harness.fake.of("views.open", ok_only=False)] == [503, 200]
    assert len(harness.sleeps.waited) == 1


async def test_outbox_dm_rate_limited_past_the_retries_waits_for_retry_after(
        harness: Harness) -> None:
    from datetime import timedelta

    from tests.support import Console, full_session

    harness.fake.fail("chat.postMessage", 429, 3, **{"Retry-After": "30"})
    full_session(Console(harness.app))  # leaves the rep's plan in the outbox
    with harness.app.sessions.begin() as db:  # ... as a Slack delivery, not yet sent
        row = db.scalars(select(Outbox)).one()
        row.kind, row.payload = "slack", {**row.payload, "tenant": "T0TEAM"}
        row.status, row.attempts = "pending", 0
    delivery = harness.slack.gateway.outbox
    assert await delivery.run_once() == 0
    assert harness.sleeps.waited == [30.0, 30.0]  # the client's own two retries
    with harness.app.sessions() as db:
        row = db.scalars(select(Outbox)).one()
        assert row.status == "pending" and row.attempts == 0  # a rate limit is no failure
        assert row.not_before == harness.app.clock.now() + timedelta(seconds=30)
    assert await delivery.run_once() == 0  # not yet due
    harness.app.clock.set(harness.app.clock.now() + timedelta(seconds=30))
    assert await delivery.run_once() == 1
    assert await delivery.run_once() == 0
    sent = harness.fake.of("chat.postMessage")
    assert len(sent) == 1 and sent[0].args["channel"] == IDS["alice"]


async def test_a_double_click_advances_the_flow_once(harness: Harness) -> None:
    driver = SlackDriver(harness.http, IDS["maya"])
    await driver.say("/coach alice")
    view = await driver.submit(purpose="p", objectives="o", value_to_rep="v")
    click = harness.http.action_in_view(IDS["maya"], view, find_choice(view["blocks"], "yes"))
    first, second = await harness.http.interact(click), await harness.http.interact(click)
    assert first.status == second.status == 200
    await harness.http.settle()
    with harness.app.sessions() as db:
        moves = db.scalars(select(TransitionLog).where(TransitionLog.from_step == "rep_aligned"))
        assert len(moves.all()) == 1
        conversation = db.scalars(select(Conversation)).one()
        assert conversation.state["step"] == "gap"
    updates = harness.fake.of("views.update")
    assert len(updates) == 1  # the second click's update met a changed view: left alone
    conflicts = [c for c in harness.fake.of("views.update", ok_only=False) if not c.ok]
    assert len(conflicts) == 1
    assert json.loads(updates[0].args["view"]["private_metadata"])["s"] == "gap"


async def test_a_submission_does_not_wait_long_for_earlier_work(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.slack import handlers

    driver = SlackDriver(harness.http, IDS["maya"])
    await driver.say("/coach alice")
    monkeypatch.setattr(handlers, "SUBMIT_WAIT", 0.01)
    lock = harness.slack.gateway.background.lock(Who("slack", "T0TEAM", IDS["maya"]))
    async with lock:  # earlier work stuck (say, waiting out a long Retry-After)
        view = await asyncio.wait_for(
            driver.submit(purpose="p", objectives="o", value_to_rep="v"), timeout=5)
    assert json.loads(view["private_metadata"])["s"] == "rep_aligned"
