"""Real ``coach serve`` processes (the CLI's own code path, with the tests' due work:
tests/rhythm/due_checkins.py) against the fake Slack API on loopback: ``kill -9``
between "due" and "sent" loses and duplicates nothing; of two replicas on one
PostgreSQL database only one runs the scheduler and every message is sent once; when
the leader is killed the other takes over within 30 seconds."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import Engine, create_engine, func, select, text

from bot.settings import Settings
from storage.models import DEFAULT_ORG, Outbox, Person
from tests.slack.driver import SECRET
from tests.slack.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parents[2]
TAKEOVER_LIMIT = 30.0  # seconds (issue 10, item 6)
LEASE = 2.0  # seconds a killed sender's rows stay leased (COACH_OUTBOX_LEASE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Serve:
    """One ``coach serve`` process; its log (stderr) kept in a file."""

    def __init__(self, db_url: str, fake: FakeSlack, log: Path, **env: str) -> None:
        self.port, self.log = free_port(), log
        environment = {**os.environ, "DATABASE_URL": db_url, "COACH_ENV": "test",
                       "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
                       "SLACK_API_URL": fake.url, "COACH_LOG_LEVEL": "INFO",
                       "COACH_SCHEDULER_INTERVAL": "0.5", "COACH_LEADER_RETRY": "1",
                       "COACH_OUTBOX_LEASE": str(LEASE), **env}
        self.stderr = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.rhythm.due_checkins", "--host", "127.0.0.1",
             "--port", str(self.port)], cwd=ROOT, env=environment,
            stdout=subprocess.DEVNULL, stderr=self.stderr)

    async def ready(self, timeout: float = 60.0) -> None:
        url = f"http://127.0.0.1:{self.port}/healthz"
        async with aiohttp.ClientSession() as http, asyncio.timeout(timeout):
            while True:
                assert self.proc.poll() is None, self.log.read_text()
                try:
                    async with http.get(url) as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)

    def logged(self, words: str) -> int:
        return self.log.read_text().count(words)

    @property
    def leads(self) -> bool:
        return self.logged(f":{self.proc.pid} leads") > 0

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.stderr.close()

    def stop(self) -> None:
        """A graceful stop (SIGINT, as Ctrl-C or an orchestrator would)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


async def until(condition: Callable[[], bool], timeout: float = 60.0,
                processes: tuple[Serve, ...] = ()) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            for process in processes:
                assert process.proc.poll() is None, process.log.read_text()[-3000:]
            await asyncio.sleep(0.05)


def add_reps(engine: Engine, fake: FakeSlack, first: int, count: int) -> list[str]:
    """Reps bound to Slack users of the fake directory; their emails."""
    emails = []
    with engine.begin() as conn:
        for n in range(first, first + count):
            email, user = f"rep{n}@replicas.example", f"U0REP{n:04d}"
            conn.execute(Person.__table__.insert().values(
                org_id=DEFAULT_ORG, email=email, name=f"Rep {n}", role="rep",
                timezone="America/New_York", slack_user_id=user, active=True,
                created_at=func.now(), updated_at=func.now()))
            fake.add_user(user, email, f"Rep {n}")
            emails.append(email)
    return emails


def outbox_status(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Outbox.idempotency_key, Outbox.status)).all())


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.close()
    assert fake.problems == [], fake.problems


@pytest.fixture
def engine(db_url: str) -> AsyncIterator[Engine]:
    engine = create_engine(Settings(database_url=db_url).sqlalchemy_url)
    yield engine
    engine.dispose()


def all_sent_once(engine: Engine, fake: FakeSlack, count: int) -> bool:
    status = outbox_status(engine)
    return (len(status) == count and set(status.values()) == {"sent"}
            and len(fake.keys_sent()) == count)


@pytest.mark.slow
async def test_kill_9_between_due_and_sent_then_restart_sends_each_message_once(
        db_url: str, engine: Engine, fake: FakeSlack, tmp_path: Path) -> None:
    reps = 12  # more than the worker sends at once (4): most are leased, not yet sent
    first = Serve(db_url, fake, tmp_path / "first.log")
    try:
        await first.ready()
        fake.stall("chat.postMessage")  # messages land, their senders never hear it
        add_reps(engine, fake, 1, reps)
        await until(lambda: len(outbox_status(engine)) == reps
                    and len(fake.of("chat.postMessage")) >= 2, processes=(first,))
    finally:
        first.kill()
    landed = fake.keys_sent()
    assert landed and len(landed) < reps  # killed in the middle: some arrived, most not
    assert set(outbox_status(engine).values()) == {"pending"}  # none marked sent
    fake.unstall()

    second = Serve(db_url, fake, tmp_path / "second.log")
    try:
        await second.ready()
        await until(lambda: all_sent_once(engine, fake, reps), processes=(second,))
        sent = fake.keys_sent()
        assert set(sent) == set(outbox_status(engine)) and set(sent.values()) == {1}
        # the rows the first process had handed to Slack were looked for, not sent again
        assert len(fake.of("conversations.history")) >= len(landed)
    finally:
        second.stop()


ON_POSTGRESQL = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def leader_pids(engine: Engine) -> list[str]:
    """The scheduler lock's holders, as PostgreSQL sees them (application_name)."""
    with engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
            "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted")).scalars())


@ON_POSTGRESQL
@pytest.mark.slow
async def test_two_replicas_run_one_scheduler_and_send_each_message_once(
        db_url: str, engine: Engine, fake: FakeSlack, tmp_path: Path) -> None:
    replicas = [Serve(db_url, fake, tmp_path / f"replica{n}.log") for n in (1, 2)]
    try:
        await asyncio.gather(*(r.ready() for r in replicas))
        add_reps(engine, fake, 1, 30)
        await until(lambda: all_sent_once(engine, fake, 30), processes=tuple(replicas))
        await asyncio.sleep(1.5)  # three more ticks: nothing is queued or sent again
        assert set(fake.keys_sent().values()) == {1} and len(fake.keys_sent()) == 30
        assert [r.leads for r in replicas].count(True) == 1
        leader = next(r for r in replicas if r.leads)
        follower = next(r for r in replicas if not r.leads)
        assert leader.logged("due work ran") >= 3 and follower.logged("due work ran") == 0
        assert leader_pids(engine) == [next(
            name for name in leader_pids(engine) if name.endswith(f":{leader.proc.pid}"))]
    finally:
        for replica in replicas:
            replica.stop()
    # A graceful stop released the lock. The follower may have taken it over while the
    # leader stopped; PostgreSQL lists a closed session's lock until its backend has gone.
    await until(lambda: leader_pids(engine) == [], timeout=5.0)


@ON_POSTGRESQL
@pytest.mark.slow
async def test_when_the_leader_is_killed_the_other_takes_over_within_30_seconds(
        db_url: str, engine: Engine, fake: FakeSlack, tmp_path: Path) -> None:
    replicas = [Serve(db_url, fake, tmp_path / f"replica{n}.log") for n in (1, 2)]
    try:
        await asyncio.gather(*(r.ready() for r in replicas))
        await until(lambda: any(r.leads for r in replicas), processes=tuple(replicas))
        leader = next(r for r in replicas if r.leads)
        follower = next(r for r in replicas if not r.leads)
        add_reps(engine, fake, 1, 5)
        await until(lambda: all_sent_once(engine, fake, 5), processes=(follower,))
        leader.kill()
        killed = time.monotonic()
        await until(lambda: follower.leads, timeout=TAKEOVER_LIMIT, processes=(follower,))
        takeover = time.monotonic() - killed
        add_reps(engine, fake, 100, 5)  # due after the leader died: the new leader's work
        await until(lambda: all_sent_once(engine, fake, 10), processes=(follower,))
        assert takeover < TAKEOVER_LIMIT
        print(f"takeover after kill -9 of the leader: {takeover:.2f} s")
        assert set(fake.keys_sent().values()) == {1}
    finally:
        for replica in replicas:
            replica.kill() if replica.proc.poll() is None else None
