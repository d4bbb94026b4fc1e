"""Work after the ack: tracked tasks (so shutdown and tests can wait for them), and one
lock per person, so one person's updates are handled one at a time, in order."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Coroutine
from typing import Any

from bot.channels.who import Who

log = logging.getLogger("coach.channels")


class BackgroundWork:
    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()
        self._locks: weakref.WeakValueDictionary[Who, asyncio.Lock] = (
            weakref.WeakValueDictionary())

    def lock(self, who: Who) -> asyncio.Lock:
        """The one lock of this person (alive while someone holds or waits on it)."""
        found = self._locks.get(who)
        if found is None:
            found = asyncio.Lock()
            self._locks[who] = found
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
