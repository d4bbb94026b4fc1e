"""The rep check-in on the rep's cadence (playbook ``checkin``: default Friday 15:00, the
rep's time): started as an unattended ``/checkin`` turn, one reminder after
``reminder_after_hours``, then recorded as missed; a snooze asks again at its time; a rep
out of office is skipped (the week is recorded ``out_of_office``).

A check-in is about one week (Monday to Sunday, the rep's time): it is only started in
that week. After downtime the week's check-in is asked once, late; an earlier week's is
not asked any more.

A check-in never interrupts a conversation in progress (the rep's last turn in an active
conversation less than ``IN_PROGRESS`` ago): it is deferred, its week recorded as waiting,
and asked at the first run of the due work after that conversation ended or went quiet.
Its reminder and missed mark count from when it was asked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.who import Who
from bot.clock import zone
from bot.rhythm import guards
from bot.rhythm.cadences import Rule, latest, occurrences
from bot.rhythm.delivery import (
    Scheduled,
    Unreached,
    away_on,
    key,
    place,
    scheduled_payload,
)
from bot.runner import TurnRunner, Unattended
from flows.messages import Choice, Message, Say
from flows.playbook import Playbook
from storage import rhythm
from storage.coaching import week_start
from storage.rhythm import Member

Queue = Callable[[Connection, Scheduled], bool]
WEEK = timedelta(days=7)
ASKED_LOOKBACK = timedelta(days=30)  # open check-ins asked longer ago are left alone
IN_PROGRESS = timedelta(minutes=30)  # a conversation with a turn this recent is in progress


class CheckinRhythmText:
    reminder = "A reminder: your weekly check-in is still open. It takes about two minutes."
    answer_now = "Answer now"
    missed = ("Your check-in for the week of {week} was recorded as missed. Tell your "
              "manager how the week went at your next 1:1.")


def rule(playbook: Playbook) -> Rule:
    c = playbook.checkin
    return Rule(c.rhythm, c.day, c.time)


def slots(playbook: Playbook, tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """When the check-in is put to a rep in ``tz``, in ``[start, end)``."""
    return occurrences(rule(playbook), tz, start, end)


def this_weeks_slot(playbook: Playbook, tz: ZoneInfo, now: datetime) -> datetime | None:
    """The latest check-in time at or before ``now`` in the rep's current week, if any."""
    slot = latest(rule(playbook), tz, now, WEEK)
    if slot is None or week_start(slot.date()) != week_start(now.astimezone(tz).date()):
        return None
    return slot


def reminder_at(asked_at: datetime, playbook: Playbook) -> datetime:
    return asked_at + timedelta(hours=playbook.checkin.reminder_after_hours)


def missed_at(asked_at: datetime, playbook: Playbook) -> datetime:
    return asked_at + timedelta(hours=2 * playbook.checkin.reminder_after_hours)


class CheckinJob:
    """Starts, reminds, re-asks and closes check-ins; counts what it did in ``counts``."""

    def __init__(self, sessions: sessionmaker[Session], playbook: Playbook,
                 runner: TurnRunner, default: Who, now: datetime, queue: Queue,
                 unreached: set[Unreached]) -> None:
        self.sessions, self.playbook, self.runner = sessions, playbook, runner
        self.default, self.now, self.queue = default, now, queue
        self.unreached = unreached  # reps whose check-in waits for their platform
        self.counts: dict[str, int] = defaultdict(int)

    def start_due(self, reps: Iterable[Member]) -> None:
        """This week's check-in for every rep whose time has come and who was not asked."""
        by_zone: dict[str, list[Member]] = defaultdict(list)
        for rep in reps:
            by_zone[rep.timezone].append(rep)
        for tz_name, group in by_zone.items():
            slot = this_weeks_slot(self.playbook, zone(tz_name), self.now)
            if slot is None:
                continue
            period = week_start(slot.date())
            group = [r for r in group if slot >= r.rhythm_since]  # no catch-up before
            if not group:
                continue
            with self.sessions.begin() as db:
                rows = rhythm.checkins_of(db, [r.id for r in group], period)
                waiting = [r for r in group if r.id not in rows
                           or (rows[r.id].status == "open" and rows[r.id].asked_at is None)]
                away = [r for r in waiting if away_on(r, slot.date())]
                for rep in away:
                    rhythm.checkin_row(db, rep.id, period).status = "out_of_office"
                    self.counts["skipped_away"] += 1
            for rep in waiting:
                if rep not in away:
                    self._ask(rep, period, slot, slot.date().isoformat())

    def ask_again(self, cast: dict[int, Member]) -> None:
        """Snoozed check-ins whose time came: asked again, or missed once their week ended."""
        with self.sessions() as db:
            due = [(row.person_id, row.period_start, row.ask_again_at)
                   for row in rhythm.snoozed(db)
                   if row.ask_again_at is not None and row.ask_again_at <= self.now]
        for person_id, period, again in due:
            rep = cast.get(person_id)
            if rep is None or again is None:
                continue
            local = self.now.astimezone(zone(rep.timezone)).date()
            if week_start(local) != period:
                self._close(rep, period, again)
                continue
            if away_on(rep, local):
                continue
            self._ask(rep, period, again, f"{period.isoformat()}:again-{again:%Y%m%dT%H%M}")

    def _ask(self, rep: Member, period: date, at: datetime, occurrence: str) -> None:
        """The check-in as an unattended turn: its messages queued for the rep under
        ``checkin:<rep>:<occurrence>:<index>``; then the week's row records when. A rep in
        a conversation in progress is not interrupted: deferred to a later run; one whose
        platform cannot reach them yet waits (``unreached``) until it can."""
        with self.sessions.begin() as db:
            if rhythm.in_conversation(db, rep.id, self.now - IN_PROGRESS):
                rhythm.checkin_row(db, rep.id, period)  # waiting: counted, asked later
                self.counts["checkins_deferred"] += 1
                return
            placed = place(db.connection(), self.default, self.playbook.rhythm, rep, at,
                           self.now)
            if not placed.reachable:  # never seen on their platform: asked once found
                rhythm.checkin_row(db, rep.id, period)
                self.unreached.add(Unreached(placed.who.platform, placed.tenant, rep.email))
                self.counts["checkins_waiting"] += 1
                return
        extra = scheduled_payload("checkin", placed,
                                  guards.checkin_still_waiting(rep.id, period))
        result = self.runner.run_turn(placed.who, Say("/checkin"), None, unattended=Unattended(
            key("checkin", rep.id, occurrence), extra, placed.not_before))
        if result.status != "ok":
            self.counts["turns_failed"] += 1
            return
        with self.sessions.begin() as db:
            row = rhythm.checkin_row(db, rep.id, period)
            if row.status in ("open", "snoozed"):
                row.status, row.asked_at, row.ask_again_at = "open", placed.not_before, None
        self.counts["checkins_started"] += 1

    def remind_and_close(self, cast: dict[int, Member]) -> None:
        """One reminder ``reminder_after_hours`` after the check-in was asked; missed after
        twice that (a rep away by then: out of office, no message). Each message is queued
        in the transaction that records it."""
        hours = timedelta(hours=self.playbook.checkin.reminder_after_hours)
        with self.sessions.begin() as db:
            conn = db.connection()
            for row in rhythm.asked_before(db, self.now - ASKED_LOOKBACK, self.now - 2 * hours):
                rep = cast.get(row.person_id)
                if rep is None or row.asked_at is None:
                    continue
                if away_on(rep, self.now.astimezone(zone(rep.timezone)).date()):
                    row.status = "out_of_office"
                    self.counts["skipped_away"] += 1
                    continue
                row.status = "missed"
                self.counts["checkins_missed"] += 1
                db.flush()
                self.queue(conn, self._missed(rep, row.period_start,
                                              missed_at(row.asked_at, self.playbook)))
            for row in rhythm.asked_before(db, self.now - 2 * hours, self.now - hours):
                rep = cast.get(row.person_id)
                if rep is None or row.asked_at is None:
                    continue
                if away_on(rep, self.now.astimezone(zone(rep.timezone)).date()):
                    continue
                self.queue(conn, Scheduled(
                    "checkin_reminder", rep, row.period_start.isoformat(),
                    reminder_at(row.asked_at, self.playbook),
                    Message(CheckinRhythmText.reminder,
                            choices=(Choice("/checkin", CheckinRhythmText.answer_now),)),
                    guards.checkin_still_waiting(rep.id, row.period_start)))

    def _close(self, rep: Member, period: date, at: datetime) -> None:
        with self.sessions.begin() as db:
            row = rhythm.checkin_row(db, rep.id, period)
            if row.status == "snoozed":
                row.status = "missed"
                self.counts["checkins_missed"] += 1
                db.flush()
                self.queue(db.connection(), self._missed(rep, period, at))

    def _missed(self, rep: Member, period: date, at: datetime) -> Scheduled:
        return Scheduled("checkin_missed", rep, period.isoformat(), at,
                         Message(CheckinRhythmText.missed.format(week=period.isoformat())))
