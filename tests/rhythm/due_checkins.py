"""A small real due-work function for the hosting tests (the rhythm's own ``run_due``
lands with bot/rhythm/due.py): every active rep's weekly check-in prompt, queued as a
keyed Slack outbox row with the scheduled payload of docs (RHYTHM.md), so running it
again in the same week queues nothing twice."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.bootstrap import App
from bot.clock import zone
from bot.rhythm.hosting import DueWork
from flows.messages import Message, message_to_json
from storage import outbox
from storage.models import Person

TEAM = "T0TEAM"  # the fake Slack API's workspace (tests/slack/fake_slack.py)


def checkin_key(person_id: int, now: datetime, timezone: str) -> str:
    local = now.astimezone(zone(timezone)).date()
    monday = local - timedelta(days=local.weekday())
    return f"checkin:{person_id}:{monday.isoformat()}"


def weekly_checkins(app: App, platforms: Sequence[str] = ()) -> DueWork:
    """Queue each active rep's check-in for the week of ``now``; return how many rows."""
    def due(now: datetime) -> int:
        with app.engine.begin() as conn:
            reps = conn.execute(select(Person.id, Person.email, Person.timezone).where(
                Person.role == "rep", Person.active.is_(True)).order_by(Person.id)).all()
            for rep_id, email, timezone in reps:
                message = Message("Time for your weekly check-in: how did the week go?",
                                  flow="checkin")
                outbox.enqueue(conn, key=checkin_key(rep_id, now, timezone), kind="slack",
                               target=email, now=now, payload={
                                   "tenant": TEAM, "message": message_to_json(message),
                                   "scheduled": {"kind": "checkin", "at": now.astimezone(
                                       zone(timezone)).isoformat()}})
        return len(reps)

    return due


def serve(argv: Sequence[str]) -> int:
    """``coach serve`` itself (the CLI's own code path), with this due work."""
    from bot.cli.main import main
    from bot.rhythm import hosting

    hosting.due_work_for = weekly_checkins  # type: ignore[assignment]
    return main(["serve", *argv])


if __name__ == "__main__":
    raise SystemExit(serve(sys.argv[1:]))
