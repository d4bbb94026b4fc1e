"""One typed way for async code to run synchronous database work: ``await db.run(fn, *args)``.

Why a lane and not simply ``asyncio.to_thread``: PostgreSQL work waits on the network,
so it runs in a small pool of threads (running it on the event loop instead, through
psycopg's async driver in greenlets, was measured and lost: each round trip then waits
for a loop iteration shared with the requests; bench/RESULTS.md). SQLite (the embedded
default) takes one writer at a time and its work is CPU-bound in this process; handing
every sqlite3 call between a thread and the loop for the GIL costs more than the work
under load, which is what ``bench_slack`` measures. So SQLite work goes through one
:class:`DatabaseLane` that runs items in order, in its thread while requests are few
and on the loop in short stretches while many arrive. The trick is kept behind this
one interface: callers only ever see ``run``.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine

from storage.db import is_busy

# PostgreSQL threads, by how a surface answers its platform:
# - ACK_FIRST_THREADS where the HTTP answer comes before the turn (Slack): two turns side
#   by side, one's Python running while the other waits on the network. More threads only
#   contend for the GIL the event loop needs to ack: bench_slack at c=20 on a quiet
#   machine, 8 threads → ack p50 / p99 78 / 143 ms, 24 % of bare Bolt's acks; 2 threads
#   → 14 / 26 ms, 184 %, and more turns stored per second, not fewer.
# - ANSWER_AFTER_TURN_THREADS where the HTTP answer waits for the turn (Teams: the reply
#   goes out before the activity is answered): each turn mostly waits for its commit, so
#   more of them in flight means more answers per second (bench_teams c=20: 2 threads
#   28–43 % of the echo bot, 8 threads 63–65 %). bench/RESULTS.md, "Database threads".
ACK_FIRST_THREADS = 2
ANSWER_AFTER_TURN_THREADS = 8


class Database:
    """Runs database work off the event loop (see the module docstring for the SQLite lane).

    ``threaded``: a pool of ``threads`` threads (default for PostgreSQL) or the lane
    (SQLite, one thread whatever ``threads`` says)."""

    def __init__(self, engine: Engine, *, threaded: bool | None = None,
                 threads: int = ACK_FIRST_THREADS) -> None:
        sqlite = engine.dialect.name == "sqlite"
        self.threaded = not sqlite if threaded is None else threaded
        workers = 1 if sqlite else threads
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="coach-db")
        self.lane = DatabaseLane(self.executor)

    async def run[**P, R](self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """``fn(*args, **kwargs)`` in the caller's context (its request and turn ids: a
        thread of the pool would otherwise run it in none, the lane in another's)."""
        work = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        if self.threaded:
            return await asyncio.get_running_loop().run_in_executor(self.executor, work)
        result: R = await self.lane.run(work)
        return result

    async def run_background[**P, R](self, fn: Callable[P, R], *args: P.args,
                                     **kwargs: P.kwargs) -> R:
        """Like :meth:`run`, for the database work of a background pass that no request
        waits on and that runs beside CPU-bound work of its own on the loop (the outbox's
        leases and marks between its sends). On SQLite it runs on the loop, in its turn
        in the lane: in the thread, each sqlite3 call handing the GIL to and from a loop
        busy sending cost more CPU than the work itself (bench_dispatch, one lease of
        200 rows beside the sends: about 60 µs more CPU per message, a quarter of the
        send). A request arriving meanwhile waits for one such item (a lease of 200 rows:
        6–9 ms). On PostgreSQL, whose work waits on the network, it runs in the threads as
        ``run``."""
        work = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        if self.threaded:
            return await asyncio.get_running_loop().run_in_executor(self.executor, work)
        result: R = await self.lane.run(work, on_loop=True)
        return result

    def close(self) -> None:
        self.executor.shutdown(wait=True)


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
    An item given ``on_loop`` (background work beside the loop's own: Database.run_background)
    runs on the loop when its turn comes, whatever the stretch, unless the last item found
    the database held by another process.
    """

    BUSY_ARRIVALS = 4  # new items while one ran in the thread: the loop is busy
    INLINE_STRETCH = 256
    QUIET_STRETCH = 16  # a backlog and no new requests: nobody is waiting for an ack

    def __init__(self, executor: Executor | None = None) -> None:
        self.executor = executor
        self._queue: collections.deque[tuple[Callable[[], Any], asyncio.Future[Any], bool]] = (
            collections.deque())
        self._task: asyncio.Task[None] | None = None
        self._arrivals = 0
        self._inline_left = 0
        self._held = False  # the last item found the database held by another process

    async def run(self, work: Callable[[], Any], *, on_loop: bool = False) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append((work, future, on_loop))
        if not on_loop:  # a request's turn: background items say nothing of the load
            self._arrivals += 1
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            work, future, on_loop = self._queue.popleft()
            if future.cancelled():
                continue
            inline = (self.executor is None or (on_loop and not self._held)
                      or self._inline_left > 0)
            try:
                if inline:
                    if not on_loop:
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
                self._held = is_busy(exc)
                if self._held:  # another process holds SQLite: wait in the thread, not here
                    self._inline_left = 0
                if not future.cancelled():
                    future.set_exception(exc)
            else:
                self._held = False
                if not future.cancelled():
                    future.set_result(result)
            if inline:
                await asyncio.sleep(0)
        self._inline_left = 0  # nothing waiting: the next item starts in the thread
