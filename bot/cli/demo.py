"""``coach demo``: load the demo org (safe to run twice)."""

from __future__ import annotations

import argparse

from bot.cli.opening import open_app
from bot.demo import load_demo


def run_demo(args: argparse.Namespace) -> int:
    app = open_app()
    try:
        now = app.clock.now()
        with app.sessions.begin() as db:
            added = load_demo(db, now.date(), now)
        print("Demo org loaded." if added else "Demo org already loaded; nothing changed.")
        return 0
    finally:
        app.close()
