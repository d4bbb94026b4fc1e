"""Feedback names behaviour, not character (METHOD §5).

One checker shared by field training and sales coaching: a short list of
labels that describe who someone is rather than what they did.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from flows.engine import Retry


class T:
    """Every sentence the checker says, in one place."""

    rejected = (
        "{where}: “{word}” describes who {rep} is, not what {rep} did. Feedback lands "
        "when it names a behaviour you saw or heard and its effect, for example "
        "“you moved to price before asking about budget on two of three calls”. "
        "Please reword it."
    )


CHARACTER_LABELS = (
    "lazy", "stupid", "careless", "incompetent", "unmotivated", "arrogant", "useless",
    "hopeless", "sloppy", "clueless", "dumb", "idiot", "bad attitude", "negative attitude",
    "you are a", "you're a", "you are an", "you're an", "you are so", "you're so",
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def _pattern(labels: Iterable[str]) -> re.Pattern[str]:
    words = sorted(labels, key=len, reverse=True)
    alternatives = "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


_LABELS = _pattern(CHARACTER_LABELS)


def character_label(text: str) -> str | None:
    """The first character label in ``text`` (as written), or ``None``."""
    found = _LABELS.search(text.translate(_APOSTROPHES))
    return text[found.start():found.end()] if found else None


def check_behaviour(
    values: Mapping[str, str], labels: Mapping[str, str], rep: str
) -> Retry | None:
    """A kind :class:`Retry` when any field in ``labels`` names character."""
    for field_id, where in labels.items():
        word = character_label(values.get(field_id, ""))
        if word is not None:
            return Retry(T.rejected.format(where=where, word=word, rep=rep))
    return None
