"""The scheduler in ``coach serve`` (bot/rhythm/hosting.py) and its election
(bot/rhythm/leader.py), in process: the leader runs the due work and the outbox sends
it once; a stop waits for a tick in progress and releases the claim; on PostgreSQL one
advisory lock makes one leader, and a leader whose connection dies steps down."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import pytest
from sqlalchemy import create_engine, make_url, select, text

from bot.bootstrap import App
from bot.rhythm.hosting import DUE_JOB, RhythmHost
from bot.rhythm.leader import AdvisoryLock, Candidate, SoleProcess, candidate_for
from storage.models import Outbox
from tests.channels.fakes import FakeNotifier, shared_gateway
from tests.rhythm.due_checkins import weekly_checkins
from tests.support import make_app

DEMO_REPS = 5
QUICK = 0.05  # seconds: the tests' scheduler interval and election retry


async def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Wait (polling) until ``condition`` holds; fail after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running(host: RhythmHost) -> AsyncIterator[None]:
    """The host's lifetime as ``coach serve`` runs it (started; stopped when closed)."""
    life = host.lifetime(None)  # type: ignore[arg-type]
    await anext(life)
    try:
        yield
    finally:
        with pytest.raises(StopAsyncIteration):
            await anext(life)


def host_for(app: App, notifier: FakeNotifier, candidate: Candidate,
             due: Callable[[datetime], object] | None = None) -> RhythmHost:
    gateway = shared_gateway(app)
    gateway.outbox.register(notifier)
    return RhythmHost(due or weekly_checkins(app), gateway, app.clock, candidate,
                      every=QUICK, retry_every=QUICK, check_every=QUICK)


async def test_the_leader_runs_the_due_work_every_tick_and_each_message_goes_once(
        db_url: str) -> None:
    app = make_app(db_url)
    notifier = FakeNotifier("slack")
    host = host_for(app, notifier, SoleProcess())
    try:
        async with running(host):
            await until(lambda: len(notifier.sent) == DEMO_REPS and host.ticks >= 3)
            job = host.scheduler.get_job(DUE_JOB) if host.scheduler else None
            assert job is not None and job.coalesce and job.max_instances == 1
            assert job.misfire_grace_time >= 1
        assert not host.leading
        keys = [row.key for row in notifier.sent]
        assert len(set(keys)) == DEMO_REPS and all(k.startswith("checkin:") for k in keys)
        with app.sessions() as db:
            rows = list(db.scalars(select(Outbox)))
        assert {r.status for r in rows} == {"sent"} and len(rows) == DEMO_REPS
        assert all(r.payload["scheduled"]["kind"] == "checkin" for r in rows)
    finally:
        host.gateway.close()
        app.close()


class Recording(SoleProcess):
    def __init__(self) -> None:
        self.released = 0

    async def release(self) -> None:
        self.released += 1


async def test_a_stop_lets_the_tick_in_progress_finish_and_releases_the_claim(
        db_url: str) -> None:
    app = make_app(db_url)
    started, finish = threading.Event(), threading.Event()
    finished: list[datetime] = []

    def slow_due(now: datetime) -> None:
        started.set()
        finish.wait(10)
        finished.append(now)

    candidate = Recording()
    host = host_for(app, FakeNotifier("slack"), candidate, slow_due)
    try:
        life = host.lifetime(None)  # type: ignore[arg-type]
        await anext(life)
        await until(started.is_set)
        stopping = asyncio.ensure_future(anext(life))
        await asyncio.sleep(0.1)
        assert not stopping.done()  # waiting for the tick, not cancelling it
        finish.set()
        with pytest.raises(StopAsyncIteration):
            await stopping
        assert len(finished) == 1 and host.ticks == 1
        assert candidate.released >= 1 and not host.leading
    finally:
        host.gateway.close()
        app.close()


def test_the_election_follows_the_database() -> None:
    assert isinstance(candidate_for(make_url("sqlite:///x.db")), SoleProcess)
    assert isinstance(candidate_for(make_url("postgresql+psycopg://u@h/db")), AdvisoryLock)
    with pytest.raises(ValueError, match="mysql"):
        candidate_for(make_url("mysql://u@h/db"))


def terminate(pg_url: str, name: str) -> int:
    """Cut the connection of the candidate named ``name`` (as a dead network would)."""
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        killed = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = :name"), {"name": f"coach scheduler {name}"}).scalar()
    engine.dispose()
    return int(killed or 0)


ON_POSTGRESQL = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@ON_POSTGRESQL
async def test_one_advisory_lock_makes_one_leader(db_url: str) -> None:
    url = make_url(db_url)
    first, second = AdvisoryLock(url, name="first"), AdvisoryLock(url, name="second")
    try:
        assert await first.acquire()
        assert not await second.acquire()
        assert not await second.acquire()  # a follower's retries change nothing
        assert await first.still_leading()
        await first.release()
        assert await second.acquire()
        assert not await first.acquire()
        assert terminate(db_url, "second") == 1
        assert not await second.still_leading()
        await second.release()
        assert await first.acquire()  # the lock went with the dead connection
    finally:
        await first.release()
        await second.release()


@ON_POSTGRESQL
async def test_a_leader_whose_connection_dies_stops_and_leads_again(db_url: str) -> None:
    app = make_app(db_url)
    notifier = FakeNotifier("slack")
    host = host_for(app, notifier, AdvisoryLock(make_url(db_url), name="dying"))
    try:
        async with running(host):
            await until(lambda: host.leading and host.ticks >= 1)
            first = host.scheduler
            assert terminate(db_url, "dying") == 1
            await until(lambda: host.scheduler is not first and host.leading)
            ticks = host.ticks
            await until(lambda: host.ticks > ticks)  # the new term runs the due work
        assert sorted({r.key for r in notifier.sent}) == sorted(r.key for r in notifier.sent)
    finally:
        host.gateway.close()
        app.close()
