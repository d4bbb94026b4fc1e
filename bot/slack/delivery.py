"""Send the Slack outbox: DMs to other people (a rep's action plan, a manager's nudge).

Rows are leased in one short transaction, sent with no transaction open, then
marked sent or failed; a 429 or 5xx that outlives the client's own retries
reschedules the row (Retry-After when given), and so does a call Slack did not
answer in time. See storage/deliveries.py.

Recipients are served side by side (``RECIPIENTS_AT_ONCE``), each one's rows in
order, so one slow recipient holds up no one else.

Each message carries its idempotency key in Slack message metadata. A row handed
out before (its sender died after Slack took the message, or a call timed out
after it arrived) is first looked for in the recipient's DM since then
(``conversations.history``) and only sent if it is not there: exactly once where
Slack lets us check, at least once where it does not (see docs/slack.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.slack import render
from bot.slack.background import Background
from bot.slack.clients import Clients, retry_after
from bot.slack.identity import Identity, Run
from flows.messages import Message, message_from_json
from storage import deliveries

log = logging.getLogger("coach.slack.delivery")
CHANNEL = "slack"
LEASE_SECONDS = 120
RECIPIENTS_AT_ONCE = 4
METADATA_EVENT = "coach_outbox"  # Slack message metadata: {"key": <idempotency key>}
CLOCK_SKEW = timedelta(minutes=5)  # our clock against Slack's, when reading back history
HISTORY_PAGES = 5  # pages of 200 messages read back at most before a resend


@dataclass(frozen=True, slots=True)
class Leased:
    id: int
    key: str
    tenant: str
    target: str
    message: Message
    plan_session: int | None
    resend_since: datetime | None


class Delivery:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, clients: Clients,
                 identity: Identity, run: Run, delay: float = 0.0) -> None:
        self.sessions, self.clock, self.clients = sessions, clock, clients
        self.identity, self.run = identity, run
        self.delay = delay
        self._lock = asyncio.Lock()
        self._again = False
        self._scheduled = False

    def kick(self, background: Background) -> None:
        """After a turn: one pass soon (``delay`` gathers the turns of a busy moment)."""
        if self._scheduled:
            return
        self._scheduled = True
        background.spawn(self._soon())

    async def _soon(self) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        self._scheduled = False
        await self.run_once()

    async def run_once(self) -> int:
        """Send every due row once; return how many were sent. Passes never overlap."""
        if self._lock.locked():
            self._again = True
            return 0
        sent = 0
        async with self._lock:
            while True:
                self._again = False
                rows = await self.run(self._lease)
                sent += await self._send_all(rows)
                if not (rows or self._again):
                    return sent

    async def _send_all(self, rows: Sequence[Leased]) -> int:
        """Each recipient's rows in order; up to RECIPIENTS_AT_ONCE recipients at a time."""
        queues: dict[tuple[str, str], list[Leased]] = {}
        for row in rows:
            queues.setdefault((row.tenant, row.target), []).append(row)
        gate = asyncio.Semaphore(RECIPIENTS_AT_ONCE)

        async def one_recipient(queue: list[Leased]) -> int:
            async with gate:
                for index, row in enumerate(queue):
                    if not await self._send(row, [r.id for r in queue[index + 1:]]):
                        return index
                return len(queue)

        results = await asyncio.gather(*(one_recipient(q) for q in queues.values()),
                                       return_exceptions=True)
        for result in results:  # every recipient had its turn; now report a failure
            if isinstance(result, BaseException):
                raise result
        return sum(r for r in results if isinstance(r, int))

    def _lease(self) -> list[Leased]:
        with self.sessions.begin() as db:
            leases = deliveries.lease_due(db, channel=CHANNEL, now=self.clock.now(),
                                          lease_seconds=LEASE_SECONDS)
            return [Leased(lease.row.id, lease.row.idempotency_key,
                           str(lease.row.payload.get("tenant", "")), lease.row.target,
                           message_from_json(lease.row.payload["message"]),
                           deliveries.plan_session(db, lease.row), lease.resend_since)
                    for lease in leases]

    async def _send(self, row: Leased, behind: list[int]) -> bool:
        """Send one row (unless an earlier try already arrived); False when it failed."""
        client = await self.clients.for_tenant(row.tenant)
        try:
            if row.message.private:  # a manager's note never goes to anyone else
                raise LookupError("a private message is never sent to someone else")
            if client is None:
                raise LookupError(f"no Slack installation for workspace {row.tenant!r}")
            user_id = await self.identity.user_id_for(client, row.target, row.tenant)
            if user_id is None:
                raise LookupError(f"no Slack user for {row.target}")
            if row.resend_since is not None and await self._arrived(client, user_id, row):
                log.info("slack delivery %s had arrived before: not sent again", row.id)
            else:
                text, blocks = render.dm(row.message, ack_session=row.plan_session)
                await client.chat_postMessage(channel=user_id, text=text, blocks=blocks,
                                              metadata=outbox_metadata(row.key))
        except SlackApiError as exc:
            status = exc.response.status_code
            wait = retry_after(exc.response.headers) if status == 429 else None
            await self._failed(row, f"{status} {exc.response.get('error')}", wait, behind)
            return False
        except (TimeoutError, aiohttp.ClientError) as exc:  # it may still have arrived
            await self._failed(row, f"no answer from Slack ({type(exc).__name__})", None,
                               behind)
            return False
        except LookupError as exc:
            await self._failed(row, str(exc), None, behind)
            return False
        await self.run(self._mark, row.id)
        return True

    async def _arrived(self, client: AsyncWebClient, user_id: str, row: Leased) -> bool:
        """Is this row's message already in the recipient's DM (sent since the row was
        first handed out)? A workspace that will not let us look gets it again."""
        assert row.resend_since is not None
        oldest = f"{(row.resend_since - CLOCK_SKEW).timestamp():.6f}"
        try:
            opened = await client.conversations_open(users=user_id)
            channel = str((opened.get("channel") or {}).get("id") or user_id)
            cursor = None
            for _ in range(HISTORY_PAGES):
                page = await client.conversations_history(
                    channel=channel, oldest=oldest, include_all_metadata=True, limit=200,
                    cursor=cursor)
                if any(carries_key(m, row.key) for m in page.get("messages") or []):
                    return True
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return False
        except SlackApiError as exc:
            if exc.response.status_code != 200:
                raise  # 429 / 5xx: try again later, still checking first
            log.warning("cannot check the DM of %s before a resend (%s): sending again",
                        row.target, exc.response.get("error"))
        return False

    async def _failed(self, row: Leased, error: str, wait: float | None,
                      behind: list[int]) -> None:
        log.warning("slack delivery %s failed: %s", row.id, error)
        await self.run(self._mark_failed, row.id, error, wait, behind)

    def _mark(self, row_id: int) -> None:
        with self.sessions.begin() as db:
            deliveries.mark_sent(db, row_id, self.clock.now())

    def _mark_failed(self, row_id: int, error: str, wait: Any, behind: list[int]) -> None:
        with self.sessions.begin() as db:
            deliveries.mark_failed(db, row_id, self.clock.now(), error, wait, behind)


def outbox_metadata(key: str) -> dict[str, Any]:
    """Slack message metadata naming the outbox row a message came from."""
    return {"event_type": METADATA_EVENT, "event_payload": {"key": key}}


def carries_key(message: dict[str, Any], key: str) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return bool(metadata.get("event_type") == METADATA_EVENT and payload.get("key") == key)
