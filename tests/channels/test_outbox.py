"""The outbox worker with a fake notifier: lease → send → mark, a failure rescheduled
with the platform's Retry-After and the recipient's later rows kept behind it, and a
private note never sent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.bootstrap import App
from bot.channels.outbox import DeliveryFailed
from bot.cli.demo_org import DOMAIN
from flows.messages import Message, message_to_json
from storage import outbox, replies
from storage.models import Outbox
from tests.channels.fakes import FakeNotifier, shared_gateway
from tests.support import make_app

ALICE, BOB = f"alice@{DOMAIN}", f"bob@{DOMAIN}"


def enqueue(app: App, key: str, to: str, text: str, private: bool = False) -> None:
    with app.engine.begin() as conn:
        outbox.enqueue(conn, key=key, kind="fake", target=to, now=app.clock.now(),
                       payload={"tenant": "t", "message": message_to_json(
                           Message(text, to=to, private=private))})


def rows(app: App) -> dict[str, Outbox]:
    with app.sessions() as db:
        return {r.idempotency_key: r for r in db.scalars(select(Outbox))}


async def test_a_retry_after_reschedules_the_row_and_keeps_the_next_behind(
        db_url: str) -> None:
    app = make_app(db_url)
    gateway = shared_gateway(app)
    fake = FakeNotifier("fake", failures=[DeliveryFailed("429 ratelimited", 30.0)])
    gateway.outbox.register(fake)
    enqueue(app, "k1", ALICE, "first")
    enqueue(app, "k2", ALICE, "second")
    enqueue(app, "k3", BOB, "to Bob")
    try:
        assert await gateway.outbox.run_once() == 1
        assert [m.message.text for m in fake.sent] == ["to Bob"]
        found = rows(app)
        assert found["k1"].status == found["k2"].status == "pending"
        assert found["k1"].last_error == "429 ratelimited"
        assert found["k2"].not_before == found["k1"].not_before
        assert await gateway.outbox.run_once() == 0  # not before Retry-After
        app.clock.set(app.clock.now() + timedelta(seconds=31))
        assert await gateway.outbox.run_once() == 2
        assert [m.message.text for m in fake.sent] == ["to Bob", "first", "second"]
    finally:
        gateway.close()
        app.close()


async def test_a_private_note_is_never_sent_to_anyone(db_url: str) -> None:
    app = make_app(db_url)
    gateway = shared_gateway(app)
    fake = FakeNotifier("fake")
    gateway.outbox.register(fake)
    enqueue(app, "k1", ALICE, "manager's note", private=True)
    try:
        assert await gateway.outbox.run_once() == 0
        assert fake.sent == []
        assert "private" in (rows(app)["k1"].last_error or "")
    finally:
        gateway.close()
        app.close()


async def test_a_private_note_deferred_to_its_own_speaker_is_sent_to_them(
        db_url: str) -> None:
    app = make_app(db_url)
    gateway = shared_gateway(app)
    fake = FakeNotifier("fake")
    gateway.outbox.register(fake)
    with app.engine.begin() as conn:  # a turn's reply to the manager, queued in a storm
        replies.defer(conn, platform="fake", tenant="t", user_key="u-maya", email=ALICE,
                      delivery="activity-1", now=app.clock.now(), messages=[
                          message_to_json(Message("manager's note", private=True))])
    try:
        assert await gateway.outbox.run_once() == 1
        assert [(m.target, m.message.text) for m in fake.sent] == [(ALICE, "manager's note")]
    finally:
        gateway.close()
        app.close()


async def test_rows_of_a_channel_without_a_notifier_wait(db_url: str) -> None:
    app = make_app(db_url)
    gateway = shared_gateway(app)
    gateway.outbox.register(FakeNotifier("other"))
    enqueue(app, "k1", ALICE, "for the fake channel")
    try:
        assert await gateway.outbox.run_once() == 0
        assert rows(app)["k1"].status == "pending"
    finally:
        gateway.close()
        app.close()


async def test_a_failed_recipients_rows_in_the_next_batch_wait_behind_it(db_url: str) -> None:
    """The next batch is leased while one is sent: a recipient whose row failed in the
    first batch has their row of the second batch held behind it, not sent out of order."""
    app = make_app(db_url)
    gateway = shared_gateway(app)
    batch = gateway.outbox.lease_batch
    fake = FakeNotifier("fake", failures=[DeliveryFailed("429 ratelimited", 30.0)])
    gateway.outbox.register(fake)
    enqueue(app, "alice-1", ALICE, "first to Alice")
    for n in range(batch - 1):
        enqueue(app, f"bob-{n}", BOB, f"to Bob {n}")
    enqueue(app, "alice-2", ALICE, "second to Alice")  # leased in the next batch
    try:
        assert await gateway.outbox.run_once() == batch - 1
        found = rows(app)
        assert found["alice-2"].status == "pending"
        assert found["alice-2"].not_before == found["alice-1"].not_before
        app.clock.set(app.clock.now() + timedelta(seconds=31))
        assert await gateway.outbox.run_once() == 2
        assert [m.message.text for m in fake.sent if m.target == ALICE] == [
            "first to Alice", "second to Alice"]
    finally:
        gateway.close()
        app.close()
