"""``coach teams package``: write the Teams app package (a zip) to upload."""

from __future__ import annotations

import argparse
import re

from bot.cli.errors import UsageError
from bot.settings import load_settings

HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def write_package(args: argparse.Namespace) -> int:
    from bot.teams.package import PackageError, package

    settings = load_settings()
    if not settings.teams_app_id:
        raise UsageError("set TEAMS_APP_ID (the Azure Bot's Microsoft app id) first")
    domain = (args.domain or "").strip().lower() or None
    if domain is not None and not HOST.match(domain):
        raise UsageError(f"--domain must be a host name like coach.example.com "
                         f"(got {args.domain!r})")
    try:
        data = package(settings.teams_app_id, domain)
    except PackageError as exc:
        raise UsageError(str(exc)) from None
    try:
        args.out.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    print(f"Wrote {args.out}: upload it in Teams (Apps → Manage your apps → Upload an app).")
    return 0
