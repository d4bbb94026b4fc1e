"""One typed way for async code to run synchronous database work: ``await db.run(fn, *args)``.

Where the work runs depends on the engine, and callers only ever see ``run``:

- PostgreSQL as ``coach serve`` runs it (an engine from ``storage.db.make_loop_engine``,
  psycopg's async driver): on the event loop, in a greenlet (SQLAlchemy's
  ``greenlet_spawn``). The turn's code stays synchronous, but every round trip to the
  server yields to the loop, so an ack waits at most for one stretch of Python between
  two round trips. In a pool of threads the same Python contends with the loop for the
  GIL, and under load the acks queued behind the turns (``bench_slack --database-url``:
  see bench/RESULTS.md for the figures that chose this).
- PostgreSQL on an ordinary engine (tests, the CLI): a pool of threads.
- SQLite (the embedded default) takes one writer at a time and its work is CPU-bound
  in this process; handing every sqlite3 call between a thread and the loop for the GIL
  costs more than the work under load. So SQLite work goes through one
  :class:`DatabaseLane` that runs items in order, in its thread while requests are few
  and on the loop in short stretches while many arrive.
"""

from __future__ import annotations

import asyncio
import collections
import functools
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.util import greenlet_spawn

from storage.db import POOL_SIZE, is_busy


class Database:
    """Runs database work without blocking the event loop (see the module docstring).

    ``engine``: the engine the work uses; an async-driver engine (make_loop_engine) means
    the work runs in greenlets on the loop, and ``close`` waits for its connections.
    ``threaded`` (other engines): a pool of threads (default for PostgreSQL) or the lane
    (SQLite)."""

    def __init__(self, engine: Engine, *, threaded: bool | None = None) -> None:
        sqlite = engine.dialect.name == "sqlite"
        self.engine = engine
        self.on_loop = bool(engine.dialect.is_async)
        self.threaded = not sqlite if threaded is None else threaded
        workers = 1 if sqlite else POOL_SIZE  # PostgreSQL: turns of different people
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="coach-db")
        self.lane = DatabaseLane(self.executor)
        # On the loop, as many units of work at once as the pool keeps connections for:
        # the rest wait their turn here instead of opening connections to close again.
        self.slots = asyncio.Semaphore(POOL_SIZE)

    async def run[**P, R](self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        work = functools.partial(fn, *args, **kwargs)
        if self.on_loop:
            async with self.slots:
                done: R = await greenlet_spawn(work)
            return done
        if self.threaded:
            return await asyncio.get_running_loop().run_in_executor(self.executor, work)
        result: R = await self.lane.run(work)
        return result

    async def close(self) -> None:
        """Let the threads go; an engine on the loop closes its connections (which only
        works from the loop, so this is the one place that does it)."""
        self.executor.shutdown(wait=True)
        if self.on_loop:
            await greenlet_spawn(self.engine.dispose)


class DatabaseLane:
    """One lane for synchronous database work (SQLite takes one writer at a time) that
    keeps the acks fast at any load.

    Items run one at a time, in order. Normally each runs in the database thread, so
    the event loop is free to answer the next request while a turn is stored. But when
    requests keep arriving while an item runs (several people at once), the loop is
    busy too, and handing every sqlite3 call back and forth between the two threads for
    the GIL costs more CPU than the work itself: then the waiting items run on the loop,
    one per loop iteration (the requests that arrive meanwhile are answered in between),
    for a stretch of ``INLINE_STRETCH`` items, after which the thread is tried again.
    Items left waiting when no request came in during the last one (the tail of a
    burst) run on the loop too, ``QUIET_STRETCH`` at a time: nobody waits for an ack.
    An item that found the database held by another process sends the next ones back
    to the thread: waiting out a busy timeout on the loop would stall every request.
    """

    BUSY_ARRIVALS = 4  # new items while one ran in the thread: the loop is busy
    INLINE_STRETCH = 256
    QUIET_STRETCH = 16  # a backlog and no new requests: nobody is waiting for an ack

    def __init__(self, executor: Executor | None = None) -> None:
        self.executor = executor
        self._queue: collections.deque[tuple[Callable[[], Any], asyncio.Future[Any]]] = (
            collections.deque())
        self._task: asyncio.Task[None] | None = None
        self._arrivals = 0
        self._inline_left = 0

    async def run(self, work: Callable[[], Any]) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append((work, future))
        self._arrivals += 1
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            work, future = self._queue.popleft()
            if future.cancelled():
                continue
            inline = self.executor is None or self._inline_left > 0
            try:
                if inline:
                    self._inline_left -= 1
                    result = work()
                else:
                    seen = self._arrivals
                    result = await loop.run_in_executor(self.executor, work)
                    arrived = self._arrivals - seen
                    if arrived >= self.BUSY_ARRIVALS:
                        self._inline_left = self.INLINE_STRETCH
                    elif not arrived and self._queue:
                        self._inline_left = self.QUIET_STRETCH
            except Exception as exc:  # noqa: BLE001 - handed to the caller, which reports it
                if is_busy(exc):  # another process holds SQLite: wait in the thread, not here
                    self._inline_left = 0
                if not future.cancelled():
                    future.set_exception(exc)
            else:
                if not future.cancelled():
                    future.set_result(result)
            if inline:
                await asyncio.sleep(0)
        self._inline_left = 0  # nothing waiting: the next item starts in the thread
