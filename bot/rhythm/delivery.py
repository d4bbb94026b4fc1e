"""How a scheduled message is queued: one outbox row per (kind, person, occurrence), by
the recipient's channel, with its local time, out of quiet hours, guarded.

The idempotency key is ``"{kind}:{person_id}:{occurrence}"`` (RHYTHM.md): queuing the
same item twice adds nothing, whoever runs the due work and however often.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from bot.channels.routing import Route, route
from bot.channels.who import Who
from bot.clock import zone
from flows.messages import Message, message_to_json
from flows.playbook import RhythmSettings
from storage import outbox, teams_conversations, tenancy
from storage.models import Person
from storage.rhythm import Member

KINDS = ("prep_nudge", "meeting_check", "no_one_on_one", "action_due", "action_overdue",
         "review_due", "checkin", "checkin_reminder", "checkin_missed", "escalation", "digest")


def key(kind: str, person_id: int, occurrence: str) -> str:
    return f"{kind}:{person_id}:{occurrence}"


def hhmm(text: str) -> time:
    hour, minute = (int(x) for x in text.split(":"))
    return time(hour, minute)


def local_at(day: date, at: str | time, tz: ZoneInfo) -> datetime:
    """``day`` at a local wall-clock time in ``tz`` (a time a DST gap skips: moved on)."""
    wall = hhmm(at) if isinstance(at, str) else at
    return datetime.combine(day, wall, tzinfo=tz)


def out_of_quiet_hours(when: datetime, tz: ZoneInfo, settings: RhythmSettings) -> datetime:
    """``when``, or the end of the recipient's quiet hours when it falls inside them
    (deferred, never dropped)."""
    local = when.astimezone(tz)
    start, end = hhmm(settings.quiet_start), hhmm(settings.quiet_end)
    now = local.time()
    if start == end:
        return when
    if start > end:  # over midnight: 20:00–08:00
        if now >= start:
            return local_at(local.date() + timedelta(days=1), end, tz)
        if now < end:
            return local_at(local.date(), end, tz)
        return when
    if start <= now < end:
        return local_at(local.date(), end, tz)
    return when


@dataclass(frozen=True, slots=True)
class Scheduled:
    """One scheduled message: its kind, recipient, occurrence (the key's last part), the
    time it is due (``at``), the message and what must still hold when it is sent."""

    kind: str
    to: Member
    occurrence: str
    at: datetime
    message: Message
    guard: Mapping[str, Any] | None = None
    # Held back this much past when it may leave, with more in its payload: a digest
    # waiting for the model's narrative (bot/llm/narrator.py), sent as it is after that.
    hold: timedelta = timedelta(0)
    extra: Mapping[str, Any] | None = None

    @property
    def key(self) -> str:
        return key(self.kind, self.to.id, self.occurrence)


@dataclass(frozen=True, slots=True)
class Placed:
    """Where and when a scheduled message goes: the recipient's channel, the local time
    it is due (quiet hours applied) and not before when it may leave. ``reachable``:
    the channel can write to them now (the console always; a platform once it knows
    their account, and for Teams once the app is installed for them: a stored chat)."""

    who: Who
    tenant: str
    local_at: datetime
    not_before: datetime
    reachable: bool = True


@dataclass(frozen=True, slots=True)
class Unreached:
    """Someone a scheduled message or check-in is for whom their platform cannot be
    written to yet: ``coach serve`` looks them up by email (bot/channels/directory.py
    ``Finder``) and runs the due work again when found; their messages wait meanwhile."""

    platform: str
    tenant: str
    email: str


def place(conn: Connection, default: Who, settings: RhythmSettings, to: Member,
          at: datetime, now: datetime) -> Placed:
    """The recipient's channel (bot/channels/routing.py, ``default`` for someone bound to
    no platform) and times, in their zone."""
    tz = zone(to.timezone)
    channel = route(conn, default, to.org_id, to.email)
    if not channel.tenant and channel.channel != default.platform:
        # bound to a platform none of whose workspaces is linked to the org: it could not
        # be reached there (nor found by a turn), so the default channel it is
        channel = Route(default.platform, default.tenant)
    if not channel.tenant and channel.channel != "console":
        # coach serve's default names no workspace: the org's own on that platform
        linked = tenancy.workspaces_of(conn, to.org_id, channel.channel)
        if linked:
            channel = Route(channel.channel, linked[0])
    platform_id = None if channel.channel == "console" else _platform_id(
        conn, channel.channel, to)
    reachable = channel.channel == "console" or (platform_id is not None and (
        channel.channel != "teams"
        or teams_conversations.personal_of(conn, channel.tenant, to.email) is not None))
    due_at = out_of_quiet_hours(at, tz, settings)
    leave = max(due_at, out_of_quiet_hours(now, tz, settings))
    return Placed(Who(channel.channel, channel.tenant, platform_id or to.email),
                  channel.tenant, due_at.astimezone(tz), leave, reachable)


def _platform_id(conn: Connection, platform: str, to: Member) -> str | None:
    """The recipient's user id on ``platform`` (how a turn there names them)."""
    column = {"slack": Person.slack_user_id, "teams": Person.teams_user_id}.get(platform)
    if column is None:
        return None
    return conn.execute(select(column).where(Person.id == to.id)).scalar()


def scheduled_payload(kind: str, placed: Placed,
                      guard: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a scheduled row's payload carries besides the tenant and the message."""
    extra: dict[str, Any] = {"scheduled": {"kind": kind, "at": placed.local_at.isoformat()}}
    if guard:
        extra["guard"] = dict(guard)
    return extra


def queue(conn: Connection, default: Who, settings: RhythmSettings, item: Scheduled,
          now: datetime) -> Placed | None:
    """Queue ``item`` unless its key is already in the outbox, or it fell due before the
    rhythm served its recipient (``Member.rhythm_since``: not caught up); where it went
    when it was added."""
    if item.at < item.to.rhythm_since:
        return None
    placed = place(conn, default, settings, item.to, item.at, now)
    payload = {"tenant": placed.tenant, "message": message_to_json(item.message),
               **scheduled_payload(item.kind, placed, item.guard), **(item.extra or {})}
    added = outbox.enqueue(conn, key=item.key, kind=placed.who.platform,
                           target=item.to.email, payload=payload, now=now,
                           not_before=placed.not_before + item.hold)
    return placed if added else None


def away_on(member: Member, day: date) -> bool:
    """Out of office on ``day`` (their local date): through ``away_until`` inclusive."""
    return member.away_until is not None and day <= member.away_until
