"""``coach people import`` and ``coach metrics import``: a CSV into the database, all
or nothing (``--skip-bad``: the good rows, the bad ones reported)."""

from __future__ import annotations

import argparse
import sys

from bot.cli.audit import cli_actor
from bot.cli.errors import EXIT_BAD_INPUT
from bot.cli.import_files import ImportRejected, import_metrics, import_people, stderr_progress
from bot.cli.opening import open_app
from storage import audit
from storage.models import DEFAULT_ORG


def run_import(args: argparse.Namespace) -> int:
    run = import_people if args.kind == "people" else import_metrics
    app = open_app()
    try:
        with app.sessions.begin() as db:
            try:
                report = run(db, args.file, now=app.clock.now(), skip_bad=args.skip_bad,
                             progress=stderr_progress(f"{args.kind} import"))
            except ImportRejected as rejected:
                print(f"coach: {rejected.report.summary()}", file=sys.stderr)
                return EXIT_BAD_INPUT
            audit.record(db, at=app.clock.now(), actor=cli_actor(app.settings),
                         action=f"{args.kind}.import", subject=args.file.name,
                         org_id=DEFAULT_ORG, detail={
                             "rows": report.rows, "created": report.created,
                             "updated": report.updated, "unchanged": report.unchanged,
                             "skipped": report.skipped})
        print(report.summary())
        return EXIT_BAD_INPUT if report.bad else 0
    finally:
        app.close()
