"""``coach teams package``: the Teams app package to upload (Teams admin center, the
Developer Portal, or "Upload a custom app"): ``manifest.json`` (schema 1.17) with the bot
id, personal and team scopes and the bot's command menu, and the two icons, zipped.

The command menu is derived from bot/command_table.py (the one home of commands): every
command listed for Teams, typed there without its slash (``coach Alice``)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

from PIL import Image, ImageDraw

from bot import command_table

MANIFEST_VERSION = "1.17"
SCHEMA = (f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/"
          "MicrosoftTeams.schema.json")
APP_VERSION = "1.0.0"
ACCENT = "#1F6F5C"
COLOR_SIZE, OUTLINE_SIZE = 192, 32
MAX_COMMANDS = 10  # per command list, as Teams allows
DEFAULT_SITE = "https://example.com"  # developer pages when no --domain is given
SHORT_DESCRIPTION = "SLED coaching sessions, the solution chart and weekly check-ins."
FULL_DESCRIPTION = (
    "smOS Coach runs the sales management operating system with your team: managers run "
    "SLED coaching sessions with their reps (set the stage, lead the analysis, explore "
    "solutions with the solution chart, develop the action plan), reps answer weekly "
    "check-ins, and leaders get the digest of their whole reporting tree.")


class PackageError(ValueError):
    """A package that cannot be built: the message says what to set."""


def commands() -> list[dict[str, str]]:
    """The bot's command menu: the commands people may type on Teams, from the table, in its
    order; Teams shows at most MAX_COMMANDS, so past that the last place is kept for help."""
    listed = [c for c in command_table.COMMANDS if c.listed and "teams" in c.surfaces]
    if len(listed) > MAX_COMMANDS:
        help_command = command_table.BY_NAME["help"]
        listed = [c for c in listed if c is not help_command][:MAX_COMMANDS - 1]
        listed.append(help_command)
    return [{"title": c.name, "description": c.summary[:128]} for c in listed]


def manifest(app_id: str, domain: str | None = None) -> dict[str, Any]:
    try:
        uuid.UUID(app_id)
    except ValueError:
        raise PackageError(f"TEAMS_APP_ID must be the bot's Microsoft app id, a GUID "
                           f"(got {app_id!r})") from None
    site = f"https://{domain}" if domain else DEFAULT_SITE
    menu = commands()
    return {
        "$schema": SCHEMA, "manifestVersion": MANIFEST_VERSION, "version": APP_VERSION,
        "id": app_id,
        "developer": {"name": "smOS Coach", "websiteUrl": f"{site}/",
                      "privacyUrl": f"{site}/privacy", "termsOfUseUrl": f"{site}/terms"},
        "name": {"short": "smOS Coach", "full": "smOS Coach: sales coaching"},
        "description": {"short": SHORT_DESCRIPTION, "full": FULL_DESCRIPTION},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT,
        "bots": [{"botId": app_id, "scopes": ["personal", "team"], "supportsFiles": False,
                  "isNotificationOnly": False,
                  "commandLists": [{"scopes": ["personal"], "commands": menu},
                                   {"scopes": ["team"], "commands": menu}]}],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [d for d in (domain, "token.botframework.com") if d],
    }


def color_icon() -> bytes:
    """192×192, full colour: a white "C" on the accent colour."""
    image = Image.new("RGBA", (COLOR_SIZE, COLOR_SIZE), ACCENT)
    draw = ImageDraw.Draw(image)
    draw.arc((40, 40, 152, 152), start=45, end=315, fill="white", width=22)
    return _png(image)


def outline_icon() -> bytes:
    """32×32, white on transparent (Teams tints it): the same "C"."""
    image = Image.new("RGBA", (OUTLINE_SIZE, OUTLINE_SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.arc((5, 5, 27, 27), start=45, end=315, fill=(255, 255, 255, 255), width=4)
    return _png(image)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def package(app_id: str, domain: str | None = None) -> bytes:
    """The zip to upload: manifest.json and the two icons at its root."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest(app_id, domain), indent=2))
        archive.writestr("color.png", color_icon())
        archive.writestr("outline.png", outline_icon())
    return out.getvalue()
