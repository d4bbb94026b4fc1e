"""Drill: ``kill -9`` at random points of sessions and of dispatch (issue 12, item 5).

Real ``coach`` processes (tests/drills/processes.py) on one database, with the fake Slack
API on loopback (answering each call after a few milliseconds, so that kills land in the
middle of sends):

- two managers coach five reps through whole SLED sessions in ``coach chat --jsonl``; an
  answer is often followed, within 300 ms, by ``kill -9`` of the chat process, which is
  started again and sent the same answer, with the step it was meant for (as any client
  would after losing its connection);
- meanwhile ``coach serve`` sends the outbox (the plans those sessions send to the reps,
  150 messages queued for everyone, and whatever the operating rhythm finds due) and is
  killed with ``kill -9`` every half second to three seconds, and started again.

Then a last ``coach serve`` drains the outbox. No acknowledged answer may be lost (it would
make the next answer stale), none may count twice (each session ends with exactly its
two actions and one plan message), and every message lands at the fake Slack exactly once,
counted by its idempotency key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, insert, select, update

from bot.cli.demo_org import DOMAIN, PEOPLE
from bot.console.chat import ConsoleText
from bot.runner import TurnText
from flows.messages import Message, message_to_json
from storage import tenancy
from storage.db import make_engine
from storage.models import ActionItem, CoachingSession, Conversation, Outbox, Person
from tests.drills.figures import KILLS, record
from tests.drills.processes import Chat, Forks, free_port
from tests.slack.driver import SECRET
from tests.slack.fake_slack import TEAM, FakeSlack
from tests.support import make_app

pytestmark = pytest.mark.slow
SESSIONS = {"maya": [("alice", "win rate %"), ("bob", "bookings"), ("carmen", "calls")],
            "omar": [("dev", "bookings"), ("erin", "calls")]}
QUEUED = 150  # messages in the outbox before the first serve starts
FED, FEED_EVERY = 4, 0.5  # and more while the drill runs
KILL_A_CHAT = 0.6  # chance that an answer is followed by kill -9 of its chat process
WITHIN = 0.3  # seconds after the answer by which that kill comes
SERVE_LIVES = (0.3, 2.0)  # seconds a serve process lives before its kill -9
WHILE_STARTING = 0.2  # chance that a serve process is killed while it starts
MID_SEND = 0.7  # else, chance that it is killed the moment it posts a message
READY_TIMEOUT = 60.0
DRAIN_TIMEOUT = 180.0
LEASED = timedelta(minutes=1)  # a row leased is due again within this (COACH_OUTBOX_LEASE)
REPLY_TIMEOUT = 120.0  # seconds an answer may take (a busy machine, another writer)


class SlowSlack(FakeSlack):
    """The fake Slack API, answering each call after 5-60 ms (a real API's latency), now
    and then after 300 ms; it counts the messages being posted at this moment."""

    in_flight = 0

    async def _api(self, request: web.Request) -> web.Response:
        posting = request.match_info["method"] == "chat.postMessage"
        self.in_flight += posting
        try:
            await asyncio.sleep(random.uniform(0.005, 0.06) if random.random() < 0.9 else 0.3)
            return await super()._api(request)
        finally:
            self.in_flight -= posting


@pytest.fixture
async def slack() -> AsyncIterator[SlowSlack]:
    fake = SlowSlack()
    await fake.start()
    yield fake
    await fake.close()
    assert fake.problems == [], fake.problems


def slack_id(local: str) -> str:
    return f"U0{local.upper()}"


def enqueue(db_url: str, numbers: range) -> set[str]:
    """Messages for everyone, due now; their keys."""
    now = datetime.now(UTC)
    engine = make_engine(db_url)
    keys = set()
    with engine.begin() as conn:
        for n in numbers:
            local = PEOPLE[n % len(PEOPLE)][0]
            key = f"drill:kill9:{n}"
            keys.add(key)
            conn.execute(insert(Outbox).values(
                idempotency_key=key, kind="slack", target=f"{local}@{DOMAIN}",
                status="pending", attempts=0, not_before=now, created_at=now,
                payload={"tenant": TEAM, "message": message_to_json(
                    Message(f"Drill message {n}"))}))
    engine.dispose()
    return keys


async def feed(db_url: str, done: asyncio.Event, keys: set[str]) -> None:
    """FED messages every FEED_EVERY seconds while the drill runs: there is always
    something being sent when a serve process is killed."""
    while not done.is_set():
        keys |= enqueue(db_url, range(len(keys), len(keys) + FED))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), FEED_EVERY)


def sending(db_url: str) -> int:
    """Rows handed to a sender and not marked sent yet."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count(Outbox.id)).where(
                Outbox.status == "pending", Outbox.first_leased_at.is_not(None))) or 0
    finally:
        engine.dispose()


def prepare(db_url: str, fake: FakeSlack) -> set[str]:
    """The demo org, everyone bound to the fake workspace's users, and QUEUED messages
    waiting in the outbox; their keys."""
    now = datetime.now(UTC)  # the processes run on the real clock
    app = make_app(db_url, start=now)
    with app.sessions.begin() as db:
        tenancy.link(db, 1, "slack", TEAM, now)
        for local, name, *_ in PEOPLE:
            fake.add_user(slack_id(local), f"{local}@{DOMAIN}", name)
            db.execute(update(Person).where(Person.email == f"{local}@{DOMAIN}")
                       .values(slack_user_id=slack_id(local)))
    app.close()
    return enqueue(db_url, range(QUEUED))


def script(rep: str, metric: str, today: date) -> list[dict[str, Any]]:
    """A whole SLED session with ``rep`` to its end (tests/support.py full_session)."""
    due = [(today + timedelta(days=d)).isoformat() for d in (7, 5, 14)]
    chart = [("yes", "yes", "yes", "yes", "yes", "yes", "no", "no", "no", "yes", "yes")]
    return [
        {"say": f"/coach {rep}"},
        {"submit": {"purpose": "Improve win rate", "objectives": "Agree one behaviour",
                    "agenda": "ROAM, chart, plan", "value_to_rep": "Higher commission"}},
        {"choose": "yes"},
        {"choose": f"metric:{metric}"},
        {"submit": {"gap_statement": f"{metric} below target", "rep_view": "Late-stage losses",
                    "manager_view": "Discovery is thin"}},
        {"choose": "opportunity_qualification"},
        {"choose": "yes"},
        *[{"choose": answer} for answer in chart[0]],
        {"submit": {"behaviour": "Discovery questions", "goal": "Weekly role-play",
                    "options": "Shadow a top rep"}},
        {"submit": {"description": "Role-play discovery", "owner": "rep", "due": due[0]}},
        {"choose": "add"},
        {"submit": {"description": "Share call recordings", "owner": "manager",
                    "due": due[1]}},
        {"choose": "done"},
        {"submit": {"metric": metric, "baseline": "14", "target": "20",
                    "review_date": due[2]}},
        {"choose": "coaching"},
        {"choose": "yes"},  # the plan agreed: it goes to the rep; the model is offered
    ]


class Tally:
    def __init__(self) -> None:
        self.sessions = self.answers = self.resent = self.applied_before_kill = 0
        self.busy = self.crashes = self.lost = self.found_in_history = 0
        self.chat_kills = self.serve_kills = self.serve_starts = self.mid_send = 0


def said(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(r.get("text") or r.get("error") or "") for r in replies)


async def coach(chat: Chat, sessions: list[tuple[str, str]], rng: random.Random,
                tally: Tally) -> None:
    """One manager's sessions, one answer at a time, with kill -9 in between."""
    await chat.open()
    for rep, metric in sessions:
        lines = script(rep, metric, date.today())
        step: str | None = None
        index, resend = 0, False
        while index < len(lines):
            line = dict(lines[index])
            if index and step:
                line["step"] = step
            await chat.send(json.dumps(line))
            replies: list[dict[str, Any]] | None = None
            if rng.random() < KILL_A_CHAT:
                with contextlib.suppress(TimeoutError):
                    replies = await asyncio.wait_for(chat.replies(), rng.uniform(0, WITHIN))
            else:
                replies = await asyncio.wait_for(chat.replies(), REPLY_TIMEOUT)
                assert replies is not None, chat.process.log.read_text()[-3000:]
            if replies is None:  # killed while the answer was on its way or being stored
                await chat.kill()
                tally.chat_kills += 1
                await chat.open()
                tally.resent += 1
                resend = True
                continue
            text = said(replies)
            if TurnText.busy in text:  # another process held the database: send again
                tally.busy += 1
                continue
            if TurnText.crashed in text or ConsoleText.line_failed in text:
                tally.crashes += 1
                raise AssertionError(f"{rep} line {index}: {text}")
            stale = TurnText.wrong_step in text
            if stale and resend:
                tally.applied_before_kill += 1  # stored before the kill: not twice
            elif stale:
                tally.lost += 1  # an acknowledged answer went missing
                raise AssertionError(f"{rep} line {index} refused: {text}")
            else:
                tally.answers += 1
            steps = [r["step"] for r in replies if r.get("step") and r.get("flow")]
            step = steps[-1] if steps else step
            index, resend = index + 1, False
        tally.sessions += 1
    await chat.close()


async def dispatch_with_kills(forks: Forks, env: dict[str, str], done: asyncio.Event,
                              rng: random.Random, tally: Tally, db_url: str,
                              slack: SlowSlack) -> None:
    """coach serve, started and killed again until ``done`` is set: now and then while it
    starts, mostly once it serves: the moment it posts a message, or at any moment."""
    while not done.is_set():
        port = free_port()
        serve = forks.start(f"serve-{tally.serve_starts}", serve_argv(port), env)
        tally.serve_starts += 1
        with contextlib.suppress(TimeoutError):
            if rng.random() < WHILE_STARTING:
                await asyncio.sleep(rng.uniform(0, 1.5))
            else:
                await serving(port, serve)
                async with asyncio.timeout(rng.uniform(*SERVE_LIVES)):
                    if rng.random() < MID_SEND:
                        while not slack.in_flight:
                            await asyncio.sleep(0.002)
                        await asyncio.sleep(rng.uniform(0, 0.03))
                    else:
                        await done.wait()
        mid_send = slack.in_flight > 0 or sending(db_url) > 0
        forks.kill(serve)
        tally.serve_kills += 1
        tally.mid_send += mid_send


async def serving(port: int, serve: Any) -> None:
    """Until GET /healthz answers (the process has started and serves)."""
    async with aiohttp.ClientSession() as http, asyncio.timeout(READY_TIMEOUT):
        while True:
            assert serve.is_alive(), serve.log.read_text()[-3000:]
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.05)


def serve_argv(port: int | None = None) -> list[str]:
    return ["serve", "--host", "127.0.0.1", "--port", str(port or free_port())]


def outbox_state(db_url: str) -> dict[str, str]:
    """The status of every row due by now or leased to a sender (the rhythm also queues
    rows for hours later)."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(select(Outbox.idempotency_key, Outbox.status).where(
                Outbox.not_before <= datetime.now(UTC) + LEASED)).all())
    finally:
        engine.dispose()


async def test_drill_kill_9_in_sessions_and_dispatch(db_url: str, slack: SlowSlack,
                                                      tmp_path: Path) -> None:
    rng, tally = random.Random(9), Tally()
    queued = prepare(db_url, slack)
    env = {"DATABASE_URL": db_url, "COACH_ENV": "test", "COACH_LOG_LEVEL": "INFO",
           "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": slack.url, "COACH_OUTBOX_LEASE": "1",
           "COACH_SCHEDULER_INTERVAL": "1", "COACH_LEADER_RETRY": "1"}
    forks = Forks(tmp_path)
    done = asyncio.Event()
    try:
        dispatch = asyncio.create_task(dispatch_with_kills(forks, env, done, rng, tally,
                                                           db_url, slack))
        feeding = asyncio.create_task(feed(db_url, done, queued))
        chats = [Chat(forks, manager, f"{manager}@{DOMAIN}", env) for manager in SESSIONS]
        await asyncio.gather(*(coach(chat, SESSIONS[chat.name], random.Random(chat.name),
                                     tally) for chat in chats))
        while tally.chat_kills + tally.serve_kills < KILLS:  # dispatch kills make up the rest
            await asyncio.sleep(0.2)
            assert not dispatch.done(), dispatch
        done.set()
        await asyncio.gather(dispatch, feeding)
        final = forks.start("serve-final", serve_argv(), env)
        async with asyncio.timeout(DRAIN_TIMEOUT):
            while "pending" in set(outbox_state(db_url).values()):
                await asyncio.sleep(0.5)
        assert forks.stop(final) == 0, final.log.read_text()[-3000:]
    finally:
        forks.close()
    tally.found_in_history = sum(log.read_text().count("had arrived before")
                                 for log in tmp_path.glob("serve-*.log"))
    check(db_url, slack, queued, tally)


def check(db_url: str, slack: FakeSlack, queued: set[str], tally: Tally) -> None:
    status = outbox_state(db_url)
    landed = slack.keys_sent()
    sent = {key for key, state in status.items() if state == "sent"}
    duplicates = sum(n - 1 for n in landed.values())
    lost_messages = len(sent - set(landed)) + len(queued - sent)
    app = make_app(db_url, demo=False)
    with app.sessions() as db:
        sessions = db.scalar(select(func.count(CoachingSession.id)))
        actions = db.scalar(select(func.count(ActionItem.id)))
        finished = sum(1 for c in db.scalars(select(Conversation).where(
            Conversation.flow == "sled")) if c.state["step"] == "handoff")
        plans = [k for k in status if k.startswith("conv:")]
    app.close()
    reps = sum(len(s) for s in SESSIONS.values())
    record("kill -9", kills=tally.chat_kills + tally.serve_kills, chat_kills=tally.chat_kills,
           serve_kills=tally.serve_kills, serve_kills_mid_send=tally.mid_send,
           sessions=tally.sessions, answers=tally.answers,
           resent_after_kill=tally.resent, stored_before_kill=tally.applied_before_kill,
           busy=tally.busy, messages=len(status), delivered=len(landed),
           found_sent_before_resend=tally.found_in_history,
           duplicates=duplicates, lost_turns=tally.lost, lost_messages=lost_messages,
           crashes=tally.crashes)
    assert tally.chat_kills + tally.serve_kills >= KILLS
    assert tally.sessions == reps and tally.lost == tally.crashes == 0
    # each session at its end (the plan agreed, the model offered), nothing stored twice
    assert (sessions, actions, finished) == (reps, 2 * reps, reps)
    assert len(plans) >= reps
    assert set(status.values()) <= {"sent", "dropped"}
    assert duplicates == 0 and lost_messages == 0, (duplicates, lost_messages)
