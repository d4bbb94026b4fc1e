"""``coach digest``: a leader's (or a manager's) weekly digest, printed instead of sent; with
a language model configured, with its narrative on top (asked once the figures are read,
no transaction open; the figures alone when it gives nothing usable)."""

from __future__ import annotations

import argparse
import asyncio
import json

from bot.bootstrap import App
from bot.cli.errors import UsageError
from bot.cli.opening import open_app
from bot.llm.digest_text import narrate
from bot.llm.wiring import assistant_for, in_thread
from bot.services import digest
from storage import people
from storage.models import DEFAULT_ORG


def run_digest(args: argparse.Namespace) -> int:
    week = None
    if args.week is not None:
        try:
            week = digest.parse_week(args.week)
        except ValueError as exc:
            raise UsageError(f"--week: {exc}") from None
    app = open_app()
    try:
        now = app.clock.now()
        with app.sessions() as db:
            person = people.by_email(db, args.leader, DEFAULT_ORG)
            if person is None:
                raise UsageError(f"nobody with the email {args.leader.strip()[:80]} is known; "
                                 "import people first (coach people import FILE.csv)")
            monday = week or digest.last_full_week(now, person.timezone)
            try:
                built = digest.build(db, person, monday, app.playbook, now)
            except digest.DigestRefused as exc:
                raise UsageError(str(exc)) from None
        sentences = asyncio.run(_narrative(app, built)) if app.model.on else None
        if args.json:
            print(json.dumps(built.as_json(sentences), ensure_ascii=False))
        else:
            print(digest.render_text(built, app.playbook, sentences or ()))
        return 0
    finally:
        app.close()


async def _narrative(app: App, built: digest.Digest) -> list[str]:
    assistant = assistant_for(app.settings, app.playbook, app.engine, in_thread, app.clock.now)
    if assistant is None:
        return []
    try:
        return await narrate(assistant, built.narrative_figures())
    finally:
        await assistant.close()
