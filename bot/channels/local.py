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
from storage.models import Outbox

log = logging.getLogger("coach.channels.local")


@dataclass(frozen=True, slots=True)
class ScheduledLabel:
    """What the operating rhythm sent a message as (a check-in, a nudge, an escalation):
    its kind, its scheduled local time (ISO with offset) and its idempotency key."""

    kind: str
    at: str
    key: str


# (tenant, recipient email, message, what scheduled it: None for a turn's message)
Send = Callable[[str, str, Message, ScheduledLabel | None], None]
BATCH = 50


def label_of(row: Outbox) -> ScheduledLabel | None:
    """A scheduled row's kind, ``at`` (local, with offset) and key; None for others."""
    scheduled = row.payload.get("scheduled")
    if not isinstance(scheduled, dict):
        return None
    return ScheduledLabel(str(scheduled.get("kind", "")), str(scheduled.get("at", "")),
                          row.idempotency_key)


def deliver(sessions: sessionmaker[Session], clock: Clock, channel: str, send: Send) -> int:
    """Send every due row of ``channel``, in order; return how many were sent. A row whose
    guard no longer holds is dropped, not sent (storage.outbox.due)."""
    count = 0
    while True:
        with sessions.begin() as db:
            rows = outbox.due(db, channel=channel, now=clock.now(), limit=BATCH)
            for row in rows:
                message = message_from_json(row.payload["message"])
                try:
                    send(str(row.payload.get("tenant", "")), row.target, message,
                         label_of(row))
                except DeliveryFailed as exc:
                    log.warning("delivery %s failed: %s", row.idempotency_key, exc)
                    outbox.failed(row, clock.now(), str(exc), exc.retry_after)
                    continue
                outbox.sent(row, clock.now())
                count += 1
        if len(rows) < BATCH:
            return count
