"""The one due-work function: ``run_due(rhythm, now)`` queues every scheduled message
that is due at ``now`` and records what the rhythm decided (occurrences planned, check-ins
asked, missed marks).

The same code runs everywhere: the console when its clock moves, ``coach scheduler
run-due``, and ``coach serve``'s scheduler job (on the elected leader). It is idempotent:
each message has the key ``<kind>:<person>:<occurrence>`` in the outbox, so running it
twice for the same ``now`` queues nothing twice. Misfire semantics: each job looks at a
bounded window back from ``now`` and coalesces missed ticks, so downtime gives one
catch-up per item (the latest meeting's "did it happen?", this week's check-in), not a
flood. Messages are sent by the channel's sender (bot/channels), which drops a row whose
guard no longer holds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.who import Who
from bot.rhythm import digests, meetings, reminders
from bot.rhythm.checkins import CheckinJob
from bot.rhythm.delivery import Scheduled, Unreached, queue
from bot.runner import TurnRunner
from flows.playbook import Playbook
from storage import outbox, retention
from storage import rhythm as stored
from storage.rhythm import Member

CONSOLE = Who("console", "local", "")


class FixedClock:
    """The time a run of due work is about: its turns are stamped with it."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


@dataclass(frozen=True)
class Rhythm:
    """What the due work needs: sessions, the playbook, the turn runner (a check-in is an
    unattended turn) and ``default``: the channel of someone bound to no platform."""

    sessions: sessionmaker[Session]
    playbook: Playbook
    runner: TurnRunner
    default: Who = CONSOLE
    # A language model is on: digests wait this long for its narrative (bot/llm/narrator.py)
    narrative_hold: timedelta | None = None


@dataclass
class DueReport:
    """What one run did: messages queued (by kind) and the records it made."""

    queued: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    occurrences_planned: int = 0
    checkins_started: int = 0
    checkins_deferred: int = 0  # the rep was in a conversation: asked at a later run
    checkins_waiting: int = 0  # the rep cannot be reached yet (``unreached``)
    checkins_missed: int = 0
    skipped_away: int = 0
    turns_failed: int = 0
    expired: Counter[str] = field(default_factory=Counter)  # free text past retention
    # people whose platform cannot be written to yet (never seen there, or Teams without
    # the app): their check-in waits, their messages wait; coach serve looks them up
    unreached: set[Unreached] = field(default_factory=set)

    def line(self) -> str:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.by_kind.items())) or "none"
        return (f"queued {self.queued} ({kinds}); meetings planned {self.occurrences_planned};"
                f" check-ins started {self.checkins_started},"
                f" deferred {self.checkins_deferred}, missed {self.checkins_missed};"
                f" skipped (away) {self.skipped_away}; failed turns {self.turns_failed};"
                f" unreachable {len(self.unreached)}"
                + (f"; past retention {sum(self.expired.values())}" if self.expired else ""))


def run_due(rhythm: Rhythm, now: datetime) -> DueReport:
    """Queue everything due at ``now`` (aware); see the module's docstring."""
    report = DueReport()
    playbook = rhythm.playbook

    def add(conn: Connection, item: Scheduled) -> bool:
        placed = queue(conn, rhythm.default, playbook.rhythm, item, now)
        if placed is None:
            return False
        report.queued += 1
        report.by_kind[item.kind] += 1
        if not placed.reachable:
            report.unreached.add(Unreached(placed.who.platform, placed.tenant, item.to.email))
        return True

    def queue_all(db: Session, items: Iterable[Scheduled]) -> None:
        """Each item not queued before (the keys looked up at once: most ticks find the
        same "did it happen?" and reminders again, and place them no more)."""
        conn = db.connection()
        wanted = list(items)
        queued = outbox.existing(conn, [item.key for item in wanted])
        for item in wanted:
            if item.key not in queued:
                add(conn, item)

    with rhythm.sessions.begin() as db:
        stored.start_rhythm(db, now)
        people = stored.members(db)
        meetings.sync_cadences(db, people, playbook, now)
        report.occurrences_planned = meetings.plan(db, playbook, now)
    cast = {m.id: m for m in people}
    with rhythm.sessions.begin() as db:
        queue_all(db, meetings.prep_nudges(db, playbook, cast, now))
        queue_all(db, meetings.meeting_checks(db, playbook, cast, now))
    with rhythm.sessions.begin() as db:
        queue_all(db, reminders.actions(db, playbook, cast, now))
        queue_all(db, reminders.reviews(db, playbook, cast, now))
        queue_all(db, reminders.no_one_on_one(db, playbook, people, now))
    runner = TurnRunner(rhythm.runner.engine, rhythm.runner.flows, FixedClock(now),
                        rhythm.runner.commands, rhythm.runner.hand_off)
    job = CheckinJob(rhythm.sessions, playbook, runner, rhythm.default, now, add,
                     report.unreached)
    job.remind_and_close(cast)
    job.ask_again(cast)
    job.start_due([m for m in people if m.role == "rep"])
    report.checkins_started = job.counts["checkins_started"]
    report.checkins_deferred = job.counts["checkins_deferred"]
    report.checkins_missed = job.counts["checkins_missed"]
    report.skipped_away = job.counts["skipped_away"]
    report.turns_failed = job.counts["turns_failed"]
    report.checkins_waiting = job.counts["checkins_waiting"]
    if job.counts["checkins_started"]:
        report.by_kind["checkin"] += job.counts["checkins_started"]
        report.queued += job.counts["checkins_started"]
    with rhythm.sessions.begin() as db:
        queue_all(db, digests.due(db, playbook, people, now, rhythm.narrative_hold))
    with rhythm.sessions.begin() as db:  # the playbook's retention (storage/retention.py)
        report.expired = retention.apply(db.connection(), playbook.retention, now)
    return report


def rhythm_of(sessions: sessionmaker[Session], playbook: Playbook, runner: TurnRunner,
              default: Who = CONSOLE, narrative_hold: timedelta | None = None) -> Rhythm:
    return Rhythm(sessions, playbook, runner, default, narrative_hold)


__all__ = ["DueReport", "Member", "Rhythm", "run_due"]
