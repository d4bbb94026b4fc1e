"""A turn's replies the platform would not take during the turn (a 429 storm, a 5xx, no
answer): the turn is stored, so its replies are queued in the outbox to the speaker's own
chat, each once (keyed by the platform's delivery id), and sent in order once the
platform takes them again. While some still wait, the speaker's later replies queue
behind them. Never commits: the caller's transaction does."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from storage import events, outbox
from storage.models import REPLY_KEY_PREFIX, REPLY_WAITING, Outbox

LONGEST_DELIVERY = 64  # characters of a delivery id kept in a key; longer: its digest


def _speaker_prefix(platform: str, tenant: str, user_key: str) -> str:
    return f"{REPLY_KEY_PREFIX}{platform}:{tenant}:{user_key}:"


def is_reply(key: str) -> bool:
    """Whether an outbox row is a reply deferred to its own speaker."""
    return key.startswith(REPLY_KEY_PREFIX)


# The partial index's own condition written into the SQL (the waiting replies, not every
# queued message, let alone the history), then the speaker's. Built once: it runs in every
# Teams turn's transaction, inside the claim of the turn's activity.
_WAITING_UNTIL = (select(func.max(Outbox.not_before))
                  .where(REPLY_WAITING, Outbox.kind == bindparam("reply_kind"),
                         Outbox.idempotency_key.like(bindparam("reply_prefix"), escape="/")))
_CLAIM_BEHIND = events.claiming(_WAITING_UNTIL.scalar_subquery().label("waiting_until"))


def _waiting(platform: str, tenant: str, user_key: str) -> dict[str, str]:
    prefix = _speaker_prefix(platform, tenant, user_key)
    escaped = prefix.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return {"reply_kind": platform, "reply_prefix": escaped + "%"}


def waiting_until(conn: Connection, platform: str, tenant: str,
                  user_key: str) -> datetime | None:
    """When the last of this speaker's queued replies may go (None: none is queued): a
    later reply is queued no earlier, so that it goes behind them."""
    return conn.execute(_WAITING_UNTIL, _waiting(platform, tenant, user_key)).scalar()


def claim_behind(conn: Connection, platform: str, tenant: str, user_key: str, event_id: str,
                 now: datetime) -> tuple[bool, datetime | None]:
    """:func:`storage.events.claim` of the speaker's delivery and, when claimed,
    :func:`waiting_until` for them (each Teams turn asks both). (False, None): the
    delivery was seen before. One statement: on PostgreSQL a round trip fewer (about
    100 µs of CPU and 190 µs of wall time per turn); on SQLite one statement's overhead
    fewer (a Teams answer's turn, 1,500 in a row: 0.90–0.92 against 0.95–0.97 ms of CPU;
    bench/RESULTS.md, "Teams sends through the connector client")."""
    row = conn.execute(_CLAIM_BEHIND[conn.dialect.name],
                       {**events.claimed_row(platform, tenant, event_id, now),
                        **_waiting(platform, tenant, user_key)}).first()
    return (False, None) if row is None else (True, row.waiting_until)


def defer(conn: Connection, *, platform: str, tenant: str, user_key: str, email: str,
          delivery: str, messages: Sequence[dict[str, Any]], now: datetime,
          not_before: datetime | None = None) -> int:
    """Queue ``messages`` (as stored JSON) to the speaker ``email`` on ``platform``, keyed
    by the ``delivery`` they answer: a delivery deferred before adds nothing. Returns how
    many were added."""
    if len(delivery) > LONGEST_DELIVERY:
        delivery = hashlib.sha256(delivery.encode()).hexdigest()[:LONGEST_DELIVERY]
    key = _speaker_prefix(platform, tenant, user_key) + (delivery or uuid.uuid4().hex)
    return sum(outbox.enqueue(conn, key=f"{key}:{index}", kind=platform, target=email,
                              payload={"tenant": tenant, "message": message}, now=now,
                              not_before=not_before)
               for index, message in enumerate(messages))
