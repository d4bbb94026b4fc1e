"""``coach``: the command line. Errors are one line on stderr: exit code 2 for bad input or
configuration, 3 when the database cannot be reached or opened."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.exc import InterfaceError, OperationalError

from bot.cli.audit import add_parsers as add_audit_parsers
from bot.cli.chart import run_chart
from bot.cli.demo import run_demo
from bot.cli.digest import run_digest
from bot.cli.errors import (
    EXIT_BAD_INPUT,
    EXIT_NO_DATABASE,
    DatabaseUnavailable,
    UsageError,
    reason,
)
from bot.cli.imports import run_import
from bot.cli.keys import add_parsers as add_key_parsers
from bot.cli.model_log import run_model_log
from bot.cli.opening import open_app
from bot.cli.privacy import add_parsers as add_privacy_parsers
from bot.cli.rhythm import add_parsers as add_rhythm_parsers
from bot.cli.teams import write_package
from bot.cli.workspaces import link_workspace, list_workspaces
from bot.playbook_loader import PlaybookConfigError
from bot.settings import ConfigError

PORTS = range(1, 65536)


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
        print(f"coach: the database stopped answering: {reason(exc)}", file=sys.stderr)
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
        imp.set_defaults(run=run_import, kind=noun)

    chart = sub.add_parser("chart", help="walk the solution chart")
    chart.add_argument("--answers", type=Path, metavar="FILE.json",
                       help='answers like {"Q01_gap_specific": true, ...}; without it, ask')
    chart.add_argument("--json", action="store_true", help="print leaf, category and path as JSON")
    chart.set_defaults(run=run_chart)

    digest = sub.add_parser("digest", help="print a leader's or a manager's weekly digest "
                            "(not sent)")
    digest.add_argument("--leader", required=True, metavar="EMAIL",
                        help="whose digest: a leader (their whole tree) or a manager (their team)")
    digest.add_argument("--week", metavar="YYYY-Www",
                        help="the ISO week reported on (default: the last full week)")
    digest.add_argument("--json", action="store_true",
                        help="print one JSON object (the keys are in the README)")
    digest.set_defaults(run=run_digest)

    serve = sub.add_parser("serve", help="run the service: Slack, Teams, health checks")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all)")
    serve.add_argument("--port", type=int, default=3000, help="port (default: 3000)")
    serve.set_defaults(run=_serve)

    slack = sub.add_parser("slack", help="the Slack workspaces of the organisation")
    slack_sub = slack.add_subparsers(required=True, metavar="ACTION")
    link = slack_sub.add_parser("link", help="let a Slack workspace (team or enterprise id) "
                                "reach the organisation's people")
    link.add_argument("workspace", metavar="TEAM_ID")
    link.set_defaults(run=link_workspace)
    slack_sub.add_parser("workspaces", help="list the linked Slack workspaces") \
        .set_defaults(run=list_workspaces)

    teams = sub.add_parser("teams", help="Microsoft Teams")
    teams_sub = teams.add_subparsers(required=True, metavar="ACTION")
    pack = teams_sub.add_parser("package", help="write the Teams app package (a zip) to "
                                "upload to Teams")
    pack.add_argument("--out", type=Path, default=Path("smos-coach-teams.zip"), metavar="FILE",
                      help="where to write it (default: smos-coach-teams.zip)")
    pack.add_argument("--domain", metavar="HOST",
                      help="the public host of coach serve (its valid domain and pages)")
    pack.set_defaults(run=write_package)
    llm = sub.add_parser("llm", help="the language model: its request log")
    llm_sub = llm.add_subparsers(required=True, metavar="ACTION")
    model_log = llm_sub.add_parser("log", help="the latest model requests and tokens per task")
    model_log.add_argument("--limit", type=int, default=50, help="rows to show (default 50)")
    model_log.add_argument("--json", action="store_true", help="one JSON object per request")
    model_log.set_defaults(run=run_model_log)

    demo = sub.add_parser("demo", help="load the demo org (safe to run twice)")
    demo.set_defaults(run=run_demo)
    add_rhythm_parsers(sub)
    add_audit_parsers(sub)
    add_key_parsers(sub)
    add_privacy_parsers(sub)
    return parser


def _chat(args: argparse.Namespace) -> int:
    from bot.cli.demo_org import MANAGER, load_demo
    from bot.console.chat import Terminal, run_jsonl
    from storage import people
    from storage.models import DEFAULT_ORG

    app = open_app(manual_clock=args.jsonl)
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
            print(app.model.describe(), file=sys.stderr)  # stdout speaks only the protocol
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
    app = open_app()
    app.close()
    print("Database is at the latest schema.")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from bot.server import REQUEST_BUSY_TIMEOUT, serve

    if args.port not in PORTS:
        raise UsageError(f"--port must be between 1 and 65535 (got {args.port})")
    app = open_app(busy_timeout=REQUEST_BUSY_TIMEOUT)
    print(app.model.describe(), flush=True)
    try:
        return serve(app, args.host, args.port)
    except OSError as exc:  # a busy or forbidden port, a host name that does not resolve
        raise UsageError(f"cannot listen on {args.host}:{args.port}: "
                         f"{exc.strerror or exc}") from None
    finally:
        app.close()
