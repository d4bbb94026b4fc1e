"""``coach schedule`` (what is due for someone) and ``coach scheduler run-due`` (run the
due work once: for cron users who don't run the server)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from bot.bootstrap import App
from bot.channels.who import Who
from bot.cli.errors import UsageError
from bot.cli.opening import open_app
from bot.llm.wiring import assistant_for, in_thread, narrative_hold, narrator_for
from bot.rhythm.due import CONSOLE, Rhythm, run_due
from bot.rhythm.schedule import reach_note, upcoming
from bot.surfaces import enabled_platforms
from storage import people, rhythm
from storage.models import DEFAULT_ORG

MAX_DAYS = 366


def parse_now(text: str | None) -> datetime:
    """``--now``: an ISO time with an offset (or Z); the real time when not given."""
    if text is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--now takes an ISO time like 2027-03-05T15:00:00-05:00 "
                         f"(got {text[:40]!r})") from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise UsageError("--now needs a UTC offset, like 2027-03-05T15:00:00-05:00")
    if not 1970 <= when.year <= 9000:
        raise UsageError("--now must be between 1970 and 9000")
    return when.astimezone(UTC)


def run_due_once(args: argparse.Namespace) -> int:
    """The due work once; with a model on, the digests it held get their narrative here,
    after its transactions (each goes out as it is if none comes within the hold)."""
    now = parse_now(args.now)
    app = open_app()
    try:
        hold = narrative_hold(app.settings, app.playbook)
        report = run_due(Rhythm(app.sessions, app.playbook, app.runner,
                                narrative_hold=hold), now)
        if hold is not None:
            asyncio.run(_narrate(app, now))
    finally:
        app.close()
    print(f"{now.isoformat()}: {report.line()}")
    return 0


async def _narrate(app: App, now: datetime) -> None:
    assistant = assistant_for(app.settings, app.playbook, app.engine, in_thread, lambda: now)
    narrator = narrator_for(app.settings, app.playbook, assistant, app.engine, in_thread,
                            lambda: now)
    if assistant is None or narrator is None:
        return
    try:
        await narrator.run_once()
    finally:
        await assistant.close()


def show_schedule(args: argparse.Namespace) -> int:
    if not 1 <= args.days <= MAX_DAYS:
        raise UsageError(f"--days must be between 1 and {MAX_DAYS} (got {args.days})")
    now = parse_now(args.now)
    app = open_app()
    try:
        with app.sessions.begin() as db:
            person = people.by_email(db, args.person.strip().lower(), DEFAULT_ORG)
            member = rhythm.member(db, person.id) if person is not None else None
            if member is None:
                raise UsageError(f"nobody with the email {args.person[:80]} is known")
            found = upcoming(db, app.playbook, member, now, args.days)
            platforms = enabled_platforms(app)
            default = Who(platforms[0], "", "") if platforms else CONSOLE
            unreachable = reach_note(db, default, app.playbook, member, now)
    finally:
        app.close()
    print(f"{member.name} <{member.email}>, {member.role}, {member.timezone}: "
          f"the next {args.days} days")
    if unreachable:
        print(f"  {unreachable}")
    if not found:
        print("  nothing scheduled")
    for item in found:
        print(f"  {item.at:%a %Y-%m-%d %H:%M %z}  {item.kind:<16} {item.what}")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    schedule = sub.add_parser("schedule", help="what the rhythm has in store for someone")
    schedule.add_argument("--person", required=True, metavar="EMAIL")
    schedule.add_argument("--days", type=int, default=7, help="how many days ahead (default 7)")
    schedule.add_argument("--now", metavar="ISO", help="from this time (default: now)")
    schedule.set_defaults(run=show_schedule)
    scheduler = sub.add_parser("scheduler", help="the operating rhythm's due work")
    scheduler_sub = scheduler.add_subparsers(required=True, metavar="ACTION")
    due = scheduler_sub.add_parser("run-due", help="queue what is due now, once (for cron)")
    due.add_argument("--now", metavar="ISO", help="as if it were this time (default: now)")
    due.set_defaults(run=run_due_once)
