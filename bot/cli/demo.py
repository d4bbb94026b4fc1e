"""``coach demo``: load the demo org (safe to run twice)."""

from __future__ import annotations

import argparse

from bot.cli import demo_org as demo
from bot.cli.opening import open_app


def run_demo(args: argparse.Namespace) -> int:
    app = open_app()
    try:
        now = app.clock.now()
        with app.sessions.begin() as db:
            added = demo.load_demo(db, now.date(), now)
        print("Demo org loaded." if added else "Demo org already loaded; nothing changed.")
        return 0
    finally:
        app.close()
