"""Inbound deduplication: one unique row per (platform, tenant, event id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import ProcessedEvent


def claim(db: Session, platform: str, tenant: str, event_id: str, now: datetime) -> bool:
    """Record the event; False when it was seen before (a retry: answer it, do nothing)."""
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    inserted = db.execute(insert(ProcessedEvent).values(
        platform=platform, tenant=tenant[:64], event_id=event_id[:255], received_at=now,
    ).on_conflict_do_nothing(index_elements=["platform", "tenant", "event_id"])
        .returning(ProcessedEvent.id))
    return inserted.first() is not None
