"""``coach audit log``: the administrative acts, newest first; and who the command line
acts as (``COACH_ACTOR``, else the operating-system user)."""

from __future__ import annotations

import argparse
import getpass
import json
import os

from bot.cli.opening import open_app
from bot.settings import Settings
from storage import audit


def cli_actor(settings: Settings) -> audit.Actor:
    if settings.coach_actor:
        return audit.Actor(f"cli:{settings.coach_actor.strip()}")
    try:
        return audit.Actor(f"cli:{getpass.getuser()}")
    except (OSError, KeyError):  # a container user with no name
        return audit.Actor(f"cli:uid {os.getuid()}")


def run_audit_log(args: argparse.Namespace) -> int:
    app = open_app()
    try:
        with app.engine.connect() as conn:
            entries = audit.recent(conn, max(1, args.limit), args.org)
        for entry in entries:
            if args.json:
                print(json.dumps({
                    "at": entry.at.isoformat(), "org": entry.org_id, "actor": entry.actor,
                    "action": entry.action, "subject": entry.subject,
                    "detail": entry.detail}, sort_keys=True))
            else:
                detail = ", ".join(f"{k}={v}" for k, v in sorted((entry.detail or {}).items()))
                print(f"{entry.at:%Y-%m-%d %H:%M:%S}Z  {entry.actor:<20} {entry.action:<18} "
                      f"{entry.subject or '-'}" + (f"  ({detail})" if detail else ""))
        if not entries and not args.json:
            print("No administrative acts recorded yet.")
        return 0
    finally:
        app.close()


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser("audit", help="the audit log of administrative acts")
    group_sub = group.add_subparsers(required=True, metavar="ACTION")
    log = group_sub.add_parser("log", help="imports, links, privacy exports and deletions, "
                               "key rotations, reassignments: newest first")
    log.add_argument("--limit", type=int, default=50, help="rows to show (default 50)")
    log.add_argument("--org", type=int, metavar="ID", help="only this organisation's acts")
    log.add_argument("--json", action="store_true", help="one JSON object per act")
    log.set_defaults(run=run_audit_log)
