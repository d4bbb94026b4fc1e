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


def _claim(make: Callable[[Table], Any], *also: Any) -> Any:
    return (make(_events).on_conflict_do_nothing(
        index_elements=["platform", "tenant", "event_id"]).returning(_events.c.id, *also))


def claiming(*also: Any) -> dict[str, Any]:
    """The claim's insert per dialect, also returning ``also`` (scalar subqueries a caller
    would otherwise ask in a round trip of its own) when the id is claimed."""
    return {"postgresql": _claim(pg_insert, *also), "sqlite": _claim(sqlite_insert, *also)}


_CLAIM = claiming()


def claim(db: Session | Connection, platform: str, tenant: str, event_id: str,
          now: datetime) -> bool:
    """Record the event; False when it was seen before (a retry: answer it, do nothing)."""
    conn = db.connection() if isinstance(db, Session) else db
    inserted = conn.execute(_CLAIM[conn.dialect.name], claimed_row(platform, tenant, event_id,
                                                                   now))
    return inserted.first() is not None


def claimed_row(platform: str, tenant: str, event_id: str, now: datetime) -> dict[str, Any]:
    """The claim's parameters (ids cut to their columns' sizes)."""
    return {"platform": platform, "tenant": tenant[:64], "event_id": event_id[:255],
            "received_at": now}
