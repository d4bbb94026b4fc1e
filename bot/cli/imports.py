"""``coach people import`` and ``coach metrics import``: a CSV into the database, all
or nothing (``--skip-bad``: the good rows, the bad ones reported)."""

from __future__ import annotations

import argparse
import sys

from bot.cli.errors import EXIT_BAD_INPUT
from bot.cli.import_files import ImportRejected, import_metrics, import_people, stderr_progress
from bot.cli.opening import open_app


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
        print(report.summary())
        return EXIT_BAD_INPUT if report.bad else 0
    finally:
        app.close()
