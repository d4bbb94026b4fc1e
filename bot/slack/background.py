"""Work after the ack: tracked tasks (so shutdown and tests can wait for them), one lock
per person, so one person's updates are handled one at a time, in order, and the lane
SQLite work goes through."""

from __future__ import annotations

import asyncio
import collections
import logging
import weakref
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from typing import Any

from storage.db import is_busy

log = logging.getLogger("coach.slack")


class Background:
    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary())

    def lock(self, key: tuple[str, str]) -> asyncio.Lock:
        found = self._locks.get(key)
        if found is None:
            found = asyncio.Lock()
            self._locks[key] = found
        return found

    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background work failed", exc_info=task.exception())

    async def idle(self) -> None:
        """Wait until no work is left (work may start more work)."""
        while pending := [task for task in self.tasks if not task.done()]:
            await asyncio.wait(pending)


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
