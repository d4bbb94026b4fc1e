"""Reading what people type, forgivingly: dates, numbers and choices (issue 8 §4).

Pure: a relative date ("next friday", "in 2 weeks") is read against the local time
the caller passes, never against the clock. Each reader returns ``None`` for text it
cannot read, never raises, so that no answer can crash a turn.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time

import dateparser

from flows.messages import Choice

MAX_DATE_CHARS = 60  # "Tuesday 15 December 2026" is 24; longer text is not a date
MAX_NUMBER_CHARS = 40
MAX_INDEX_DIGITS = 3  # "12" picks the 12th choice; 4,300 digits would overflow int()
# A date typed with digits only needs separators ("15/12", "2026-12-15"): a bare "2" is
# a number someone meant for another question, not "the 2nd of next month".
_DIGITS_ONLY_DATE = re.compile(r"^\d{1,4}([-/.])\d{1,2}(\1\d{1,4})?$")
_NUMBER = re.compile(
    r"^(?P<sign>[+-])?(?P<int>\d{1,3}(?:,\d{3})+|\d+)?(?P<frac>\.\d+)?(?P<scale>[km])?$"
)
_SCALE = {"k": 1_000.0, "m": 1_000_000.0}
_CURRENCY = "$€£¥"
_DECORATION = re.compile(r"\s*\([^)]*\)\s*")  # "Coaching (suggested)" → "Coaching"
_SHORT_YES_NO = {"y": "yes", "n": "no"}


def _dateparser_settings(local_now: datetime) -> dict[str, object]:
    return {
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
        "PREFER_DATES_FROM": "future",
        "PREFER_DAY_OF_MONTH": "first",
        "RETURN_AS_TIMEZONE_AWARE": False,
        "STRICT_PARSING": False,
    }


def read_date(text: str, local_now: datetime) -> date | None:
    """A calendar date from ``2026-12-15``, ``Dec 15``, ``next friday``, ``in 2 weeks``...

    ``local_now`` is the person's local time: "tomorrow" is their tomorrow. Dates without
    a year, and weekdays, are taken in the future.
    """
    cleaned = " ".join(unicodedata.normalize("NFKC", text).split())
    if not cleaned or len(cleaned) > MAX_DATE_CHARS:
        return None
    try:
        return date.fromisoformat(cleaned)
    except ValueError:
        pass
    if not any(ch.isalpha() for ch in cleaned) and not _DIGITS_ONLY_DATE.match(cleaned):
        return None
    try:
        with warnings.catch_warnings():  # dateparser warns about its own internals
            warnings.simplefilter("ignore")
            found = dateparser.parse(cleaned, languages=["en"],
                                     settings=_dateparser_settings(local_now))
    except (ValueError, OverflowError, TypeError, KeyError, IndexError, AttributeError):
        # dateparser raises these on some odd inputs; any of them means "not a date"
        return None
    return found.date() if found is not None else None


# "15:00", "3pm", "3:30 pm", "at 9" after a date: the time of day in a "when" answer.
_TIME_OF_DAY = re.compile(
    r"(?:\bat\s+)?\b(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.)"
    r"|(?:\bat\s+)?\b(?P<hour24>\d{1,2}):(?P<minute24>\d{2})\b", re.IGNORECASE)
MAX_WHEN_CHARS = 80


def read_time_of_day(text: str) -> tuple[time | None, str]:
    """A time of day in ``text`` (``15:00``, ``3pm``, ``3:30 pm``) and the text without
    it; ``(None, text)`` when there is none or it is not a real time."""
    found = _TIME_OF_DAY.search(text)
    if found is None:
        return None, text
    if found["hour24"] is not None:
        hour, minute = int(found["hour24"]), int(found["minute24"])
    else:
        hour, minute = int(found["hour"]), int(found["minute"] or 0)
        if not 1 <= hour <= 12:
            return None, text
        hour = hour % 12 + (12 if found["ampm"].casefold().startswith("p") else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None, text
    rest = (text[:found.start()] + " " + text[found.end():]).strip()
    return time(hour, minute), rest


def read_when(text: str, local_now: datetime, default_time: time) -> datetime | None:
    """A local day and time from ``thursday 15:00``, ``tomorrow 3pm``, ``2027-03-18``,
    ``14:30`` (today); the day alone keeps ``default_time``. Naive (the caller's zone);
    ``None`` for text that is not a day and time. Never raises."""
    cleaned = " ".join(unicodedata.normalize("NFKC", text).split())
    if not cleaned or len(cleaned) > MAX_WHEN_CHARS:
        return None
    at, rest = read_time_of_day(cleaned)
    if rest:
        day = read_date(rest, local_now)
        if day is None:
            return None
    elif at is not None:
        day = local_now.date()
    else:
        return None
    return datetime.combine(day, at or default_time)


OFF_WORDS = frozenset({"off", "back", "none", "clear", "no", "stop"})


def read_away(text: str, local_now: datetime) -> date | bool | None:
    """``/away``'s argument: the last day away (a date, ``friday``, ``in 2 weeks``), or
    ``False`` for "I am back" (``off``, ``back``); ``None`` when it is neither."""
    cleaned = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    cleaned = cleaned.removeprefix("until ").removeprefix("till ").strip()
    if cleaned in OFF_WORDS:
        return False
    return read_date(cleaned, local_now)


def read_number(text: str) -> float | None:
    """A number from ``14%``, ``62,000``, ``62k``, ``$1.5m``, ``1.5`` (finite only)."""
    # NFC, not NFKC: "²" is not a 2. Decimal digits of any script ("٣", "３") are numbers.
    cleaned = unicodedata.normalize("NFC", text).strip().casefold().replace(" ", "")
    if not cleaned or len(cleaned) > MAX_NUMBER_CHARS:
        return None
    cleaned = cleaned.lstrip(_CURRENCY).removesuffix("%")
    found = _NUMBER.match(cleaned)
    if found is None or not (found["int"] or found["frac"]):
        return None
    digits = (found["int"] or "0").replace(",", "") + (found["frac"] or "")
    value = float(digits) * _SCALE.get(found["scale"] or "", 1.0)
    return -value if found["sign"] == "-" else value


def stored_number(value: float) -> str:
    """The one way a number is kept in a stored answer: ``62000``, ``1.5``."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def number_text(value: float) -> str:
    """The one way a number is shown to people: ``62,000``, ``14``, ``1.5``, ``0.25``."""
    value = float(value)
    if value.is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def date_text(day: date) -> str:
    """A date as people read it: ``Tuesday 15 December 2026``."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def _folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _names(choice: Choice) -> list[str]:
    """Every way a person may name ``choice``: id, label, label without "(...)", aliases."""
    plain = _DECORATION.sub(" ", choice.label)
    names = [choice.id, choice.label, plain, *choice.also]
    return [n for n in (_folded(x) for x in names) if n]


def match_choice(choices: Sequence[Choice], text: str) -> str | None:
    """The id of the choice ``text`` names: its number, id, label (decorations like
    "(suggested)" ignored), an alias, ``y``/``n``, or a prefix that fits only one."""
    wanted = _folded(text)
    if not wanted:
        return None
    # A number picks by position only when written with decimal digits: "²" and "①" pass
    # str.isdigit() (and NFKC turns them into "2" and "1") but nobody numbers a choice so.
    typed = text.strip()
    if typed.isdecimal() and len(typed) <= MAX_INDEX_DIGITS:
        index = int(typed)
        return choices[index - 1].id if 1 <= index <= len(choices) else None
    if wanted.isdecimal():
        return None
    exact = _unique(c.id for c in choices if wanted in _names(c))
    if exact is not None:
        return exact
    short = _SHORT_YES_NO.get(wanted)
    if short is not None and any(c.id == short for c in choices):
        return short
    return _unique(c.id for c in choices if any(n.startswith(wanted) for n in _names(c)))


def _unique(ids: Iterable[str]) -> str | None:
    found = list(dict.fromkeys(ids))
    return found[0] if len(found) == 1 else None
