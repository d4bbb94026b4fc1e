"""What each role sees at a glance (a platform's home tab draws it): a manager's reps and
meetings, a rep's action items and next check-in, a leader's figures for their tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from bot.channels.who import Who
from bot.clock import zone
from bot.services.context import ServiceContext, person_of
from flows.playbook import Playbook
from storage import escalations, overviews, people
from storage.coaching import week_start
from storage.models import Person

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class OpenEscalation:
    """One escalation in its owner's inbox, the leaf named by the playbook."""

    id: int
    leaf: str
    rep: str
    raised_by: str
    impact: str
    status: str  # open or acknowledged
    raised_on: date  # in the owner's time zone


ESCALATIONS_SHOWN = 5  # on the home tab; /escalations lists the rest


@dataclass(frozen=True)
class HomeData:
    name: str
    role: str
    email: str
    reps: list[overviews.RepLine] = field(default_factory=list)
    meetings: list[overviews.Meeting] = field(default_factory=list)
    items: list[overviews.Item] = field(default_factory=list)
    next_checkin: str = ""
    checkin_status: str = ""
    figures: overviews.TreeFigures | None = None
    window_days: int = 14
    timezone: str = "UTC"
    escalations: list[OpenEscalation] = field(default_factory=list)
    open_escalations: int = 0  # all of them (``escalations`` holds the first few)


def load(db: Session, person: Person, now: datetime, playbook: Playbook) -> HomeData:
    today = now.astimezone(zone(person.timezone)).date()
    data = HomeData(person.name, person.role, person.email,
                    window_days=playbook.digest.coverage_days, timezone=person.timezone)
    if person.role in people.COACHING_ROLES:
        data.reps.extend(overviews.rep_lines(db, person, today))
        data.meetings.extend(overviews.next_meetings(db, person, now))
    if person.role in (*people.COACHING_ROLES, "admin"):
        inbox = escalations.inbox(db.connection(), person.id, ESCALATIONS_SHOWN)
        local = zone(person.timezone)
        data.escalations.extend(
            OpenEscalation(line.id, playbook.leaf_label(line.leaf), line.rep, line.raised_by,
                           line.impact, line.status, line.created_at.astimezone(local).date())
            for line in inbox.lines)
        data = HomeData(**{**data.__dict__, "open_escalations": inbox.total})
    if person.role == "rep":
        data.items.extend(overviews.rep_items(db, person, today))
        status = overviews.checkin_status(db, person, week_start(today)) or "not started"
        when = next_checkin(now, person.timezone, playbook.checkin.day, playbook.checkin.time)
        return HomeData(**{**data.__dict__, "next_checkin": when, "checkin_status": status})
    if person.role == "leader":
        figures = overviews.tree_figures(db, person, now, playbook.digest.coverage_days)
        return HomeData(**{**data.__dict__, "figures": figures})
    return data


def next_checkin(now: datetime, tz: str, day: str, time: str) -> str:
    local = now.astimezone(zone(tz))
    hour, minute = (int(x) for x in time.split(":"))
    ahead = (DAYS.index(day) - local.weekday()) % 7
    when = (local + timedelta(days=ahead)).replace(hour=hour, minute=minute, second=0,
                                                   microsecond=0)
    if when <= local:
        when += timedelta(days=7)
    return when.strftime("%a %d %b, %H:%M")


def home_of(ctx: ServiceContext, who: Who) -> HomeData | None:
    """The home data of the person behind ``who`` (None: nobody we know)."""
    with ctx.sessions() as db:
        person = person_of(db, who)
        return None if person is None else load(db, person, ctx.clock.now(), ctx.playbook)
