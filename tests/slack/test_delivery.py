"""The outbox worker with Slack's notifier: no second DM after a crash between Slack's
answer and marking the row sent, and one recipient whose calls hang holds up no one else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.channels import outbox as outbox_worker
from bot.cli.demo_org import DOMAIN
from flows.messages import Message, message_to_json
from storage import deliveries, outbox
from storage.models import Outbox
from tests.slack.conftest import IDS, Harness, slack_settings, start
from tests.slack.fake_slack import TEAM, FakeSlack
from tests.support import make_app


def enqueue(harness: Harness, key: str, local: str, text: str) -> None:
    """A DM for ``local`` waiting in the outbox, as a turn leaves it."""
    now = harness.app.clock.now()
    with harness.app.engine.begin() as conn:
        outbox.enqueue(conn, key=key, kind="slack", target=f"{local}@{DOMAIN}", now=now,
                       payload={"tenant": TEAM, "message": message_to_json(
                           Message(text, to=f"{local}@{DOMAIN}"))})


def dms_to(fake: FakeSlack, local: str) -> list[str]:
    return [c.args["text"] for c in fake.of("chat.postMessage")
            if c.args["channel"] == IDS[local]]


def statuses(harness: Harness) -> dict[str, str]:
    with harness.app.sessions() as db:
        return {r.idempotency_key: r.status for r in db.scalars(select(Outbox))}


async def test_a_dm_slack_took_before_a_crash_is_not_sent_again(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    app, fake = harness.app, harness.fake
    fake.clock = lambda: app.clock.now().timestamp()  # Slack's ts on the same clock as ours
    enqueue(harness, "conv:1:v2:0", "alice", "Your action plan")
    real_mark_sent = deliveries.mark_all_sent
    crashes = iter([True])

    def crash_once(*args: object) -> None:
        if next(crashes, False):
            raise RuntimeError("killed before the row was marked sent")
        real_mark_sent(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(deliveries, "mark_all_sent", crash_once)
    delivery = harness.slack.gateway.outbox
    with pytest.raises(RuntimeError):
        await delivery.run_once()
    assert dms_to(fake, "alice") == ["Your action plan"]
    assert fake.of("chat.postMessage")[0].args["metadata"] == {
        "event_type": "coach_outbox", "event_payload": {"key": "conv:1:v2:0"}}
    assert statuses(harness) == {"conv:1:v2:0": "pending"}

    assert await delivery.run_once() == 0  # still leased to the sender that died
    app.clock.set(app.clock.now() + timedelta(seconds=outbox_worker.LEASE_SECONDS + 1))
    assert await delivery.run_once() == 1  # found in the DM: marked sent, not posted
    assert dms_to(fake, "alice") == ["Your action plan"]
    assert statuses(harness) == {"conv:1:v2:0": "sent"}
    history = fake.of("conversations.history")
    assert len(history) == 1 and history[0].args["channel"] == "D0ALICE"
    assert history[0].args["include_all_metadata"] in ("1", "true", True)


async def test_a_resend_that_never_arrived_is_sent_and_a_first_send_is_not_checked(
        harness: Harness) -> None:
    app, fake = harness.app, harness.fake
    fake.clock = lambda: app.clock.now().timestamp()
    enqueue(harness, "conv:1:v2:0", "alice", "First")
    fake.fail("chat.postMessage", 503, 3)  # refused through the client's retries
    delivery = harness.slack.gateway.outbox
    assert await delivery.run_once() == 0
    assert fake.of("conversations.history") == []  # a first send does not look back
    app.clock.set(app.clock.now() + timedelta(minutes=5))
    assert await delivery.run_once() == 1
    assert len(fake.of("conversations.history")) == 1  # a resend looks first
    assert dms_to(fake, "alice") == ["First"]


async def test_a_workspace_that_hides_its_history_gets_the_resend(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """At least once where Slack will not let us check (say, a missing im:history)."""
    app, fake = harness.app, harness.fake
    enqueue(harness, "conv:1:v2:0", "alice", "Plan")
    fake.fail("chat.postMessage", 503, 3)
    delivery = harness.slack.gateway.outbox
    assert await delivery.run_once() == 0
    monkeypatch.setattr(fake, "_history", lambda args: {"ok": False, "error": "missing_scope"})
    app.clock.set(app.clock.now() + timedelta(minutes=5))
    assert await delivery.run_once() == 1
    assert dms_to(fake, "alice") == ["Plan"]


@pytest.fixture
async def quick(db_url: str, fake: FakeSlack) -> AsyncIterator[Harness]:
    """Web API calls give up after half a second."""
    async for h in start(make_app(db_url, **slack_settings(fake)), fake, api_timeout=0.5):
        yield h


async def test_a_recipient_whose_calls_hang_holds_up_no_one_else(quick: Harness) -> None:
    app, fake = quick.app, quick.fake
    enqueue(quick, "conv:1:v2:0", "alice", "To Alice, first")
    enqueue(quick, "conv:1:v2:1", "alice", "To Alice, second")
    enqueue(quick, "conv:2:v2:0", "bob", "To Bob")
    fake.hang("chat.postMessage", IDS["alice"])
    delivery = quick.slack.gateway.outbox
    assert await asyncio.wait_for(delivery.run_once(), timeout=5) == 1
    [alice] = [c for c in fake.calls if c.args.get("channel") == IDS["alice"]]
    [bob] = [c for c in fake.calls if c.args.get("channel") == IDS["bob"]]
    assert bob.at - alice.at < 0.5  # Bob's DM did not wait for Alice's call to time out
    assert dms_to(fake, "bob") == ["To Bob"]
    with app.sessions() as db:
        rows = {r.idempotency_key: r for r in db.scalars(select(Outbox))}
    first, second = rows["conv:1:v2:0"], rows["conv:1:v2:1"]
    assert first.status == second.status == "pending" and rows["conv:2:v2:0"].status == "sent"
    assert "no answer from Slack" in (first.last_error or "")
    assert second.attempts == 0 and second.not_before == first.not_before  # stays behind
    fake.hangs.clear()
    app.clock.set(first.not_before)
    assert await delivery.run_once() == 2
    assert dms_to(fake, "alice") == ["To Alice, first", "To Alice, second"]  # in order


def test_every_web_api_client_has_a_timeout(harness: Harness) -> None:
    """slack_sdk applies its timeout only to sessions it makes: the shared one has its own."""
    client = harness.slack.bolt.client
    assert client.session is not None and client.session.timeout.total == 10
    assert client.timeout == 10
