"""Reminders to owners: an action item on its due day and once the day after (overdue),
a plan's review on its date (to the manager, one click starts ``/review``), and a manager
whose rep had no 1:1 or session in ``no_one_on_one_days`` (once a week per rep).

Each goes at the playbook's ``rhythm.reminder_time`` on its local day; after downtime an
item still within ``CATCH_UP_DAYS`` is sent once, late.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from bot.clock import zone
from bot.rhythm import guards
from bot.rhythm.delivery import Scheduled, away_on, local_at
from flows.messages import Choice, Message
from flows.playbook import Playbook
from flows.reading import date_text
from storage import rhythm
from storage.rhythm import ActionLine, Member, ReviewLine

CATCH_UP_DAYS = 7


class ReminderText:
    action_due = "Due today: {description}."
    action_overdue = "Overdue since {due}: {description}. Done, or does it need a new date?"
    review_due = ("Today is the review of {rep}'s action plan (results, actions, next step). "
                  "It takes about ten minutes.")
    start_review = "Start the review"
    no_one_on_one = ("{rep} has had no 1:1 or coaching session with you in {days} days. "
                     "A short session keeps the loop going.")
    no_one_on_one_never = ("{rep} has had no 1:1 or coaching session with you yet. "
                           "A short session starts the loop.")
    coach = "Coach {rep} now"


def action_due_at(action: ActionLine, owner: Member, playbook: Playbook) -> datetime:
    return local_at(action.due_date, playbook.rhythm.reminder_time, zone(owner.timezone))


def action_overdue_at(action: ActionLine, owner: Member, playbook: Playbook) -> datetime:
    return local_at(action.due_date + timedelta(days=1), playbook.rhythm.reminder_time,
                    zone(owner.timezone))


def review_at(review: ReviewLine, manager: Member, playbook: Playbook) -> datetime:
    return local_at(review.due_date, playbook.rhythm.reminder_time, zone(manager.timezone))


def _window(now: datetime) -> tuple[date, date]:
    """The due dates that can be due somewhere on Earth now, and the catch-up days."""
    today = now.date()
    return today - timedelta(days=CATCH_UP_DAYS + 1), today + timedelta(days=1)


def actions(db: Session, playbook: Playbook, cast: dict[int, Member],
            now: datetime) -> list[Scheduled]:
    first, last = _window(now)
    items = []
    for action in rhythm.open_actions_due(db, first, last):
        owner = cast.get(action.owner_id)
        if owner is None:
            continue
        today = now.astimezone(zone(owner.timezone)).date()
        if away_on(owner, today):
            continue
        guard = guards.action_still_open(action.id)
        due_at = action_due_at(action, owner, playbook)
        overdue_at = action_overdue_at(action, owner, playbook)
        if overdue_at <= now and (today - action.due_date).days <= CATCH_UP_DAYS:
            items.append(Scheduled(
                "action_overdue", owner, f"action-{action.id}:{overdue_at.date().isoformat()}",
                overdue_at, Message(ReminderText.action_overdue.format(
                    due=date_text(action.due_date), description=action.description)), guard))
        elif due_at <= now and action.due_date == today:
            items.append(Scheduled(
                "action_due", owner, f"action-{action.id}:{action.due_date.isoformat()}",
                due_at, Message(ReminderText.action_due.format(description=action.description)),
                guard))
    return items


def reviews(db: Session, playbook: Playbook, cast: dict[int, Member],
            now: datetime) -> list[Scheduled]:
    first, last = _window(now)
    items = []
    for review in rhythm.reviews_due(db, first, last):
        manager, rep = cast.get(review.manager_id), cast.get(review.rep_id)
        if manager is None or rep is None:
            continue
        at = review_at(review, manager, playbook)
        today = now.astimezone(zone(manager.timezone)).date()
        if at > now or (today - review.due_date).days > CATCH_UP_DAYS or away_on(manager,
                                                                                  today):
            continue
        items.append(Scheduled(
            "review_due", manager, f"review-{review.id}", at,
            Message(ReminderText.review_due.format(rep=rep.name),
                    choices=(Choice(f"/review {rep.email}", ReminderText.start_review),)),
            guards.review_still_planned(review.id)))
    return items


def no_one_on_one(db: Session, playbook: Playbook, cast: Iterable[Member],
                  now: datetime) -> list[Scheduled]:
    """A manager whose rep had no finished session and no meeting with them marked held in
    ``no_one_on_one_days`` (counted from the rep's arrival when there was none): once per
    ISO week per rep, at reminder time."""
    everyone = list(cast)
    by_id = {m.id: m for m in everyone}
    reps = [m for m in everyone if m.role == "rep" and m.manager_id in by_id]
    days = playbook.rhythm.no_one_on_one_days
    last = rhythm.last_one_on_one(db, [r.id for r in reps])
    met = rhythm.held_one_on_ones(db, [r.id for r in reps], now - timedelta(days=days))
    items = []
    for rep in reps:
        manager = by_id[rep.manager_id or 0]
        tz = zone(manager.timezone)
        today = now.astimezone(tz).date()
        at = local_at(today, playbook.rhythm.reminder_time, tz)
        since = last.get(rep.id)
        if at > now or rep.id in met or (since or rep.created_at) > now - timedelta(days=days):
            continue
        if away_on(manager, today) or away_on(rep, today):
            continue
        year, week, _ = today.isocalendar()
        text = (ReminderText.no_one_on_one.format(rep=rep.name, days=(now - since).days)
                if since else ReminderText.no_one_on_one_never.format(rep=rep.name))
        items.append(Scheduled(
            "no_one_on_one", manager, f"rep-{rep.id}:{year}-W{week:02d}", at,
            Message(text, choices=(Choice(f"/coach {rep.email}",
                                          ReminderText.coach.format(rep=rep.name)),))))
    return items
