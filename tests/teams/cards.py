"""Adaptive Card checks for the tests: the 1.5 JSON schema (shipped in tests/fixtures)
and the per-message size limit."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator

from bot.teams.render import CARD_TYPE, MAX_JSON, size

SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "teams" / \
    "adaptive-card-1.5.schema.json"


@cache
def validator() -> Draft6Validator:
    return Draft6Validator(json.loads(SCHEMA.read_text()))


def problems(activity: dict[str, Any]) -> list[str]:
    """What is wrong with an outgoing activity: a card the 1.5 schema refuses, a version
    above 1.5, or JSON over the size limit."""
    found = []
    if size(activity) >= MAX_JSON:
        found.append(f"activity JSON is {size(activity)} characters")
    for attachment in activity.get("attachments") or ():
        if attachment.get("contentType") != CARD_TYPE:
            continue
        card = attachment.get("content") or {}
        if card.get("version") not in ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5"):
            found.append(f"card version {card.get('version')!r}")
        found.extend(f"schema: {e.message} at {list(e.absolute_path)}"
                     for e in validator().iter_errors(card))
    return found
