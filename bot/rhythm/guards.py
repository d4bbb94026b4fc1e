"""What must still be true when a scheduled message is sent. A guard travels in the
outbox row's payload (``"guard"``); storage/rhythm.py ``failing_guards`` checks them at
send time for both senders, a batch at once (bot/channels/local.py through
storage.outbox.due, the OutboxWorker's lease through storage.deliveries.lease_due), and a
row whose guard fails is marked ``dropped``, not sent."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def meeting_still_planned(occurrence_id: int,
                          before: datetime | None = None) -> dict[str, Any]:
    """A prep nudge or "did it happen?" prompt: pointless once the meeting was moved,
    skipped or marked held; a prep nudge also once the meeting began (``before``)."""
    guard: dict[str, Any] = {"occurrence": occurrence_id}
    if before is not None:
        guard["until"] = before.isoformat()
    return guard


def checkin_still_waiting(person_id: int, period_start: date) -> dict[str, Any]:
    """A check-in prompt or its reminder: pointless once answered, snoozed or skipped."""
    return {"checkin_person": person_id, "period": period_start.isoformat()}


def action_still_open(action_id: int) -> dict[str, Any]:
    return {"action": action_id}


def review_still_planned(review_id: int) -> dict[str, Any]:
    return {"review": review_id}
