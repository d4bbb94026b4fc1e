"""What ``coach serve`` needs from a surface, and the channel layer's own lifetime there.

The server mounts each configured surface without knowing which: a surface adds its
routes and runs its background work for the life of the web application; the shared
gateway's outbox catch-up loop and shutdown are mounted once per gateway."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from aiohttp import web

from bot.channels.directory import Finder
from bot.channels.gateway import Gateway

SHUTDOWN_WAIT = 10.0  # seconds the work after the acks may take to finish at shutdown


class HostedSurface(Protocol):
    """A platform adapter as the server sees it."""

    gateway: Gateway

    @property
    def platform(self) -> str:
        """Its name in a ``Who`` and on the outbox ("slack", "teams")."""
        ...

    @property
    def finder(self) -> Finder:
        """How the operating rhythm finds someone of the organisation the platform has not
        shown us yet, by email (bot/channels/directory.py)."""
        ...

    def add_routes(self, web_app: web.Application) -> None:
        """Add the platform's HTTP endpoints (none for a socket-only surface)."""
        ...

    def lifetime(self, web_app: web.Application) -> AsyncIterator[None]:
        """Open connections before the first request; close them after the last work."""
        ...


Lifetime = Callable[[web.Application], AsyncIterator[None]]


def gateway_lifetime(gateway: Gateway) -> Lifetime:
    """At shutdown, after every surface closed: the last work done, the database and
    the rate-limit storage closed."""
    async def lifetime(web_app: web.Application) -> AsyncIterator[None]:
        yield
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(gateway.idle(), timeout=SHUTDOWN_WAIT)
        if gateway.assistant is not None:
            await gateway.assistant.close()
        await gateway.limiter.close()
        gateway.close()

    return lifetime


def outbox_loop(gateway: Gateway, every: float) -> Lifetime:
    """Catch up on outbox rows rescheduled (429, 5xx, unknown recipient) every ``every``
    seconds; stopped first at shutdown, after the pass in progress (cancelled if it takes
    longer than ``SHUTDOWN_WAIT``)."""
    async def lifetime(web_app: web.Application) -> AsyncIterator[None]:
        stopping = asyncio.Event()
        task = asyncio.create_task(gateway.outbox.forever(every, stopping))
        yield
        stopping.set()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=SHUTDOWN_WAIT)

    return lifetime
