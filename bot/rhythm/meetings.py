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
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import zone
from bot.rhythm import guards
from bot.rhythm.cadences import Rule, latest, occurrences
from bot.rhythm.delivery import Scheduled, away_on, key
from flows.messages import Choice, Message
from flows.playbook import Meeting, Playbook
from flows.reading import number_text
from storage import outbox, overviews, rhythm
from storage.coaching import week_start
from storage.models import Cadence, Metric, Person
from storage.rhythm import Member, OccurrenceLine

OWN_MEETINGS = {("team", "manager"), ("leader", "leader")}  # who owns a meeting with no rep
CHECK_LOOKBACK = timedelta(days=7)  # a "did it happen?" older than this is not asked
MAX_LISTED_ACTIONS = 3
METRIC_DAYS = 62  # the numbers in a prep nudge: periods that ended this recently
METRIC_HISTORY_DAYS = 200  # and the period before: periods starting this recently
HELD_LOOKBACK = timedelta(days=100)  # "since the last one": a held meeting this recent


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
    since_held = "Since the last one ({date}):"
    since_period = "Since {date} (no earlier {meeting} was marked held):"
    changed_actions = "  • Actions: {opened} opened, {done} done; {open} open ({overdue} overdue)."
    changed_sessions = "  • Coaching sessions finished: {count}."
    changed_checkins = "  • Check-ins answered: {count}{activity}."
    numbers_changed = "Numbers, latest period against the one before:\n{lines}"
    number_change_line = ("  • {who}{metric}: {actual} of {target} ({share}%), "
                          "was {before} ({change})")
    number_first_line = "  • {who}{metric}: {actual} of {target} ({share}%), no period before"
    no_change = "no change"
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


def day_text(at: datetime) -> str:
    """A local day as people read it in a list: ``Tue 2 Mar``."""
    return f"{at:%a} {at.day} {at:%b}"


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
    """A nudge for each meeting starting within the prep window (none once it began). Its
    content is worked out once: a nudge already queued is not built again every tick."""
    lead = timedelta(hours=playbook.rhythm.prep_hours_before)
    coming: dict[str, tuple[OccurrenceLine, Member]] = {}
    for occ in rhythm.planned_between(db, now, now + lead):
        owner = cast.get(occ.owner_id)
        if owner is None or away_on(owner, occ.scheduled_for.astimezone(
                zone(owner.timezone)).date()):
            continue
        coming[key("prep_nudge", owner.id, f"occ-{occ.id}")] = (occ, owner)
    queued = outbox.existing(db.connection(), list(coming))
    items = []
    for nudge_key, (occ, owner) in coming.items():
        if nudge_key in queued:
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
    """What the meeting's ``prep`` asks for (flows/playbook.py PREPS): a 1:1 the rep's open
    actions, planned review and latest numbers; a pipeline review what changed since the
    last one; a team meeting or forecast call the team's numbers; a leader's the tree."""
    meeting = meeting_of(playbook, occ)
    label = meeting.label if meeting else occ.meeting_type
    prep = meeting.prep if meeting else ("rep" if subject else "team")
    today = now.astimezone(zone(owner.timezone)).date()
    time = when_text(local)
    if subject is not None:
        head = MeetingText.prep_rep.format(time=time, meeting=label, rep=subject.name)
    elif owner.role == "leader":
        head = MeetingText.prep_alone.format(time=time, meeting=label)
    else:
        head = MeetingText.prep_team.format(time=time, meeting=label)
    if prep == "tree":
        return "\n".join([head, *tree_lines(db, playbook, owner, now)])
    who = {subject.id: ""} if subject else team_of(db, owner)
    if prep == "changes":
        return "\n".join([head, *changes_lines(db, playbook, occ, meeting, owner, who,
                                                 label, today)])
    if prep == "team" or subject is None:
        return "\n".join([head, numbers_text(db, who, today)])
    lines = [head]
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
    lines.append(numbers_text(db, who, today))
    return "\n".join(lines)


def meeting_of(playbook: Playbook, occ: OccurrenceLine) -> Meeting | None:
    return next((m for m in playbook.meetings if m.id == occ.meeting_type), None)


def team_of(db: Session, owner: Member) -> dict[int, str]:
    """The owner's active direct reports, each named as a line starts (``Alice Adams, ``)."""
    return {p: f"{name}, " for p, name in db.execute(
        select(Person.id, Person.name).where(Person.manager_id == owner.id,
                                             Person.active.is_(True)).order_by(Person.name))}


def tree_lines(db: Session, playbook: Playbook, owner: Member, now: datetime) -> list[str]:
    person = db.get(Person, owner.id)
    if person is None:
        return []
    f = overviews.tree_figures(db, person, now, playbook.digest.coverage_days)
    return [MeetingText.tree.format(
        reps=f.reps, coached=f.reps_coached, days=playbook.digest.coverage_days,
        open=f.open_actions, overdue=f.overdue_actions, escalations=f.open_escalations)]


def since_last(db: Session, occ: OccurrenceLine, meeting: Meeting | None,
               tz: ZoneInfo) -> tuple[datetime, bool]:
    """Since when a ``changes`` prep counts: the last meeting of the cadence marked held
    (within ``HELD_LOOKBACK``), else the cadence's previous time by its rule (a week back
    when there is none). True when it was held."""
    held = rhythm.last_held(db, occ.cadence_id, occ.scheduled_for,
                            occ.scheduled_for - HELD_LOOKBACK)
    if held is not None:
        return held, True
    before = None
    if meeting is not None:
        before = latest(rule_of(meeting), tz, occ.scheduled_for - timedelta(minutes=1),
                        HELD_LOOKBACK)
    return (before or occ.scheduled_for - timedelta(days=7)), False


def changes_lines(db: Session, playbook: Playbook, occ: OccurrenceLine,
                  meeting: Meeting | None, owner: Member, who: dict[int, str], label: str,
                  today: date) -> list[str]:
    """What changed for the rep (or the team) since the last meeting: actions opened and
    done (and open now), sessions finished, check-ins answered with their activity, and
    each metric's latest period against the one before. A fixed number of reads, each a
    window by an index."""
    tz = zone(owner.timezone)
    since, held = since_last(db, occ, meeting, tz)
    day = day_text(since.astimezone(tz))
    lines = [MeetingText.since_held.format(date=day) if held
             else MeetingText.since_period.format(date=day, meeting=label)]
    ids = list(who)
    counts = rhythm.action_counts(db, ids, since, today)
    lines.append(MeetingText.changed_actions.format(
        opened=counts.opened, done=counts.done, open=counts.open, overdue=counts.overdue))
    lines.append(MeetingText.changed_sessions.format(
        count=rhythm.sessions_since(db, ids, since)))
    answers = rhythm.answered_since(db, ids, since,
                                    week_start(since.astimezone(tz).date()) - timedelta(days=7))
    totals = {a.id: 0.0 for a in playbook.checkin.activities}
    for answer in answers:
        for activity, value in answer.items():
            if activity in totals and isinstance(value, int | float):
                totals[activity] += value
    activity = ", ".join(f"{a.label.lower()} {number_text(totals[a.id])}"
                         for a in playbook.checkin.activities) if answers else ""
    lines.append(MeetingText.changed_checkins.format(
        count=len(answers), activity=f" ({activity})" if activity else ""))
    lines.append(changed_numbers_text(db, who, today))
    return lines


def changed_numbers_text(db: Session, who: dict[int, str], today: date) -> str:
    """Each metric's latest period (ended within ``METRIC_DAYS``) against the period before."""
    rows = rhythm.metrics_from(db, list(who), today - timedelta(days=METRIC_HISTORY_DAYS))
    by_metric: dict[tuple[int, str], list[rhythm.MetricLine]] = {}
    for row in rows:  # newest period first
        by_metric.setdefault((row.person_id, row.metric), []).append(row)
    lines = []
    for (person_id, metric), periods in by_metric.items():
        latest_row = periods[0]
        if latest_row.period_end < today - timedelta(days=METRIC_DAYS):
            continue
        earlier = next((p for p in periods[1:] if p.period_end < latest_row.period_end), None)
        share = number_text(round(100 * latest_row.actual / latest_row.target)
                            if latest_row.target else 0)
        now_text = dict(who=who[person_id], metric=metric,
                        actual=number_text(latest_row.actual),
                        target=number_text(latest_row.target), share=share)
        if earlier is None:
            lines.append(MeetingText.number_first_line.format(**now_text))
            continue
        change = latest_row.actual - earlier.actual
        lines.append(MeetingText.number_change_line.format(
            **now_text, before=number_text(earlier.actual),
            change=(f"+{number_text(change)}" if change > 0 else number_text(change)
                    if change < 0 else MeetingText.no_change)))
    if not lines:
        return MeetingText.no_numbers
    return MeetingText.numbers_changed.format(lines="\n".join(lines))


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
