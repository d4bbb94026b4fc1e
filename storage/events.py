"""Inbound deduplication: one unique row per (platform, tenant, event id).

Every Slack event and every Teams activity claims its id before it is handled: one
prebuilt Core insert per dialect, no ORM objects (the hot path of every request)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import ProcessedEvent

_events = cast(Table, ProcessedEvent.__table__)


def _claim(make: Callable[[Table], Any]) -> Any:
    return (make(_events).on_conflict_do_nothing(
        index_elements=["platform", "tenant", "event_id"]).returning(_events.c.id))


_CLAIM = {"postgresql": _claim(pg_insert), "sqlite": _claim(sqlite_insert)}


def claim(db: Session | Connection, platform: str, tenant: str, event_id: str,
          now: datetime) -> bool:
    """Record the event; False when it was seen before (a retry: answer it, do nothing)."""
    conn = db.connection() if isinstance(db, Session) else db
    inserted = conn.execute(_CLAIM[conn.dialect.name], {
        "platform": platform, "tenant": tenant[:64], "event_id": event_id[:255],
        "received_at": now})
    return inserted.first() is not None
