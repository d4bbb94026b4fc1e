"""One typed way for async code to run synchronous database work: ``await db.run(fn, *args)``.

Why a lane and not simply ``asyncio.to_thread``: PostgreSQL work waits on the network,
so it runs in a small pool of threads (running it on the event loop instead, through
psycopg's async driver in greenlets, was measured and lost: each round trip then waits
for a loop iteration shared with the requests; bench/RESULTS.md). SQLite (the embedded
default) takes one writer at a time and its work is CPU-bound in this process; handing
every sqlite3 call between a thread and the loop for the GIL costs more than the work
under load, which is what ``bench_slack`` measures. So SQLite work goes through one
:class:`DatabaseLane` that runs items in order, in its thread while requests are few
and on the loop in short stretches while many arrive; where no answer comes before the
turn (Teams alone), on the loop from the start. The trick is kept behind this one
interface: callers only ever see ``run``.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import functools
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any, Literal

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

# Where a piece of work stands to a request: Database.run, .answer, .run_background.
WorkKind = Literal["turn", "answer", "background"]


class Database:
    """Runs database work off the event loop (see the module docstring for the SQLite lane).

    ``threaded``: a pool of threads (default for PostgreSQL) or the lane (SQLite, one
    thread). ``answers_after_turn``: every surface served answers its platform after the
    turn (Teams), not before it (Slack's ack): PostgreSQL gets
    ``ANSWER_AFTER_TURN_THREADS`` instead of ``ACK_FIRST_THREADS``, and the SQLite lane
    runs its items on the loop from the start (:class:`DatabaseLane`, ``loop_first``)."""

    def __init__(self, engine: Engine, *, threaded: bool | None = None,
                 answers_after_turn: bool = False) -> None:
        sqlite = engine.dialect.name == "sqlite"
        self.threaded = not sqlite if threaded is None else threaded
        threads = ANSWER_AFTER_TURN_THREADS if answers_after_turn else ACK_FIRST_THREADS
        workers = 1 if sqlite else threads
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="coach-db")
        self.lane = DatabaseLane(self.executor, loop_first=answers_after_turn)

    async def run[**P, R](self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """``fn(*args, **kwargs)`` in the caller's context (its request and turn ids: a
        thread of the pool would otherwise run it in none, the lane in another's)."""
        return await self._run("turn", fn, *args, **kwargs)

    async def answer[**P, R](self, fn: Callable[P, R], *args: P.args,
                             **kwargs: P.kwargs) -> R:
        """:meth:`run` for the work a request's answer waits for (a turn): on a loop-first
        lane (``answers_after_turn``) it runs on the loop, not in the thread."""
        return await self._run("answer", fn, *args, **kwargs)

    async def _run[**P, R](self, kind: WorkKind, fn: Callable[P, R], *args: P.args,
                           **kwargs: P.kwargs) -> R:
        """``kind``: "turn" (:meth:`run`), "answer" (:meth:`answer`) or "background"
        (:meth:`run_background`): where the SQLite lane runs it."""
        work = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        if self.threaded:
            return await asyncio.get_running_loop().run_in_executor(self.executor, work)
        result: R = await self.lane.run(work, on_loop=kind == "background",
                                        answering=kind == "answer")
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
        return await self._run("background", fn, *args, **kwargs)

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
    An item given ``on_loop`` (background work beside the loop's own: Database.run_background)
    runs on the loop when its turn comes, whatever the stretch, unless the last item found
    the database held by another process.

    ``loop_first``: the items a request's answer waits for (``answering``: the turns,
    where there is no ack to send first) run on the loop even while requests are few: a
    turn handed to the thread and back cost about a third more CPU than the turn itself
    (bench_teams c=1, 5.1 → 3.6 ms per activity). Queued turns run ``LOOP_FIRST_RUN`` in
    a row before the loop gets a turn: a turn run between HTTP requests and the SDK's code
    took about twice the CPU of one run after another, its code and data out of the CPU's
    caches (bench_teams c=20; bench/RESULTS.md, "Teams CPU per activity"). Other work
    (the scheduler's ticks) keeps the thread: it may take long.

    Waiting out a busy timeout on the loop would stall every request: an item that found
    the database held by another process sends the next ones back to the thread; on a
    loop-first lane, such an item or one that held the loop longer than ``SLOW_ITEM`` (a
    turn that waited out the busy timeout answers "busy" instead of raising) sends the
    turns of the next ``BUSY_BACKOFF`` seconds there, whatever the load.
    """

    BUSY_ARRIVALS = 4  # new items while one ran in the thread: the loop is busy
    INLINE_STRETCH = 256
    QUIET_STRETCH = 16  # a backlog and no new requests: nobody is waiting for an ack
    LOOP_FIRST_RUN = 8  # loop_first: queued turns run in a row (a few ms) between requests
    SLOW_ITEM = 0.25  # seconds on the loop: longer than any turn takes without waiting
    BUSY_BACKOFF = 30.0  # seconds a loop-first lane's turns then run in the thread

    def __init__(self, executor: Executor | None = None, *, loop_first: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.executor = executor
        self.loop_first = loop_first
        self._clock = clock
        # each item: its work, its caller's future, on_loop (background), answering (a turn)
        self._queue: collections.deque[
            tuple[Callable[[], Any], asyncio.Future[Any], bool, bool]] = collections.deque()
        self._task: asyncio.Task[None] | None = None
        self._arrivals = 0
        self._inline_left = 0
        self._held = False  # the last item found the database held by another process
        self._threaded_until = 0.0  # loop_first: turns run in the thread until then

    async def run(self, work: Callable[[], Any], *, on_loop: bool = False,
                  answering: bool = False) -> Any:
        """``work()`` in its turn; ``on_loop``: background work (see the class docstring);
        ``answering``: a request's answer waits for it (see ``loop_first``)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append((work, future, on_loop, answering))
        if not on_loop:  # a request's turn: background items say nothing of the load
            self._arrivals += 1
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        in_a_row = 0  # items run on the loop since it last had a turn
        while self._queue:
            work, future, on_loop, answering = self._queue.popleft()
            if future.cancelled():
                continue
            inline = self._on_loop(on_loop, answering)
            started = self._clock()
            try:
                if inline:
                    if not on_loop:
                        self._inline_left = max(0, self._inline_left - 1)
                    result = work()
                else:
                    seen = self._arrivals
                    result = await loop.run_in_executor(self.executor, work)
                    arrived = self._arrivals - seen
                    if started < self._threaded_until:
                        pass  # the database was busy: its waits stay in the thread
                    elif arrived >= self.BUSY_ARRIVALS:
                        self._inline_left = self.INLINE_STRETCH
                    elif not arrived and self._queue:
                        self._inline_left = self.QUIET_STRETCH
            except Exception as exc:  # noqa: BLE001 - handed to the caller, which reports it
                self._held = is_busy(exc)
                if self._held:  # another process holds SQLite: wait in the thread, not here
                    self._to_thread()
                if not future.cancelled():
                    future.set_exception(exc)
            else:
                self._held = False
                if not future.cancelled():
                    future.set_result(result)
            if inline:
                if answering and self._clock() - started > self.SLOW_ITEM:
                    self._to_thread()  # a wait for another process's lock (turned into a
                    # "busy" answer, not raised) or a slow disk: not on the loop again
                in_a_row += 1
                if (self.loop_first and self._queue and self._queue[0][3]
                        and in_a_row < self.LOOP_FIRST_RUN):
                    continue  # the next queued turn while the database code is warm
                in_a_row = 0
                await asyncio.sleep(0)
        self._inline_left = 0  # nothing waiting: the next item starts in the thread

    def _on_loop(self, on_loop: bool, answering: bool) -> bool:
        """Whether the next item runs on the loop (see the class docstring)."""
        if self.executor is None or self._inline_left > 0 or (on_loop and not self._held):
            return True
        return self.loop_first and answering and self._clock() >= self._threaded_until

    def _to_thread(self) -> None:
        self._inline_left = 0
        if self.loop_first:
            self._threaded_until = self._clock() + self.BUSY_BACKOFF
