"""Drill: 429 storms from the fake Slack API and the fake Bot Connector (issue 12, item 5).

Messages are queued for every person of the demo org; the fake platform then answers a
storm of 429s, each with its own Retry-After, mixed with successes, and the outbox worker
runs pass after pass on the app's clock, moved on to when the next row is due. On Teams
the people also write during the storm, so the direct replies to their turns meet it too.
Every message and every reply must arrive exactly once, in order, every wait must be the
Retry-After the platform asked for (in the client's own retries and in the row's
reschedule), and no pass may raise. (The storm is waited out on the app's clock, in
process; no ``coach serve`` process runs here.)
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from bot.cli.demo_org import DOMAIN, PEOPLE
from bot.clock import ManualClock
from flows.messages import Message, message_to_json
from storage.models import Outbox, Person
from tests.drills.figures import record
from tests.slack.conftest import Harness as SlackHarness
from tests.teams.conftest import USERS
from tests.teams.conftest import Harness as TeamsHarness
from tests.teams.driver import TENANT

pytestmark = pytest.mark.slow
MESSAGES_EACH = 4  # per recipient, so each one's messages must also stay in order
STORM = 150  # 429 answers in one storm (Slack)
TEAMS_STORM = 110  # each with its own Retry-After of at most two minutes
MAX_PASSES = 400


def queue(h: SlackHarness | TeamsHarness, channel: str, tenant: str,
          recipients: list[str]) -> dict[str, str]:
    """MESSAGES_EACH rows for each recipient; their texts by idempotency key."""
    now = h.app.clock.now()
    texts = {}
    with h.app.sessions.begin() as db:
        for n in range(MESSAGES_EACH):
            for email in recipients:
                key = f"drill:429:{email}:{n}"
                texts[key] = f"Drill message {n} for {email}"
                db.execute(insert(Outbox).values(
                    idempotency_key=key, kind=channel, target=email, status="pending",
                    attempts=0, not_before=now, created_at=now,
                    payload={"tenant": tenant, "message": message_to_json(Message(texts[key]))}))
    return texts


def retry_afters(rng: random.Random, count: int, ceiling: int) -> list[int]:
    """Distinct waits, so that each wait seen can be traced to the 429 that asked it."""
    return rng.sample(range(1, ceiling + 1), count)


def pending(h: SlackHarness | TeamsHarness) -> list[Outbox]:
    with h.app.sessions() as db:
        return list(db.scalars(select(Outbox).where(Outbox.status == "pending")))


async def drain(h: SlackHarness | TeamsHarness, asked: set[int]) -> tuple[int, int]:
    """Outbox passes until nothing is pending; the app's clock moves on to the next due
    row between passes. Checks at every pass that each row put back waits exactly a
    Retry-After the platform gave, and that nothing is sent before its time. Returns
    (passes, rows put back)."""
    clock = h.app.clock
    assert isinstance(clock, ManualClock)
    gateway = (h.slack if isinstance(h, SlackHarness) else h.teams).gateway
    outbox = gateway.outbox
    passes = put_back = 0
    await gateway.idle()  # a pass woken by earlier turns is over: each pass here is whole
    while rows := pending(h):
        passes += 1
        assert passes < MAX_PASSES, [(r.idempotency_key, r.attempts, r.last_error) for r in rows]
        due = min(r.not_before for r in rows)
        clock.set(max(due, clock.now()))
        now = clock.now()
        waiting = {r.id: r.not_before for r in rows}
        await outbox.run_once()  # raises if a pass failed: the drill then fails
        for row in pending(h):
            if row.not_before not in (waiting[row.id], now):  # tried and put back, or
                # held behind one of the same recipient's that was
                put_back += 1
                waited = (row.not_before - now).total_seconds()
                assert waited in asked, (row.idempotency_key, waited, row.last_error)
        if (early := min((r.not_before for r in pending(h)), default=None)) and early > now:
            calls = _attempts(h)
            clock.set(early - timedelta(seconds=1))
            assert await outbox.run_once() == 0 and _attempts(h) == calls  # not before time
    return passes, put_back


def _attempts(h: SlackHarness | TeamsHarness) -> tuple[int, int]:
    """What the fake platform has seen of the sends so far (a 429 used up, or a send)."""
    if isinstance(h, SlackHarness):
        return len(h.fake.of("chat.postMessage", ok_only=False)), 0
    return len(h.connector.sent), len(h.connector.failures)


def _failed(h: SlackHarness | TeamsHarness) -> int:
    with h.app.sessions() as db:
        return len(db.scalars(select(Outbox).where(Outbox.status != "sent")).all())


# Slack ------------------------------------------------------------------------------------


async def test_drill_slack_429_storm(slack_harness: SlackHarness) -> None:
    h, rng = slack_harness, random.Random(429)
    recipients = [f"{local}@{DOMAIN}" for local in ("maya", "alice", "bob", "lee", "omar",
                                                    "carmen")]
    texts = queue(h, "slack", "T0TEAM", recipients)
    asked = retry_afters(rng, STORM, 600)
    for wait in asked:  # the storm, with a success now and then in between
        h.fake.fail("chat.postMessage", 429, 1, **{"Retry-After": str(wait)})
    passes, put_back = await drain(h, set(asked))
    sent = h.fake.keys_sent()
    calls = h.fake.of("chat.postMessage", ok_only=False)
    limited = [c for c in calls if c.status == 429]
    record("429 storm slack", messages=len(texts), answers_429=len(limited),
           client_waits=len(h.sleeps.waited), rows_put_back=put_back, passes=passes,
           delivered=len(sent), duplicates=sum(n - 1 for n in sent.values()),
           lost=len(set(texts) - set(sent)))
    assert set(sent) == set(texts) and set(sent.values()) == {1}
    assert len(limited) == STORM and _failed(h) == 0
    assert not Counter(int(w) for w in h.sleeps.waited) - Counter(asked)  # each as asked
    for email in recipients:  # each recipient's messages in the order they were queued
        mine = [_key(c) for c in calls if c.status == 200 and c.args["channel"] == _user(email)]
        assert mine == [f"drill:429:{email}:{n}" for n in range(MESSAGES_EACH)]


def _key(call: Any) -> str:
    metadata = call.args.get("metadata")
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    return str(metadata["event_payload"]["key"])


def _user(email: str) -> str:
    from tests.slack.conftest import IDS

    return IDS[email.split("@")[0]]


# Teams ------------------------------------------------------------------------------------


SAID = ("help", "hello")  # each person, once before the storm and once in it


def words(texts: Any) -> list[str]:
    """What a run of activities says, word by word (however it was split into them)."""
    return " ".join(texts).split()


def tally(said: list[str], turns: list[list[str]]) -> tuple[int, int]:
    """(lost, duplicated) replies: ``turns`` (each turn's reply, word by word) looked for
    in order in ``said``; what is left over, counted in replies said again."""
    at = lost = duplicated = 0
    for turn in turns:
        if said[at:at + len(turn)] == turn:
            at += len(turn)
        else:
            lost += 1
    rest = said[at:]
    while rest:
        duplicated += 1
        again = next((t for t in turns if rest[:len(t)] == t), rest)
        rest = rest[len(again):]
    return lost, duplicated


async def test_drill_teams_429_storm(teams_harness: TeamsHarness) -> None:
    """The Teams storm also meets the people's own turns: each says SAID while it rages,
    so the direct replies to them are throttled too; those go through the outbox to the
    person's chat, and must arrive once each, in the order they were said."""
    h, rng = teams_harness, random.Random(430)
    locals_ = [local for local, *_ in PEOPLE if local in USERS]
    replies: dict[str, list[list[str]]] = {}  # each one's turns' replies, word by word
    for local in locals_:  # each opens the app once: their chat is known, their id bound
        with h.app.sessions.begin() as db:
            db.execute(update(Person).where(Person.email == f"{local}@{DOMAIN}")
                       .values(teams_user_id=USERS[local].aad))
        for text in SAID:
            shown = len(h.connector.to(USERS[local].chat))
            assert (await h.http.message(USERS[local], text)).status in (200, 202)
            replies.setdefault(local, []).append(
                words(s.said for s in h.connector.to(USERS[local].chat)[shown:]))
    opened = len(h.connector.sent)
    texts = queue(h, "teams", TENANT, [f"{local}@{DOMAIN}" for local in locals_])
    asked = retry_afters(rng, TEAMS_STORM, 120)  # above 60 s the row goes back to the outbox
    for wait in asked:
        h.connector.fail_next(429, str(wait))
    for text in SAID:  # the people's turns in the storm: their replies are throttled too
        for local in locals_:
            assert (await h.http.message(USERS[local], text)).status in (200, 202)
    passes, put_back = await drain(h, set(asked))
    proactive = h.connector.sent[opened:]
    arrived = Counter(s.text for s in proactive if s.text.startswith("Drill message"))
    direct = {local: [s for s in proactive if s.conversation == USERS[local].chat
                      and not s.text.startswith("Drill message")] for local in locals_}
    deferred = sum(s.kind == "send" for sent in direct.values() for s in sent)
    lost, duplicated = (sum(counts) for counts in zip(*(
        tally(words(s.said for s in direct[local]), replies[local]) for local in locals_),
        strict=True))
    record("429 storm teams", messages=len(texts), answers_429=TEAMS_STORM,
           client_waits=len(h.sleeps.waited), rows_put_back=put_back, passes=passes,
           delivered=sum(1 for t in texts.values() if arrived[t]),
           duplicates=sum(n - 1 for n in arrived.values()),
           lost=sum(1 for t in texts.values() if not arrived[t]),
           direct_replies=len(locals_) * len(SAID), reply_activities_via_outbox=deferred,
           replies_lost=lost, replies_duplicated=duplicated)
    assert h.connector.failures == []  # the whole storm was answered
    assert sorted(arrived.elements()) == sorted(texts.values())
    assert _failed(h) == 0
    assert not Counter(int(w) for w in h.sleeps.waited) - Counter(asked)
    assert all(w <= 60 for w in h.sleeps.waited)
    assert deferred > 0  # the storm did meet the direct replies
    for local in locals_:
        mine = [s.text for s in proactive if s.conversation == USERS[local].chat]
        drill = [t for t in mine if t.startswith("Drill message")]
        assert drill == [f"Drill message {n} for {local}@{DOMAIN}" for n in range(MESSAGES_EACH)]
        # every reply once, in the order its turns ran (a card that had text above its
        # question, queued, comes as the text, then the card)
        expected = [word for turn in replies[local] for word in turn]
        assert words(s.said for s in direct[local]) == expected, local
