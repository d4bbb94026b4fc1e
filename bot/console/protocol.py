"""The console protocol (``coach chat --jsonl``): one JSON object per line, each way.

Input: {"say": ...} | {"choose": ...} | {"submit": {...}} | {"as": email} | {"clock": iso};
say, choose and submit may also carry {"step": id}: the step the answer is meant for.
Output: one line per bot message, then {"done": true}; a bad line gives {"error": ...}.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.channels.local import ScheduledLabel
from flows.messages import Choose, Input, Message, Say, Submit, message_to_json

MAX_LINE = 100_000
QUOTED = 40  # characters of an unknown key quoted back in an error
PROTOCOL_FIELD_KEYS = ("id", "label", "kind", "required", "options")
INPUT_KEYS = ("say", "choose", "submit")
KEYS = (*INPUT_KEYS, "as", "clock")
# The clock stays far from datetime's limits, so any date arithmetic on it cannot overflow.
EARLIEST_CLOCK = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_CLOCK = datetime(9000, 1, 1, tzinfo=UTC)
NOT_TEXT = "is not valid text (a lone surrogate \\ud800-\\udfff, or bytes that are not UTF-8)"
EXPECTED = ('expected an object with exactly one key of "say", "choose", "submit", "as" or '
            '"clock" (besides an optional "step" with say, choose or submit)')


class BadLine(ValueError):
    """An input line that is not a valid protocol object; the message says why."""


@dataclass(frozen=True, slots=True)
class Answer:
    """Input for the conversation; ``step``, when given, is the step it is meant for
    (the runner refuses it at any other step, as it refuses a stale button)."""

    given: Input
    step: str | None = None


@dataclass(frozen=True, slots=True)
class SwitchUser:
    email: str


@dataclass(frozen=True, slots=True)
class SetClock:
    when: datetime


Line = Answer | SwitchUser | SetClock


def parse_line(line: str) -> Line:
    """One input line, or :class:`BadLine` saying what is wrong with it (nothing else)."""
    if len(line) > MAX_LINE:
        raise BadLine(f"line is {len(line):,} characters; the limit is {MAX_LINE:,}")
    obj = _json(line)
    if not isinstance(obj, dict):
        raise BadLine(EXPECTED)
    unknown = [key for key in obj if key not in (*KEYS, "step")]
    if unknown:
        raise BadLine(f"unknown key {quote(unknown[0])}; {EXPECTED}")
    keys = [key for key in obj if key != "step"]
    if len(keys) != 1:
        raise BadLine(EXPECTED)
    key, value = keys[0], obj[keys[0]]
    step = _step(obj) if "step" in obj else None
    if key == "submit":
        return Answer(Submit(_fields(value)), step)
    if key in INPUT_KEYS:
        text = _text(key, value)
        return Answer(Say(text) if key == "say" else Choose(text), step)
    if step is not None:
        raise BadLine(f'"step" goes with "say", "choose" or "submit", not "{key}"')
    if key == "as":
        email = _text(key, value).strip().lower()
        if not email:
            raise BadLine('"as" takes an email')
        return SwitchUser(email)
    return SetClock(_clock(_text(key, value)))


def _json(line: str) -> object:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadLine(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise BadLine("the JSON nests too deeply") from None
    except ValueError:  # Python reads at most 4,300 digits of an integer
        raise BadLine("a number in the line has too many digits") from None


def _text(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise BadLine(f'"{key}" takes a string')
    if not _is_unicode(value):
        raise BadLine(f'"{key}" {NOT_TEXT}')
    return value


def _step(obj: dict[str, Any]) -> str:
    step = obj["step"]
    if not isinstance(step, str) or not step or not _is_unicode(step):
        raise BadLine('"step" takes a step id, like "Q04_knows_gap"')
    return step


def _fields(value: object) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise BadLine('"submit" takes an object of field id → value')
    fields: dict[str, str] = {}
    for field_id, given in value.items():
        if isinstance(given, float) and not math.isfinite(given):
            raise BadLine('"submit" numbers must be finite')
        if not isinstance(given, str | int | float) or isinstance(given, bool):
            raise BadLine('"submit" values must be text or numbers')
        if not _is_unicode(field_id) or (isinstance(given, str) and not _is_unicode(given)):
            raise BadLine(f'"submit" {NOT_TEXT}')
        fields[field_id] = str(given)
    return fields


def _clock(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise BadLine('"clock" takes an ISO time like 2026-12-04T16:00:00-05:00') from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise BadLine('"clock" needs a UTC offset, like 2026-12-04T16:00:00-05:00')
    try:
        in_utc = when.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 pushed past datetime's range by the offset
        in_utc = None
    if in_utc is None or not EARLIEST_CLOCK <= in_utc < LATEST_CLOCK:
        raise BadLine(f'"clock" must be between {EARLIEST_CLOCK.year} and {LATEST_CLOCK.year}')
    return when


def _is_unicode(text: str) -> bool:
    """False for a lone surrogate, which JSON can spell (\\ud800) but UTF-8 cannot write."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def quote(text: str, limit: int = QUOTED) -> str:
    """A short, printable quotation of untrusted text for an error message."""
    shown = json.dumps(text[:limit])  # ASCII: escapes control characters and surrogates
    return shown + ("…" if len(text) > limit else "")


def render(message: Message, actor: str, scheduled: ScheduledLabel | None = None) -> dict[str, Any]:
    """One output line: the fields the protocol names, ``leaf`` only on the chart's result,
    and ``kind``, ``at`` and ``key`` on a message the operating rhythm sent."""
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
    if scheduled is not None:
        out.update(kind=scheduled.kind, at=scheduled.at, key=scheduled.key)
    return out


def _field(raw: dict[str, Any]) -> dict[str, Any]:
    """A form field as the protocol names it; ``value`` only when the field is already
    filled in (after /back, or when a form comes back to be fixed, or a proposal); ``hint``
    only when it has one (a proposal's reason)."""
    out = {k: raw[k] for k in PROTOCOL_FIELD_KEYS}
    if raw.get("value"):
        out["value"] = raw["value"]
    if raw.get("hint"):
        out["hint"] = raw["hint"]
    return out


# Line breaks to Unicode (and to str.splitlines) that JSON leaves raw inside strings.
_LINE_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def dump(obj: dict[str, Any]) -> str:
    """One output line, on one line for any reader; what UTF-8 cannot write (a lone
    surrogate) is \\u-escaped."""
    line = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).translate(_LINE_BREAKS)
    return line if _is_unicode(line) else json.dumps(obj, separators=(",", ":"))
