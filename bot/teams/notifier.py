"""Teams's notifier for the outbox worker (bot/channels/outbox.py): a proactive message in
the recipient's personal chat, through its stored conversation reference and the SDK's
``continue_conversation``.

The Bot Connector's 429 and 5xx are retried here a few times (its Retry-After honoured,
else a short backoff), then the row goes back to the outbox with the wait. A recipient
with no stored chat (they never opened the app) is retried later too: installing the app
stores the reference.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from microsoft_agents.activity import Activity, ConversationReference
from microsoft_agents.hosting.core import ChannelServiceAdapter, TurnContext

from bot.channels.database import Database
from bot.channels.outbox import DeliveryFailed, LeasedMessage
from bot.teams import render
from bot.teams.connector import proactively
from bot.teams.parse import PLATFORM
from bot.teams.store import TeamsStore

log = logging.getLogger("coach.teams.notifier")
Sleep = Callable[[float], Awaitable[Any]]
TRIES = 3
BACKOFF = 1.0  # seconds before the second try; doubled after each
MAX_WAIT = 60.0  # longest Retry-After waited out here; longer goes back to the outbox
RETRIED = frozenset({429, 500, 502, 503, 504})


class TeamsNotifier:
    channel = PLATFORM

    def __init__(self, adapter: ChannelServiceAdapter, app_id: str, store: TeamsStore,
                 database: Database, sleep: Sleep = asyncio.sleep) -> None:
        self.adapter, self.app_id, self.store = adapter, app_id, store
        self.run, self.sleep = database.run, sleep

    async def send(self, row: LeasedMessage) -> None:
        raw = await self.run(self.store.personal_chat, row.tenant, row.target)
        if raw is None:
            raise DeliveryFailed(f"no Teams chat with {row.target} in tenant {row.tenant!r} "
                                 "(they have not opened the app yet)")
        reference = ConversationReference.model_validate(raw)
        shown = ([render.plan_activity(row.message, row.plan_session)]
                 if row.plan_session is not None and not (row.message.choices
                                                          or row.message.form)
                 else render.activities([row.message]))
        replies = [Activity.model_validate(a) for a in shown]
        wait = BACKOFF
        for attempt in range(1, TRIES + 1):
            try:
                await self._continue(reference, replies)
                return
            except aiohttp.ClientResponseError as exc:
                asked = retry_after(exc.headers)
                if exc.status not in RETRIED:
                    raise DeliveryFailed(f"Bot Connector answered {exc.status}") from exc
                if attempt == TRIES or (asked or 0) > MAX_WAIT:
                    raise DeliveryFailed(f"Bot Connector answered {exc.status}",
                                         asked) from exc
                await self.sleep(asked if asked is not None else wait)
                wait *= 2
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise DeliveryFailed(f"no answer from the Bot Connector "
                                     f"({type(exc).__name__})") from exc

    async def _continue(self, reference: ConversationReference,
                        replies: list[Activity]) -> None:
        """One proactive turn. A failed send is raised here, not handed to the adapter's
        error handler (which would try to apologise in the same chat)."""
        failures: list[Exception] = []

        async def send_all(context: TurnContext) -> None:
            try:
                for reply in replies:
                    await context.send_activity(reply.model_copy(deep=True))
            except Exception as exc:  # noqa: BLE001 - re-raised below, outside the SDK
                failures.append(exc)

        await proactively(self.adapter, self.app_id, reference, send_all)
        if failures:
            raise failures[0]


def retryable(exc: BaseException) -> bool:
    """A send the Bot Connector may take later: 429, a 5xx of RETRIED, or no answer."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return exc.status in RETRIED
    return isinstance(exc, aiohttp.ClientError | TimeoutError)


def failure(exc: BaseException) -> str:
    """A failed send in a few words, for the log."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"Bot Connector answered {exc.status}"
    return f"no answer from the Bot Connector ({type(exc).__name__})"


def retry_after(headers: Any) -> float | None:
    """Seconds the connector asked us to wait (Retry-After in seconds), if it said."""
    raw = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except (TypeError, ValueError):
        return None
