"""Playbook meetings → their occurrences, in the owner's time zone (APScheduler triggers).

Each rhythm is one APScheduler 3.11 trigger with an explicit ``timezone=ZoneInfo``, so a
meeting at 09:00 stays at 09:00 local across a DST change:

- daily: Monday to Friday at the time (a sales team's daily stand-up; ``day`` is unused);
- weekly: the day of the week at the time;
- biweekly: every other ``day``, counted from a fixed anchor week (the first ``day`` on or
  after 2024-01-01), so the weeks do not depend on when the cadence was created;
- monthly: the first ``day`` of the month ("first Wednesday");
- quarterly: the first ``day`` of January, April, July and October.

Acceleration (``accelerate: {near: quarter_end, weeks: 2, times_per_week: 2}``): in the
last ``weeks`` weeks before the end of the quarter (or month) the meeting is held
``times_per_week`` times a week: the usual day plus days spread back over the working week
(a Thursday forecast call twice weekly: Thursday and Tuesday), at the same time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.cron import CronTrigger

from flows.playbook import DAYS, Acceleration

ANCHOR = date(2024, 1, 1)  # a Monday: biweekly weeks are counted from here
QUARTER_STARTS = "1,4,7,10"
WORKDAYS = 5


class Trigger(Protocol):
    def get_next_fire_time(self, previous_fire_time: datetime | None,
                           now: datetime) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class Rule:
    """When a meeting recurs: a playbook meeting's rhythm, day, time and acceleration."""

    rhythm: str
    day: str
    time: str
    accelerate: Acceleration | None = None


def trigger(rule: Rule, tz: ZoneInfo) -> Trigger:
    """The APScheduler trigger of ``rule``'s usual occurrences in ``tz``."""
    made: Trigger = _trigger(rule, tz)
    return made


def _trigger(rule: Rule, tz: ZoneInfo) -> Any:
    hour, minute = (int(x) for x in rule.time.split(":"))
    match rule.rhythm:
        case "daily":
            return CronTrigger(day_of_week="mon-fri", hour=hour, minute=minute, timezone=tz)
        case "weekly":
            return CronTrigger(day_of_week=rule.day, hour=hour, minute=minute, timezone=tz)
        case "biweekly":
            first = ANCHOR + timedelta(days=DAYS.index(rule.day))
            return CalendarIntervalTrigger(weeks=2, hour=hour, minute=minute, start_date=first,
                                           timezone=tz)
        case "monthly":
            return CronTrigger(day=f"1st {rule.day}", hour=hour, minute=minute, timezone=tz)
        case "quarterly":
            return CronTrigger(month=QUARTER_STARTS, day=f"1st {rule.day}", hour=hour,
                               minute=minute, timezone=tz)
    raise ValueError(f"unknown rhythm {rule.rhythm!r}")


def extra_days(day: str, times_per_week: int) -> list[str]:
    """The other days of an accelerated week: spread back from ``day`` over Mon–Fri."""
    base = DAYS.index(day) % WORKDAYS
    picked = {(base - round(k * WORKDAYS / times_per_week)) % WORKDAYS
              for k in range(1, times_per_week)}
    return [DAYS[d] for d in sorted(picked - {base})]


def period_end(day: date, near: str) -> date:
    """The last day of the month (``month_end``) or quarter (``quarter_end``) of ``day``."""
    month = day.month if near == "month_end" else ((day.month - 1) // 3) * 3 + 3
    first_after = date(day.year + (month == 12), month % 12 + 1, 1)
    return first_after - timedelta(days=1)


def accelerated(day: date, acceleration: Acceleration) -> bool:
    """Whether ``day`` is in the last weeks before the month's or quarter's end."""
    return (period_end(day, acceleration.near) - day).days < acceleration.weeks * 7


def _fires(source: Trigger, start: datetime, end: datetime) -> Iterator[datetime]:
    previous: datetime | None = None
    while True:
        after = previous + timedelta(microseconds=1) if previous is not None else start
        fire = source.get_next_fire_time(previous, after)
        if fire is None or fire >= end:
            return
        if fire >= start:
            yield fire
        previous = fire


def occurrences(rule: Rule, tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """Every occurrence in ``[start, end)``, aware in ``tz``, in order."""
    found = set(_fires(trigger(rule, tz), start, end))
    acc = rule.accelerate
    if acc is not None:
        days = extra_days(rule.day, acc.times_per_week)
        if days:
            hour, minute = (int(x) for x in rule.time.split(":"))
            extra = CronTrigger(day_of_week=",".join(days), hour=hour, minute=minute,
                                timezone=tz)
            found.update(f for f in _fires(extra, start, end) if accelerated(f.date(), acc))
    return sorted(found)


def latest(rule: Rule, tz: ZoneInfo, now: datetime, lookback: timedelta) -> datetime | None:
    """The last occurrence at or before ``now`` within ``lookback`` (coalescing: missed
    ticks during downtime give one catch-up, the latest)."""
    found = occurrences(rule, tz, now - lookback, now + timedelta(microseconds=1))
    return found[-1] if found else None
