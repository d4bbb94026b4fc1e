"""The console protocol (``coach chat --jsonl``): one JSON object per line, each way.

Input: {"say": ...} | {"choose": ...} | {"submit": {...}} | {"as": email} | {"clock": iso}.
Output: one line per bot message, then {"done": true}; a bad line gives {"error": ...}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flows.messages import Choose, Input, Message, Say, Submit, message_to_json

MAX_LINE = 100_000
PROTOCOL_FIELD_KEYS = ("id", "label", "kind", "required", "options")


class BadLine(ValueError):
    """An input line that is not a valid protocol object; the message says why."""


@dataclass(frozen=True, slots=True)
class SwitchUser:
    email: str


@dataclass(frozen=True, slots=True)
class SetClock:
    when: datetime


Line = Input | SwitchUser | SetClock


def parse_line(line: str) -> Line:
    if len(line) > MAX_LINE:
        raise BadLine(f"line is {len(line):,} characters; the limit is {MAX_LINE:,}")
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadLine(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict) or len(obj) != 1:
        raise BadLine('expected an object with exactly one key: "say", "choose", "submit", '
                      '"as" or "clock"')
    ((key, value),) = obj.items()
    if key in ("say", "choose", "as", "clock") and not isinstance(value, str):
        raise BadLine(f'"{key}" takes a string')
    if key == "say":
        return Say(value)
    if key == "choose":
        return Choose(value)
    if key == "as":
        return SwitchUser(value.strip().lower())
    if key == "clock":
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise BadLine('"clock" takes an ISO time like 2026-12-04T16:00:00-05:00') from None
        if when.tzinfo is None:
            raise BadLine('"clock" needs a UTC offset, like 2026-12-04T16:00:00-05:00')
        return SetClock(when)
    if key == "submit":
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise BadLine('"submit" takes an object of field id → value')
        if not all(isinstance(v, str | int | float) and not isinstance(v, bool)
                   for v in value.values()):
            raise BadLine('"submit" values must be text or numbers')
        return Submit({k: str(v) for k, v in value.items()})
    raise BadLine(f'unknown key "{key}"; use "say", "choose", "submit", "as" or "clock"')


def render(message: Message, actor: str) -> dict[str, Any]:
    """One output line: the fields the protocol names, ``leaf`` only on the chart's result."""
    data = message_to_json(message)
    form = data["form"]
    out: dict[str, Any] = {
        "to": message.to or actor,
        "text": data["text"],
        "flow": data["flow"],
        "step": data["step"],
        "choices": data["choices"],
        "form": None if form is None else {
            "id": form["id"],
            "fields": [_field(f) for f in form["fields"]],
        },
    }
    if message.leaf:
        out["leaf"] = message.leaf
    return out


def _field(raw: dict[str, Any]) -> dict[str, Any]:
    """A form field as the protocol names it; ``value`` only when the field is already
    filled in (after /back, or when a form comes back to be fixed)."""
    out = {k: raw[k] for k in PROTOCOL_FIELD_KEYS}
    if raw.get("value"):
        out["value"] = raw["value"]
    return out


def dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
