"""Drill: the database away for 30 seconds during turns and dispatch (issue 12, item 5).

The real Slack surface (signed HTTP, the fake Slack API on loopback) with a session in
progress and messages waiting in the outbox. Then the database goes away:

- PostgreSQL: the app reaches it through a loopback TCP proxy (tests/drills/outage.py),
  which is cut: open connections dropped, new ones refused (the shared server itself is
  never stopped);
- SQLite: another process's write lock, held for the whole outage (reads still work,
  as they do in WAL mode; every write waits out ``coach serve``'s busy timeout).

During the outage people keep clicking, submitting, typing commands and DMs, and the
outbox worker keeps trying. Each person must be told, in a sentence, that nothing was
saved; no pass may crash the worker. When the database is back, the same answers go
through, the session is exactly where it was plus those answers, and the outbox drains:
every message once. ``COACH_DRILL_OUTAGE`` shortens the 30 s for quick local runs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, insert, select

from bot.bootstrap import bootstrap
from bot.channels.gateway import GatewayText
from bot.cli.demo_org import DOMAIN, load_demo
from bot.clock import ManualClock
from bot.runner import TurnText
from bot.server import REQUEST_BUSY_TIMEOUT
from bot.settings import Settings
from bot.slack.text import SlackText
from flows.messages import Message, message_to_json
from storage.db import make_engine
from storage.models import Conversation, Outbox, Person, TransitionLog
from tests.drills.figures import OUTAGE_SECONDS, record
from tests.drills.outage import Outage
from tests.slack import conftest as slack
from tests.slack.driver import SlackDriver, find_choice
from tests.slack.fake_slack import FakeSlack
from tests.support import START

pytestmark = pytest.mark.slow
QUEUED = 20
EVERY = 3.0  # seconds between two rounds of people acting during the outage
# What people are told while the database is away: that it is, and nothing was saved
# (never the apology for a bug).
TOLD = (GatewayText.busy, TurnText.busy, SlackText.busy_submit)


@pytest.fixture
async def harness(outage: Outage, slack_fake: FakeSlack) -> AsyncIterator[slack.Harness]:
    """The Slack surface as ``coach serve`` builds it: short SQLite busy timeout."""
    settings = Settings(coach_env="test", database_url=outage.url,
                        **slack.slack_settings(slack_fake))
    app = bootstrap(settings, ManualClock(START), busy_timeout=REQUEST_BUSY_TIMEOUT)
    with app.sessions.begin() as db:
        load_demo(db, START.date(), START)
    async for h in slack.start(app, slack_fake):
        yield h


def queue(h: slack.Harness) -> set[str]:
    now, keys = h.app.clock.now(), set()
    with h.app.sessions.begin() as db:
        for n in range(QUEUED):
            local = ("alice", "bob", "carmen", "lee", "omar")[n % 5]
            key = f"drill:outage:{n}"
            keys.add(key)
            db.execute(insert(Outbox).values(
                idempotency_key=key, kind="slack", target=f"{local}@{DOMAIN}",
                status="pending", attempts=0, not_before=now, created_at=now,
                payload={"tenant": "T0TEAM", "message": message_to_json(
                    Message(f"Drill message {n}"))}))
    return keys


def state(db_url: str) -> tuple[int, str, int]:
    """Maya's session: version, step, and transitions logged (read past the outage)."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(Conversation.version, Conversation.state)
                               .join(Person, Person.id == Conversation.person_id)
                               .where(Person.email == f"maya@{DOMAIN}")).one()
            logged = conn.scalar(select(func.count(TransitionLog.id)).where(
                TransitionLog.conversation_id.is_not(None)))
            return row.version, str(row.state["step"]), logged or 0
    finally:
        engine.dispose()


class People:
    """What people do while the database is away: one round of it, and what they were
    told (the apology in the DM, the ephemeral answer, the modal's error)."""

    def __init__(self, h: slack.Harness, driver: SlackDriver) -> None:
        self.h, self.driver = h, driver
        self.acted = self.told = 0
        self.rounds = 0

    def _said(self) -> list[str]:
        texts = [str(c.args.get("text", "")) for c in self.h.fake.of("chat.postMessage")]
        texts += [str(c.args.get("text", "")) for c in self.h.fake.of("response_url")]
        return texts

    async def round(self) -> None:
        self.rounds += 1
        h, view = self.h, self.driver.view
        assert view is not None
        before = len([t for t in self._said() if any(s in t for s in TOLD)])
        click = h.http.action_in_view(slack.IDS["maya"], view, find_choice(view["blocks"],
                                                                           "yes"))
        submit = h.http.submission(slack.IDS["maya"], view, {"purpose": "x"})
        dm = h.http.event_body({"type": "message", "channel_type": "im", "channel": "D0BOB",
                                "user": slack.IDS["bob"], "text": "help", "subtype": None,
                                "bot_id": None, "bot_profile": None,
                                "ts": f"{self.rounds}.5"}, f"Ev0OUT{self.rounds}",
                               "MessagePayload")
        responses = await asyncio.gather(
            h.http.interact(click), h.http.command(slack.IDS["lee"], "alice"),
            h.http.event(dm), h.http.interact(submit))
        assert all(r.status == 200 for r in responses), [r.status for r in responses]
        answer = await responses[-1].text()  # a submission's modal says it, or the DM
        submitted_told = any(s in answer for s in TOLD)
        await h.http.settle()
        self.acted += 4
        told = len([t for t in self._said() if any(s in t for s in TOLD)]) - before
        self.told += told + submitted_told
        assert told + submitted_told == 4, (told, answer, self._said()[-6:])


async def test_drill_database_away_for_30_seconds(harness: slack.Harness, outage: Outage,
                                                  db_url: str) -> None:
    h = harness
    driver = SlackDriver(h.http, slack.IDS["maya"])
    await driver.say("/coach alice")
    await driver.submit(purpose="Improve win rate", objectives="Agree one behaviour",
                        agenda="ROAM", value_to_rep="Commission")  # now at rep_aligned
    keys = queue(h)
    outbox = h.slack.gateway.outbox
    before = state(db_url)
    people = People(h, driver)
    failed_passes = passes = 0

    outage.cut()
    cut_at = time.monotonic()
    try:
        while time.monotonic() - cut_at < OUTAGE_SECONDS:
            await people.round()
            passes += 1
            try:
                await outbox.run_once()
            except Exception:  # noqa: BLE001 - the worker's loop logs it and goes on
                failed_passes += 1
            await asyncio.sleep(max(0.0, min(EVERY, OUTAGE_SECONDS - (time.monotonic()
                                                                       - cut_at))))
    finally:
        away = time.monotonic() - cut_at
        outage.restore()
    during = state(db_url)
    assert during == before  # nothing of what was tried is stored, nothing undone

    # Back: the same click goes through, once; the outbox drains, each message once.
    view = h.fake.views[driver.view["id"]] if driver.view else None
    assert view is not None
    click = h.http.action_in_view(slack.IDS["maya"], view, find_choice(view["blocks"], "yes"))
    assert (await h.http.interact(click)).status == 200
    await h.http.settle()
    after = state(db_url)
    assert after[:2] == (before[0] + 1, "gap") and after[2] == before[2] + 1
    for _ in range(5):
        await outbox.run_once()
    sent = h.fake.keys_sent()
    engine = make_engine(db_url)
    with engine.connect() as conn:
        status = dict(conn.execute(select(Outbox.idempotency_key, Outbox.status)).all())
    engine.dispose()
    record(f"database away ({_name(db_url)})", seconds=round(away, 1),
           people_acting=people.acted, told=people.told, outbox_passes=passes,
           passes_failed=failed_passes, stored_during=during[2] - before[2], queued=len(keys),
           delivered=len(keys & set(sent)), duplicates=sum(n - 1 for n in sent.values()),
           lost=len(keys - set(sent)))
    assert people.told == people.acted
    assert {status[k] for k in keys} == {"sent"} and keys <= set(sent)
    assert set(sent.values()) == {1}


def _name(db_url: str) -> str:
    return "sqlite" if db_url.startswith("sqlite") else "postgresql"

