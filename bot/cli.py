"""``coach``: the command line. Errors are one line on stderr: exit code 2 for bad input or
configuration, 3 when the database cannot be reached or opened."""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError

from bot.bootstrap import App, bootstrap
from bot.clock import ManualClock, SystemClock
from bot.playbook import PlaybookConfigError
from bot.settings import ConfigError, Settings, load_settings
from storage.db import LONG_BUSY_TIMEOUT

EXIT_BAD_INPUT = 2
EXIT_NO_DATABASE = 3
PORTS = range(1, 65536)


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit code 2."""


class DatabaseUnavailable(Exception):
    """The database cannot be reached or opened: printed as one line, exit code 3."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (UsageError, ConfigError, PlaybookConfigError) as exc:
        print(f"coach: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except DatabaseUnavailable as exc:
        print(f"coach: {exc}", file=sys.stderr)
        return EXIT_NO_DATABASE
    except (OperationalError, InterfaceError) as exc:  # lost after a good start
        print(f"coach: the database stopped answering: {_reason(exc)}", file=sys.stderr)
        return EXIT_NO_DATABASE
    except BrokenPipeError:
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coach", description="smOS Coach: SLED coaching sessions, the solution chart, "
        "check-ins and the sales management cadence.")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    chat = sub.add_parser("chat", help="talk to the bot in the terminal")
    chat.add_argument("--as", dest="actor", metavar="EMAIL",
                      help="who you are (default: the demo manager)")
    chat.add_argument("--jsonl", action="store_true",
                      help="speak the console protocol: one JSON object per line")
    chat.set_defaults(run=_chat)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="migrate the database to the latest schema") \
        .set_defaults(run=_db_upgrade)

    for noun, helptext in (("people", "people and reporting lines"),
                           ("metrics", "results and activity per period")):
        group = sub.add_parser(noun, help=f"import {helptext}")
        group_sub = group.add_subparsers(required=True, metavar="ACTION")
        imp = group_sub.add_parser("import", help=f"import {helptext} from a CSV file")
        imp.add_argument("file", type=Path, metavar="FILE.csv")
        imp.add_argument("--skip-bad", action="store_true",
                         help="import the good rows and report the bad ones")
        imp.set_defaults(run=_import, kind=noun)

    chart = sub.add_parser("chart", help="walk the solution chart")
    chart.add_argument("--answers", type=Path, metavar="FILE.json",
                       help='answers like {"Q01_gap_specific": true, ...}; without it, ask')
    chart.add_argument("--json", action="store_true", help="print leaf, category and path as JSON")
    chart.set_defaults(run=_chart)

    serve = sub.add_parser("serve", help="run the service: Slack, health checks")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all)")
    serve.add_argument("--port", type=int, default=3000, help="port (default: 3000)")
    serve.set_defaults(run=_serve)

    slack = sub.add_parser("slack", help="the Slack workspaces of the organisation")
    slack_sub = slack.add_subparsers(required=True, metavar="ACTION")
    link = slack_sub.add_parser("link", help="let a Slack workspace (team or enterprise id) "
                                "reach the organisation's people")
    link.add_argument("workspace", metavar="TEAM_ID")
    link.set_defaults(run=_slack_link)
    slack_sub.add_parser("workspaces", help="list the linked Slack workspaces") \
        .set_defaults(run=_slack_workspaces)

    demo = sub.add_parser("demo", help="load the demo org (safe to run twice)")
    demo.set_defaults(run=_demo)
    return parser


def _app(manual_clock: bool = False, busy_timeout: float = LONG_BUSY_TIMEOUT) -> App:
    settings = load_settings()
    try:
        return bootstrap(settings, ManualClock() if manual_clock else SystemClock(),
                         busy_timeout=busy_timeout)
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailable(f"cannot open the database {_shown_url(settings)}: "
                                  f"{_reason(exc)}") from None
    except (ArgumentError, ImportError) as exc:  # not a URL, or a database we have no driver for
        raise UsageError(f"DATABASE_URL {_shown_url(settings)} is not a database we can use "
                         "(sqlite:///path/to/coach.db or postgresql://user@host/db): "
                         f"{_reason(exc)}") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _shown_url(settings: Settings) -> str:
    """DATABASE_URL as an error may show it: without its password."""
    try:
        return make_url(settings.database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(settings.database_url[:80])


def _reason(exc: BaseException) -> str:
    """The driver's own first line, without SQLAlchemy's SQL and background link."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0].strip() if lines else type(cause).__name__


def _chat(args: argparse.Namespace) -> int:
    from bot.console.chat import Terminal, run_jsonl
    from bot.demo import MANAGER, load_demo
    from storage import people
    from storage.models import DEFAULT_ORG

    app = _app(manual_clock=args.jsonl)
    try:
        now = app.clock.now()
        with app.sessions.begin() as db:
            if people.count(db) == 0:
                load_demo(db, now.date(), now)
            actor = (args.actor or "").strip().lower()
            if not actor:
                if people.by_email(db, MANAGER, DEFAULT_ORG) is None:
                    raise UsageError("say who you are: coach chat --as EMAIL")
                actor = MANAGER
            elif people.by_email(db, actor, DEFAULT_ORG) is None:
                raise UsageError(f"nobody with the email {actor} is known; "
                                 "import people first (coach people import FILE.csv)")
        if args.jsonl:
            _utf8_streams()
            return run_jsonl(app, actor, sys.stdin, sys.stdout)
        return Terminal(app, actor).run()
    finally:
        app.close()


def _utf8_streams() -> None:
    """The protocol is UTF-8 both ways; an input byte that is not reaches the parser as a
    lone surrogate and is refused there, instead of ending the session."""
    for stream, errors in ((sys.stdin, "surrogateescape"), (sys.stdout, "strict")):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8", errors=errors)


def _db_upgrade(args: argparse.Namespace) -> int:
    app = _app()
    app.close()
    print("Database is at the latest schema.")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from bot.server import REQUEST_BUSY_TIMEOUT, serve

    if args.port not in PORTS:
        raise UsageError(f"--port must be between 1 and 65535 (got {args.port})")
    app = _app(busy_timeout=REQUEST_BUSY_TIMEOUT)
    try:
        return serve(app, args.host, args.port)
    except OSError as exc:  # a busy or forbidden port, a host name that does not resolve
        raise UsageError(f"cannot listen on {args.host}:{args.port}: "
                         f"{exc.strerror or exc}") from None
    finally:
        app.close()


def _demo(args: argparse.Namespace) -> int:
    from bot.demo import load_demo

    app = _app()
    try:
        now = app.clock.now()
        with app.sessions.begin() as db:
            added = load_demo(db, now.date(), now)
        print("Demo org loaded." if added else "Demo org already loaded; nothing changed.")
        return 0
    finally:
        app.close()


def _slack_link(args: argparse.Namespace) -> int:
    from storage import tenancy

    workspace = args.workspace.strip()
    if not workspace.isalnum() or not workspace.isascii() or len(workspace) > 64:
        raise UsageError(f"{args.workspace!r} is not a Slack team or enterprise id "
                         "(like T0123ABCD)")
    app = _app()
    try:
        with app.sessions.begin() as db:
            result = tenancy.link(db, tenancy.DEFAULT_ORG, "slack", workspace, app.clock.now())
        if result == "elsewhere":
            raise UsageError(f"Slack workspace {workspace} belongs to another organisation")
        print(f"Slack workspace {workspace} "
              f"{'linked' if result == 'linked' else 'was already linked'}.")
        return 0
    finally:
        app.close()


def _slack_workspaces(args: argparse.Namespace) -> int:
    from storage import tenancy

    app = _app()
    try:
        with app.sessions() as db:
            for workspace in tenancy.workspaces_of(db, tenancy.DEFAULT_ORG, "slack"):
                print(workspace)
        return 0
    finally:
        app.close()


def _import(args: argparse.Namespace) -> int:
    from bot.imports import ImportRejected, import_metrics, import_people, stderr_progress

    run = import_people if args.kind == "people" else import_metrics
    app = _app()
    try:
        with app.sessions.begin() as db:
            try:
                report = run(db, args.file, now=app.clock.now(), skip_bad=args.skip_bad,
                             progress=stderr_progress(f"{args.kind} import"))
            except ImportRejected as rejected:
                print(f"coach: {rejected.report.summary()}", file=sys.stderr)
                return EXIT_BAD_INPUT
        print(report.summary())
        return EXIT_BAD_INPUT if report.bad else 0
    finally:
        app.close()


def _chart(args: argparse.Namespace) -> int:
    from bot.chart_cli import interactive, walk_file
    from bot.playbook import load_playbook

    playbook = load_playbook(load_settings().coach_playbook)
    if args.answers is None:
        result = interactive(playbook.chart, input, print)
        if result is None:
            return EXIT_BAD_INPUT
    else:
        result = walk_file(playbook.chart, args.answers)
    if args.json:
        print(json.dumps(result.as_json()))
    else:
        steps = " → ".join(f"{q} {'yes' if a else 'no'}" for q, a in result.path)
        print(f"{result.leaf} ({result.category})\npath: {steps}\n"
              f"next: {playbook.chart.leaves[result.leaf].next}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
