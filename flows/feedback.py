"""Feedback names behaviour, not character (METHOD §5).

One checker shared by field training and sales coaching. It looks for the usual
ways a note slides from what someone did to who they are: a character label
("lazy", "a total slacker", "unprofessional"), a sweeping "never prepares",
"has a bad attitude", "is just not a closer". A behaviour statement ("skipped the
discovery questions on two calls") names no label and passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from flows.engine import Retry


class FeedbackText:
    """Every sentence the checker says, in one place."""

    rejected = (
        "{where}: “{word}” describes who {rep} is, not what {rep} did. Feedback lands "
        "when it names a behaviour you saw or heard and its effect, for example "
        "“you moved to price before asking about budget on two of three calls”. "
        "Please reword it."
    )


# Words that label a person (adjectives and nouns), whatever verb or intensifier comes first.
CHARACTER_LABELS = (
    "lazy", "stupid", "careless", "incompetent", "unmotivated", "arrogant", "useless",
    "hopeless", "sloppy", "clueless", "dumb", "idiot", "bad attitude", "negative attitude",
    "poor attitude", "wrong attitude", "attitude problem", "slacker", "unprofessional",
    "disorganized", "disorganised", "unreliable", "irresponsible", "undisciplined",
    "immature", "entitled", "selfish", "rude", "pushy", "flaky", "apathetic", "loser",
    "lacks motivation", "lacks drive", "lacks confidence", "lacks discipline",
    "no work ethic", "no drive", "no hustle", "no ambition", "no backbone",
    "doesn't care", "does not care", "not cut out", "not a team player",
    "you are a", "you're a", "you are an", "you're an", "you are so", "you're so",
)
# Sentence shapes that turn a moment into a trait.
CHARACTER_SHAPES = (
    # "never prepares", "never listens": one missed step becomes who they are
    r"never\s+(?!been\b)[a-z]+",
    # "always late", "always making excuses"
    r"always\s+(?:late|behind|unprepared|making\s+excuses|complaining|negative|distracted)",
    # "a total slacker", "a complete mess", "a real problem" (but "a total of 12 calls")
    r"an?\s+(?:total|complete|real|typical|born|natural|hopeless)\s+(?!of\b)[a-z]+",
    # "is just not a closer", "just not a people person", "simply not a hunter"
    r"(?:(?:is|are|'s|'re)\s+(?:just\s+|simply\s+)?|just\s+|simply\s+)not\s+an?\s+[a-z]+",
    # "has a bad attitude" is above; "has no idea", "has no clue"
    r"ha(?:s|ve)\s+no\s+(?:idea|clue|sense|talent)",
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def _pattern(labels: Iterable[str], shapes: Iterable[str]) -> re.Pattern[str]:
    words = sorted(labels, key=len, reverse=True)
    alternatives = [r"\s+".join(map(re.escape, w.split())) for w in words]
    return re.compile(rf"\b(?:{'|'.join([*shapes, *alternatives])})\b", re.IGNORECASE)


_LABELS = _pattern(CHARACTER_LABELS, CHARACTER_SHAPES)


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
            return Retry(FeedbackText.rejected.format(where=where, word=word, rep=rep))
    return None
