"""Send what the outbox holds for a local channel (the console), each row once.

It sends inside the transaction that marks the rows, which suits an instant local send.
Network channels lease rows and send with no transaction open (bot/channels/outbox.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.outbox import DeliveryFailed
from bot.clock import Clock
from flows.messages import Message, message_from_json
from storage import outbox

log = logging.getLogger("coach.channels.local")


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A message the operating rhythm sent (a check-in, a nudge, an escalation): its kind,
    its scheduled local time (ISO with offset) and its idempotency key."""

    kind: str
    at: str
    key: str


# (tenant, recipient email, message, what scheduled it: None for a turn's message)
Send = Callable[[str, str, Message, Scheduled | None], None]


def deliver(sessions: sessionmaker[Session], clock: Clock, channel: str, send: Send) -> int:
    """Send every due row of ``channel``; return how many were sent."""
    count = 0
    with sessions.begin() as db:
        for row in outbox.due(db, channel=channel, now=clock.now()):
            message = message_from_json(row.payload["message"])
            scheduled = row.payload.get("scheduled")
            why = (Scheduled(str(scheduled.get("kind", "")), str(scheduled.get("at", "")),
                             row.idempotency_key) if isinstance(scheduled, dict) else None)
            try:
                send(str(row.payload.get("tenant", "")), row.target, message, why)
            except DeliveryFailed as exc:
                log.warning("delivery %s failed: %s", row.idempotency_key, exc)
                outbox.failed(row, clock.now(), str(exc), exc.retry_after)
                continue
            outbox.sent(row, clock.now())
            count += 1
    return count
