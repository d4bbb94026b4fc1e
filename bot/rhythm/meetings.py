"""Meetings: the playbook's cadences per team, rep and leader, their occurrences a bounded
horizon ahead, a prep nudge before each and a "did it happen?" prompt after it.

Who owns what: a ``team`` meeting belongs to each manager (their team), a ``rep`` meeting
to a rep's manager (about that rep), a ``leader`` meeting to each leader. Times are in the
owner's time zone (bot/rhythm/cadences.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import zone
from bot.rhythm import guards
from bot.rhythm.cadences import Rule, occurrences
from bot.rhythm.delivery import Scheduled, away_on
from flows.messages import Choice, Message
from flows.playbook import Meeting, Playbook
from flows.reading import number_text
from storage import overviews, rhythm
from storage.models import Cadence, Metric, Person
from storage.rhythm import Member, OccurrenceLine

OWN_MEETINGS = {("team", "manager"), ("leader", "leader")}  # who owns a meeting with no rep
CHECK_LOOKBACK = timedelta(days=7)  # a "did it happen?" older than this is not asked
MAX_LISTED_ACTIONS = 3
METRIC_DAYS = 62  # the numbers in a prep nudge: periods that ended this recently


class MeetingText:
    prep_rep = "Coming up at {time}: {meeting} with {rep}."
    prep_team = "Coming up at {time}: {meeting} with your team."
    prep_alone = "Coming up at {time}: {meeting}."
    actions = "Open actions:\n{items}"
    action_line = "  • {description} (due {due})"
    more_actions = "  • … and more (see the App Home)"
    no_actions = "No open actions."
    review = "Planned review: {date}."
    numbers = "Latest numbers:\n{lines}"
    number_line = "  • {who}{metric}: {actual} of {target} ({share}%)"
    no_numbers = "No numbers imported for this period yet."
    tree = ("Your organisation: {reps} reps, {coached} coached in the last {days} days, "
            "{open} open actions ({overdue} overdue), {escalations} open escalations.")
    check_rep = "Did the {meeting} with {rep} on {time} happen?"
    check_team = "Did the {meeting} on {time} happen?"
    held = "Yes, it was held"
    moved = "It was moved"
    skipped = "It was skipped"


def label_of(playbook: Playbook, meeting_type: str) -> str:
    return next((m.label for m in playbook.meetings if m.id == meeting_type), meeting_type)


def rule_of(meeting: Meeting) -> Rule:
    return Rule(meeting.rhythm, meeting.day, meeting.time, meeting.accelerate)


def when_text(at: datetime) -> str:
    """A meeting's local time as people read it: ``Tue 2 Mar 10:00``."""
    return f"{at:%a} {at.day} {at:%b %H:%M}"


# Planning --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wanted:
    owner: Member
    subject: Member | None
    meeting: Meeting


def wanted(cast: Iterable[Member], playbook: Playbook) -> list[Wanted]:
    """Every cadence the playbook asks for, given who is in the organisation."""
    everyone = list(cast)
    by_id = {m.id: m for m in everyone}
    found: list[Wanted] = []
    for meeting in playbook.meetings:
        for person in everyone:
            if (meeting.who, person.role) in OWN_MEETINGS:
                found.append(Wanted(person, None, meeting))
            elif (meeting.who == "rep" and person.role == "rep" and person.manager_id
                  in by_id):
                found.append(Wanted(by_id[person.manager_id], person, meeting))
    return found


def sync_cadences(db: Session, cast: list[Member], playbook: Playbook,
                  now: datetime) -> None:
    """Make the cadence rows match the playbook and the reporting lines: new ones added,
    changed ones re-planned from now, ones no longer wanted made inactive (their future
    planned occurrences go; what happened stays). Reads tuples; loads a row only to change
    it, so a tick where nothing changed stays cheap."""
    existing = {(c.owner_id, c.meeting_type, c.subject_id): c for c in rhythm.cadence_shapes(db)}
    seen: set[int] = set()
    for want in wanted(cast, playbook):
        subject_id = want.subject.id if want.subject else None
        meeting = want.meeting
        shape = (meeting.rhythm, meeting.day, meeting.time, want.owner.timezone, True)
        found = existing.get((want.owner.id, meeting.id, subject_id))
        if found is None:
            row = Cadence(owner_id=want.owner.id, subject_id=subject_id,
                          meeting_type=meeting.id, rhythm=meeting.rhythm, day=meeting.day,
                          time=meeting.time, timezone=want.owner.timezone, active=True)
            db.add(row)
            db.flush()
            seen.add(row.id)
            continue
        seen.add(found.id)
        if found.shape != shape:
            changed = db.get(Cadence, found.id)
            if changed is not None:
                (changed.rhythm, changed.day, changed.time, changed.timezone,
                 changed.active) = shape
                changed.planned_until = None
                rhythm.drop_planned_after(db, found.id, now)
    for found in existing.values():
        if found.id not in seen and found.shape[-1]:
            gone = db.get(Cadence, found.id)
            if gone is not None:
                gone.active, gone.planned_until = False, None
                rhythm.drop_planned_after(db, found.id, now)


def plan(db: Session, playbook: Playbook, now: datetime, days: int | None = None) -> int:
    """Materialise every active cadence's occurrences up to the horizon; how many new."""
    horizon = now + timedelta(days=days or playbook.rhythm.horizon_days)
    meetings = {m.id: m for m in playbook.meetings}
    added = 0
    for row in rhythm.cadences_to_plan(db, horizon - timedelta(days=1)):
        meeting = meetings.get(row.meeting_type)
        if meeting is None:
            continue
        start = max(row.planned_until or now, now)
        times = occurrences(rule_of(meeting), zone(row.timezone), start, horizon)
        added += rhythm.add_occurrences(db.connection(), row.id, times)
        row.planned_until = horizon
    return added


# Prep nudges and "did it happen?" --------------------------------------------------------


def prep_at(occ: OccurrenceLine, playbook: Playbook) -> datetime:
    return occ.scheduled_for - timedelta(hours=playbook.rhythm.prep_hours_before)


def check_at(occ: OccurrenceLine, playbook: Playbook) -> datetime:
    return occ.scheduled_for + timedelta(hours=playbook.rhythm.check_hours_after)


def prep_nudges(db: Session, playbook: Playbook, cast: dict[int, Member],
                now: datetime) -> list[Scheduled]:
    """A nudge for each meeting starting within the prep window (none once it began)."""
    lead = timedelta(hours=playbook.rhythm.prep_hours_before)
    items = []
    for occ in rhythm.planned_between(db, now, now + lead):
        owner = cast.get(occ.owner_id)
        if owner is None or away_on(owner, occ.scheduled_for.astimezone(
                zone(owner.timezone)).date()):
            continue
        local = occ.scheduled_for.astimezone(zone(owner.timezone))
        subject = cast.get(occ.subject_id) if occ.subject_id else None
        text = prep_text(db, playbook, occ, owner, subject, local, now)
        items.append(Scheduled("prep_nudge", owner, f"occ-{occ.id}", prep_at(occ, playbook),
                               Message(text),
                               guards.meeting_still_planned(occ.id, occ.scheduled_for)))
    return items


def meeting_checks(db: Session, playbook: Playbook, cast: dict[int, Member],
                   now: datetime) -> list[Scheduled]:
    """"Did it happen?" for the latest unconfirmed occurrence of each cadence (missed
    ticks during downtime coalesce into one prompt)."""
    after = timedelta(hours=playbook.rhythm.check_hours_after)
    latest: dict[int, OccurrenceLine] = {}
    for occ in rhythm.planned_between(db, now - after - CHECK_LOOKBACK, now - after):
        latest[occ.cadence_id] = occ  # in time order: the last one wins
    items = []
    for occ in latest.values():
        owner = cast.get(occ.owner_id)
        if owner is None or away_on(owner, now.astimezone(zone(owner.timezone)).date()):
            continue
        items.append(Scheduled("meeting_check", owner, f"occ-{occ.id}", check_at(occ, playbook),
                               check_message(playbook, occ, owner, cast),
                               guards.meeting_still_planned(occ.id)))
    return items


def check_message(playbook: Playbook, occ: OccurrenceLine, owner: Member,
                  cast: dict[int, Member]) -> Message:
    local = occ.scheduled_for.astimezone(zone(owner.timezone))
    subject = cast.get(occ.subject_id) if occ.subject_id else None
    meeting = label_of(playbook, occ.meeting_type)
    text = (MeetingText.check_rep.format(meeting=meeting, rep=subject.name, time=when_text(local))
            if subject else MeetingText.check_team.format(meeting=meeting,
                                                          time=when_text(local)))
    return Message(text, choices=(Choice(f"/meetings {occ.id} held", MeetingText.held),
                                  Choice(f"/meetings {occ.id} moved", MeetingText.moved),
                                  Choice(f"/meetings {occ.id} skipped", MeetingText.skipped)))


def prep_text(db: Session, playbook: Playbook, occ: OccurrenceLine, owner: Member,
              subject: Member | None, local: datetime, now: datetime) -> str:
    """A 1:1 or pipeline review: the rep's open actions, planned review and latest
    numbers; a team meeting or forecast call: the team's numbers; a leader's: the tree."""
    meeting = label_of(playbook, occ.meeting_type)
    today = now.astimezone(zone(owner.timezone)).date()
    time = when_text(local)
    if subject is not None:
        lines = [MeetingText.prep_rep.format(time=time, meeting=meeting, rep=subject.name)]
        actions = rhythm.open_actions_of(db, subject.id, MAX_LISTED_ACTIONS + 1)
        if actions:
            shown = [MeetingText.action_line.format(description=a.description,
                                                    due=a.due_date.isoformat())
                     for a in actions[:MAX_LISTED_ACTIONS]]
            if len(actions) > MAX_LISTED_ACTIONS:
                shown.append(MeetingText.more_actions)
            lines.append(MeetingText.actions.format(items="\n".join(shown)))
        else:
            lines.append(MeetingText.no_actions)
        review = rhythm.next_review_of(db, subject.id)
        if review is not None:
            lines.append(MeetingText.review.format(date=review.isoformat()))
        lines.append(numbers_text(db, {subject.id: ""}, today))
        return "\n".join(lines)
    if owner.role == "leader":
        person = db.get(Person, owner.id)
        head = MeetingText.prep_alone.format(time=time, meeting=meeting)
        if person is None:
            return head
        f = overviews.tree_figures(db, person, now, playbook.digest.coverage_days)
        return "\n".join([head, MeetingText.tree.format(
            reps=f.reps, coached=f.reps_coached, days=playbook.digest.coverage_days,
            open=f.open_actions, overdue=f.overdue_actions, escalations=f.open_escalations)])
    team = {p: name for p, name in db.execute(
        select(Person.id, Person.name).where(Person.manager_id == owner.id,
                                             Person.active.is_(True)).order_by(Person.name))}
    return "\n".join([MeetingText.prep_team.format(time=time, meeting=meeting),
                      numbers_text(db, {p: f"{name}, " for p, name in team.items()}, today)])


def numbers_text(db: Session, who: dict[int, str], today: date) -> str:
    """The latest result numbers (actual of target) of each person in ``who``."""
    if not who:
        return MeetingText.no_numbers
    rows = db.scalars(select(Metric).where(
        Metric.person_id.in_(list(who)), Metric.kind == "result",
        Metric.period_end >= today - timedelta(days=METRIC_DAYS))
        .order_by(Metric.person_id, Metric.metric, Metric.period_end.desc()))
    latest: dict[tuple[int, str], Metric] = {}
    for row in rows:
        latest.setdefault((row.person_id, row.metric), row)
    if not latest:
        return MeetingText.no_numbers
    lines = [MeetingText.number_line.format(
        who=who[m.person_id], metric=m.metric, actual=number_text(m.actual),
        target=number_text(m.target),
        share=number_text(round(100 * m.actual / m.target) if m.target else 0))
        for m in latest.values()]
    return MeetingText.numbers.format(lines="\n".join(lines))
