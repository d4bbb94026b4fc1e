"""What the rhythm has in store for one person over the next days (``coach schedule``), from
the same rules run_due uses: meetings (with their prep nudge and "did it happen?"),
check-ins (with the reminder and the missed mark), reviews, action items, digests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.channels.who import Who
from bot.clock import zone
from bot.rhythm import checkins, digests, meetings, reminders
from bot.rhythm.delivery import away_on, out_of_quiet_hours, place
from flows.playbook import Playbook
from storage import rhythm
from storage.rhythm import Member


class ScheduleText:
    meeting = "{meeting}"
    prep = "prep nudge for {meeting}"
    check = "\"did it happen?\" for {meeting}"
    checkin = "weekly check-in"
    reminder = "check-in reminder (if not answered)"
    missed = "check-in recorded as missed (if not answered)"
    review = "review of {rep}'s plan"
    action_due = "action due: {description}"
    action_overdue = "action overdue: {description}"
    digest = "weekly digest (week of {week})"
    away = "(away: skipped)"
    unbound = ("not seen on {platform} yet: looked up by email when something is due for "
               "them; until then their check-in and messages wait")
    no_chat = ("unreachable on {platform}: the app is not installed for them; their "
               "check-in and messages wait until they open it")


@dataclass(frozen=True, slots=True)
class Upcoming:
    at: datetime  # local, the person's zone
    kind: str  # a scheduled kind, or "meeting"
    what: str


def upcoming(db: Session, playbook: Playbook, person: Member, now: datetime,
             days: int) -> list[Upcoming]:
    """Everything due for ``person`` in ``[now, now + days)``, in time order."""
    end = now + timedelta(days=days)
    tz = zone(person.timezone)
    settings = playbook.rhythm
    cast = {m.id: m for m in rhythm.members(db)}
    found: list[Upcoming] = []

    def add(at: datetime, kind: str, what: str, quiet: bool = True) -> None:
        when = out_of_quiet_hours(at, tz, settings) if quiet else at
        if now <= when < end:
            skipped = kind != "meeting" and kind != "digest" and away_on(
                person, when.astimezone(tz).date())
            found.append(Upcoming(when.astimezone(tz), kind,
                                  f"{what} {ScheduleText.away}" if skipped else what))

    meetings.plan(db, playbook, now, days=max(days + 1, settings.horizon_days))
    for occ in rhythm.owned_planned(db, person.id, now - timedelta(hours=24), end, limit=500):
        label = meetings.label_of(playbook, occ.meeting_type)
        subject = cast.get(occ.subject_id) if occ.subject_id else None
        name = f"{label} with {subject.name}" if subject else label
        add(occ.scheduled_for, "meeting", ScheduleText.meeting.format(meeting=name), False)
        add(meetings.prep_at(occ, playbook), "prep_nudge", ScheduleText.prep.format(meeting=name))
        add(meetings.check_at(occ, playbook), "meeting_check",
            ScheduleText.check.format(meeting=name))
    if person.role == "rep":
        for slot in checkins.slots(playbook, tz, now, end):
            add(slot, "checkin", ScheduleText.checkin)
            add(checkins.reminder_at(slot, playbook), "checkin_reminder", ScheduleText.reminder)
            add(checkins.missed_at(slot, playbook), "checkin_missed", ScheduleText.missed)
    first, last = now.date() - timedelta(days=1), end.date() + timedelta(days=1)
    for review in rhythm.reviews_due(db, first, last):
        rep = cast.get(review.rep_id)
        if review.manager_id == person.id and rep is not None:
            add(reminders.review_at(review, person, playbook), "review_due",
                ScheduleText.review.format(rep=rep.name))
    for action in rhythm.open_actions_due(db, first, last):
        if action.owner_id == person.id:
            add(reminders.action_due_at(action, person, playbook), "action_due",
                ScheduleText.action_due.format(description=action.description))
            add(reminders.action_overdue_at(action, person, playbook), "action_overdue",
                ScheduleText.action_overdue.format(description=action.description))
    if person.role in digests.ROLES:
        for slot in digests.slots(playbook, person, now, end):
            add(slot, "digest", ScheduleText.digest.format(
                week=digests.reported_week(slot.date()).isoformat()))
    return sorted(found, key=lambda u: (u.at, u.kind))


def reach_note(db: Session, default: Who, playbook: Playbook, person: Member,
               now: datetime) -> str | None:
    """Why the rhythm cannot write to ``person`` on their channel yet (``default``: the
    channel of someone bound to no platform, as ``coach serve`` would pick it), or None."""
    conn = db.connection()
    placed = place(conn, default, playbook.rhythm, person, now, now)
    if placed.reachable:
        return None
    platform = placed.who.platform.title()
    if placed.who.user_key == person.email:  # no account of theirs is known there
        return ScheduleText.unbound.format(platform=platform)
    return ScheduleText.no_chat.format(platform=platform)
