"""Which ``coach serve`` process runs the scheduler: exactly one per database.

On PostgreSQL the replicas compete for a session-level advisory lock
(``pg_try_advisory_lock``) on a connection of their own, outside the pool and its
transactions (a transaction-pooling proxy would hand the lock to whoever gets that
server connection next, so the URL must reach PostgreSQL directly). The winner holds
the connection for as long as it leads and checks it every few seconds: when the
connection is gone it stops leading (PostgreSQL has released the lock with it). The
others try again every few seconds, so when the leader's process dies, its connection
closes, the lock is free, and a follower takes over within a retry interval. A double
run in the seconds around a lost connection is harmless: every scheduled message has
an idempotency key. On SQLite the single process owning the file is the scheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Protocol

import psycopg
from sqlalchemy.engine import URL

log = logging.getLogger("coach.rhythm.leader")
# The advisory lock the replicas compete for: any fixed 64-bit number no other code of
# ours uses (advisory locks are per database, so one org's database has one scheduler).
SCHEDULER_LOCK = 0x5C0AC4_5C4ED
CONNECT_TIMEOUT = 5  # seconds to reach PostgreSQL before this try counts as failed
CHECK_TIMEOUT = 5.0  # seconds a leader's liveness query may take before it steps down
APPLICATION_NAME = "coach scheduler"  # shows the leader in pg_stat_activity


def process_name() -> str:
    """This process as the logs and pg_stat_activity name it: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Candidate(Protocol):
    """One process's claim to run the scheduler."""

    async def acquire(self) -> bool:
        """Try to become the leader; True when this process leads now."""
        ...

    async def still_leading(self) -> bool:
        """False once the claim is lost (another process may lead now)."""
        ...

    async def release(self) -> None:
        """Give the claim up (at shutdown, or after it was lost)."""
        ...


class SoleProcess:
    """SQLite: one process owns the database file, so it is the scheduler."""

    async def acquire(self) -> bool:
        return True

    async def still_leading(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class AdvisoryLock:
    """PostgreSQL: lead while holding ``SCHEDULER_LOCK`` on a dedicated connection."""

    def __init__(self, url: URL, *, name: str | None = None, key: int = SCHEDULER_LOCK) -> None:
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.name = name or process_name()
        self.key = key
        self.connection: psycopg.AsyncConnection[tuple[object, ...]] | None = None

    async def acquire(self) -> bool:
        try:
            if self.connection is None or self.connection.closed:
                self.connection = await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                    application_name=f"{APPLICATION_NAME} {self.name}"[:63])
            cursor = await self.connection.execute("SELECT pg_try_advisory_lock(%s)",
                                                   (self.key,))
            row = await cursor.fetchone()
        except (psycopg.Error, OSError) as exc:
            log.warning("scheduler election: cannot reach PostgreSQL (%s); trying again",
                        exc)
            await self._close()
            return False
        return bool(row and row[0])

    async def still_leading(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        try:
            await asyncio.wait_for(connection.execute("SELECT 1"), CHECK_TIMEOUT)
        except (psycopg.Error, OSError, TimeoutError) as exc:
            log.warning("scheduler election: the leader's connection is lost (%s)", exc)
            return False
        return True

    async def release(self) -> None:
        connection = self.connection
        if connection is not None and not connection.closed:
            with contextlib.suppress(psycopg.Error, OSError, TimeoutError):
                await asyncio.wait_for(
                    connection.execute("SELECT pg_advisory_unlock(%s)", (self.key,)),
                    CHECK_TIMEOUT)
        await self._close()

    async def _close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            with contextlib.suppress(psycopg.Error, OSError):
                await connection.close()


def candidate_for(url: URL, name: str | None = None) -> Candidate:
    """The election for this database: the advisory lock on PostgreSQL, the sole process
    on SQLite."""
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(url, name=name)
    if url.get_backend_name() == "sqlite":
        return SoleProcess()
    raise ValueError(f"no scheduler election for {url.get_backend_name()} databases")


Transition = Callable[[], Awaitable[None]]


async def campaign(candidate: Candidate, *, elected: Transition, deposed: Transition,
                   retry_every: float, check_every: float, name: str) -> None:
    """Lead whenever possible, until cancelled: ``elected`` when this process becomes the
    leader, ``deposed`` when it loses the claim (then it is a follower again). The caller
    stops its own work and releases the claim after cancelling this."""
    following = False
    while True:
        if not await candidate.acquire():
            if not following:
                log.warning("scheduler: %s follows (another process leads); trying every "
                            "%.0f s", name, retry_every)
                following = True
            await asyncio.sleep(retry_every)
            continue
        following = False
        log.warning("scheduler: %s leads (this process runs the operating rhythm)", name)
        await elected()
        while await candidate.still_leading():
            await asyncio.sleep(check_every)
        log.warning("scheduler: %s stopped leading (its claim was lost)", name)
        await deposed()
        await candidate.release()
