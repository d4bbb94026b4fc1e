"""The weekly digest: each leader (their whole tree) and manager (their team), on the
playbook's ``digest.send`` day and time (default Monday 08:00) in their time zone, about
the ISO week that just ended; exactly once per week (key ``digest:<person>:<YYYY-Www>``).
People away still get it: it waits in their chat. With a language model
(``narrative_hold``), each is held that long with its figures in the payload, for the
model's narrative on top (bot/llm/narrator.py); it goes as it is once the hold is over."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from bot.clock import zone
from bot.rhythm.cadences import Rule, latest, occurrences
from bot.rhythm.delivery import Scheduled, key
from bot.services import digest
from flows.playbook import Playbook
from storage import outbox
from storage.models import Person
from storage.rhythm import Member

ROLES = ("manager", "leader")
WEEK = timedelta(days=7)


def rule(playbook: Playbook) -> Rule:
    return Rule("weekly", playbook.digest.send_day, playbook.digest.send_time)


def reported_week(sent_on: date) -> date:
    """The Monday of the week before the one ``sent_on`` is in."""
    return sent_on - timedelta(days=sent_on.weekday()) - WEEK


def week_name(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def slots(playbook: Playbook, member: Member, start: datetime, end: datetime) -> list[datetime]:
    return occurrences(rule(playbook), zone(member.timezone), start, end)


def due(db: Session, playbook: Playbook, cast: list[Member], now: datetime,
        narrative_hold: timedelta | None = None) -> list[Scheduled]:
    """The digests due and not yet queued: the slot worked out once per time zone, the
    keys looked up in one query, the figures computed only for a digest not queued yet."""
    slots: dict[str, datetime | None] = {}
    wanted: dict[str, tuple[Member, datetime, date]] = {}
    for member in cast:
        if member.role not in ROLES:
            continue
        if member.timezone not in slots:
            slots[member.timezone] = latest(rule(playbook), zone(member.timezone), now, WEEK)
        slot = slots[member.timezone]
        if slot is not None:
            week = reported_week(slot.date())
            wanted[key("digest", member.id, week_name(week))] = (member, slot, week)
    queued = outbox.existing(db.connection(), list(wanted))
    items = []
    for digest_key, (member, slot, week) in wanted.items():
        if digest_key in queued:
            continue  # computed once: the figures are not worked out again every tick
        occurrence = week_name(week)
        person = db.get(Person, member.id)
        if person is None:
            continue
        built = digest.build(db, person, week, playbook, now)
        message = digest.message_of(built, playbook)
        if narrative_hold is None:
            items.append(Scheduled("digest", member, occurrence, slot, message))
            continue
        items.append(Scheduled("digest", member, occurrence, slot, message,
                               hold=narrative_hold,
                               extra={digest.NARRATIVE_KEY: built.narrative_figures()}))
    return items
