"""Send the Slack outbox: DMs to other people (a rep's action plan, a manager's nudge).

Rows are leased in one short transaction, sent with no transaction open, then
marked sent or failed; a 429 or 5xx that outlives the client's own retries
reschedules the row (Retry-After when given). See storage/deliveries.py.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
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


@dataclass(frozen=True, slots=True)
class Leased:
    id: int
    tenant: str
    target: str
    message: Message
    plan_session: int | None


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
                for row in rows:
                    sent += await self._send(row)
                if not (rows or self._again):
                    return sent

    def _lease(self) -> list[Leased]:
        with self.sessions.begin() as db:
            rows = deliveries.lease_due(db, channel=CHANNEL, now=self.clock.now(),
                                        lease_seconds=LEASE_SECONDS)
            return [Leased(r.id, str(r.payload.get("tenant", "")), r.target,
                           message_from_json(r.payload["message"]),
                           deliveries.plan_session(db, r)) for r in rows]

    async def _send(self, row: Leased) -> int:
        client = await self.clients.for_tenant(row.tenant)
        try:
            if row.message.private:  # a manager's note never goes to anyone else
                raise LookupError("a private message is never sent to someone else")
            if client is None:
                raise LookupError(f"no Slack installation for workspace {row.tenant!r}")
            user_id = await self.identity.user_id_for(client, row.target, row.tenant)
            if user_id is None:
                raise LookupError(f"no Slack user for {row.target}")
            text, blocks = render.dm(row.message, ack_session=row.plan_session)
            await client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
        except SlackApiError as exc:
            status = exc.response.status_code
            wait = retry_after(exc.response.headers) if status == 429 else None
            await self._failed(row, f"{status} {exc.response.get('error')}", wait)
            return 0
        except LookupError as exc:
            await self._failed(row, str(exc), None)
            return 0
        await self.run(self._mark, row.id)
        return 1

    async def _failed(self, row: Leased, error: str, wait: float | None) -> None:
        log.warning("slack delivery %s failed: %s", row.id, error)
        await self.run(self._mark_failed, row.id, error, wait)

    def _mark(self, row_id: int) -> None:
        with self.sessions.begin() as db:
            deliveries.mark_sent(db, row_id, self.clock.now())

    def _mark_failed(self, row_id: int, error: str, wait: Any) -> None:
        with self.sessions.begin() as db:
            deliveries.mark_failed(db, row_id, self.clock.now(), error, wait)
