"""What leaves for a language model: emails, phone numbers and people's names redacted
(the rep's first name kept, so the text still reads), before any request is built."""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers

EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
PHONE_REGION = "US"  # numbers written without a country code are read as North American
MIN_NAME = 2  # one-letter initials are not redacted (they would eat every "a")
# What the phonenumbers matcher lets slip (a number run into other digits, "+1 212 555 0199
# 0"): a leading "+" or three or more digit groups joined by phone separators, with 9
# digits or more in all (an ISO date has 8; "62,000" uses a comma, not a phone separator).
# Privacy first: two dates in a row go too.
PHONE_LIKE = re.compile(r"(?<![\w.,])(?:\+\d[\d ().-]{6,}\d"
                        r"|\(?\d{2,5}\)?(?:[ .-]\(?\d{1,5}\)?){2,})(?![\w])")
PHONE_DIGITS = 9


class Redacted:
    """The placeholders that stand in for what was taken out."""

    email = "[email]"
    phone = "[phone]"
    name = "[name]"


def redact(text: str, *, names: Iterable[str] = (), keep: str = "") -> str:
    """``text`` without email addresses, phone numbers and any of ``names`` (whole names
    and each of their parts), except ``keep`` (the rep's first name)."""
    text = EMAIL.sub(Redacted.email, text)
    text = _without_phones(text)
    words = _name_words(names, keep)
    if words:
        pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)",
                             re.IGNORECASE | re.UNICODE)
        text = pattern.sub(Redacted.name, text)
    return text


def _without_phones(text: str) -> str:
    found = list(phonenumbers.PhoneNumberMatcher(text, PHONE_REGION,
                                                 leniency=phonenumbers.Leniency.POSSIBLE))
    for match in reversed(found):
        text = text[:match.start] + Redacted.phone + text[match.end:]

    def phone_like(match: re.Match[str]) -> str:
        digits = sum(ch.isdigit() for ch in match.group())
        return Redacted.phone if digits >= PHONE_DIGITS else match.group()

    return PHONE_LIKE.sub(phone_like, text)


def _name_words(names: Iterable[str], keep: str) -> list[str]:
    """Every name and each of its words, longest first (so "Ann Lee" goes before "Ann")."""
    kept = keep.strip().casefold()
    words: set[str] = set()
    for name in names:
        whole = " ".join(name.split())
        parts = {p.casefold() for p in whole.split()}
        if len(whole) >= MIN_NAME and kept not in parts:
            words.add(whole)
        for part in whole.split():
            part = part.strip(".,'\"()")
            if len(part) >= MIN_NAME and part.casefold() != kept:
                words.add(part)
    return sorted(words, key=lambda w: (-len(w), w))
