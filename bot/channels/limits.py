"""Rate limits per chat user on the turns they start (COACH_RATE_LIMIT): the ``limits``
library's moving window. A user over the limit gets a kind sentence and nothing of that
input is stored; a turn already running always ends, and turns nobody typed (a check-in
opened by the scheduler, a model's late answer) are never counted.

Where the window is counted (COACH_RATE_LIMIT_STORAGE, a ``limits`` storage URI):
``memory://`` counts in this process (each replica its own share); ``redis://host:6379/0``
counts in Redis, one budget for every replica, through the library's asyncio storage and
redis-py. A storage that cannot be reached lets every turn through (a limit is no reason
to lose a user's input): one WARNING when it goes away, the storage left alone for
``STORAGE_RETRY`` seconds, then asked again."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Protocol

import redis.asyncio
from limits import RateLimitItem
from limits import strategies as sync_strategies
from limits.aio import strategies
from limits.aio.storage import RedisStorage
from limits.errors import StorageError
from limits.storage import MemoryStorage

from bot.channels.who import Who
from bot.settings import IN_PROCESS, SHARED_STORAGES, STORAGE_SCHEMES, Settings, storage_scheme

log = logging.getLogger("coach.channels")

STORAGE_TIMEOUT = 1.0  # seconds to connect to, or hear from, the shared storage
KEY_PREFIX = "coach-turns"  # of every key the shared storage holds for these limits
STORAGE_RETRY = 10.0  # seconds a storage that failed is left alone (turns go through)
SWEEP_EVERY = 1.0  # seconds between sweeps of the in-process window's expired entries


class TurnLimited(Exception):
    """The user is over their rate limit: nothing was stored (a surface says so)."""


class _Window(Protocol):
    async def test(self, item: RateLimitItem, *identifiers: str) -> bool: ...
    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool: ...
    async def close(self) -> None: ...


class SweptMemoryStorage(MemoryStorage):
    """The library's in-process storage, its expired entries swept at most once every
    ``SWEEP_EVERY`` seconds. The library sweeps every key 10 ms after each hit, in a thread
    that holds the GIL the event loop needs: with hundreds of people in the last minute
    that was 2 ms per sweep under cProfile, about one per turn (bench/RESULTS.md, bench_teams round
    3). The window's answers do not depend on the sweep (it looks at the newest entries
    only); the sweep only frees memory."""

    def _MemoryStorage__schedule_expiry(self) -> None:  # the library's private hook
        if not self.timer.is_alive():
            self.timer = threading.Timer(
                SWEEP_EVERY, self._MemoryStorage__expire_events)  # type: ignore[attr-defined]
            self.timer.daemon = True  # a pending sweep does not hold the process at exit
            self.timer.start()


class _InProcessWindow:
    """The library's synchronous moving window in this process's memory: no I/O, so it
    is asked directly on the event loop."""

    def __init__(self) -> None:
        self.storage = SweptMemoryStorage()
        self._window = sync_strategies.MovingWindowRateLimiter(self.storage)

    async def test(self, item: RateLimitItem, *identifiers: str) -> bool:
        return self._window.test(item, *identifiers)

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        return self._window.hit(item, *identifiers)

    async def close(self) -> None:
        pass


class _SharedWindow:
    """The library's asyncio moving window in Redis, on a connection pool of our own (so
    it is closed at shutdown)."""

    def __init__(self, storage: str) -> None:
        self._pool = redis.asyncio.ConnectionPool.from_url(
            storage, socket_connect_timeout=STORAGE_TIMEOUT, socket_timeout=STORAGE_TIMEOUT)
        self._window = strategies.MovingWindowRateLimiter(RedisStorage(
            f"async+{storage}", wrap_exceptions=True, implementation="redispy",
            key_prefix=KEY_PREFIX, connection_pool=self._pool))  # type: ignore[arg-type]

    async def test(self, item: RateLimitItem, *identifiers: str) -> bool:
        return await self._window.test(item, *identifiers)

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        return await self._window.hit(item, *identifiers)

    async def close(self) -> None:
        await self._pool.disconnect()


def _window(storage: str) -> _Window:
    storage = storage.strip()
    scheme = storage_scheme(storage)
    if scheme == IN_PROCESS:
        return _InProcessWindow()
    if scheme not in SHARED_STORAGES:
        raise ValueError(f"unsupported rate-limit storage {scheme!r}: "
                         f"expected one of {', '.join(STORAGE_SCHEMES)}")
    return _SharedWindow(storage)


class TurnLimiter:
    def __init__(self, items: Sequence[RateLimitItem] = (), storage: str = "memory://"
                 ) -> None:
        self.items = tuple(items)
        self._window = _window(storage) if self.items else None
        self._down_until: float | None = None  # monotonic time; None: the storage answers

    @classmethod
    def configured(cls, settings: Settings) -> TurnLimiter:
        """COACH_RATE_LIMIT counted where COACH_RATE_LIMIT_STORAGE says."""
        return cls(settings.rate_limits, settings.coach_rate_limit_storage)

    async def admit(self, who: Who) -> bool:
        """Count one turn for ``who`` if every limit has room for it; False (and nothing
        counted) when one has not. True, uncounted, while the storage cannot be reached."""
        if self._window is None:
            return True
        if self._down_until is not None and time.monotonic() < self._down_until:
            return True
        key = (who.platform, who.tenant, who.user_key)
        try:
            admitted = (all([await self._window.test(item, *key) for item in self.items])
                        and all([await self._window.hit(item, *key) for item in self.items]))
        except StorageError as exc:
            if self._down_until is None:
                log.warning("the rate-limit storage cannot be reached (%s): turns go "
                            "through unlimited until it answers", exc.storage_error)
            self._down_until = time.monotonic() + STORAGE_RETRY
            return True
        if self._down_until is not None:
            log.info("the rate-limit storage answers again: turns are limited")
            self._down_until = None
        return admitted

    async def close(self) -> None:
        """Close the connections to the shared storage (at shutdown)."""
        if self._window is not None:
            await self._window.close()
