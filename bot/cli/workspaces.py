"""``coach slack link`` and ``coach slack workspaces``: which Slack workspaces may reach
the organisation's people."""

from __future__ import annotations

import argparse

from bot.cli.audit import cli_actor
from bot.cli.errors import UsageError
from bot.cli.opening import open_app
from storage import audit, tenancy


def link_workspace(args: argparse.Namespace) -> int:
    workspace = args.workspace.strip()
    if not workspace.isalnum() or not workspace.isascii() or len(workspace) > 64:
        raise UsageError(f"{args.workspace!r} is not a Slack team or enterprise id "
                         "(like T0123ABCD)")
    app = open_app()
    try:
        with app.sessions.begin() as db:
            result = tenancy.link(db, tenancy.DEFAULT_ORG, "slack", workspace, app.clock.now())
            if result == "linked":
                audit.record(db, at=app.clock.now(), actor=cli_actor(app.settings),
                             action="workspace.link", subject=f"slack:{workspace}",
                             org_id=tenancy.DEFAULT_ORG)
        if result == "elsewhere":
            raise UsageError(f"Slack workspace {workspace} belongs to another organisation")
        print(f"Slack workspace {workspace} "
              f"{'linked' if result == 'linked' else 'was already linked'}.")
        return 0
    finally:
        app.close()


def list_workspaces(args: argparse.Namespace) -> int:
    app = open_app()
    try:
        with app.sessions() as db:
            for workspace in tenancy.workspaces_of(db, tenancy.DEFAULT_ORG, "slack"):
                print(workspace)
        return 0
    finally:
        app.close()
