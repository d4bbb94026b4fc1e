"""The model's answers, read strictly: JSON validated with pydantic, then checked against
what was asked (question ids that exist, numbers that were in the input). Anything else
is :class:`Rejected` with a reason for the request log, and the plain flow goes on.

Every reader here takes any text at all and either returns a clean value or Rejected;
none raises (the property tests in tests/llm hold them to it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_TEXT = 20_000  # characters of an answer read at all
NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?")
# Numbers written as words, for the digest's check ("twelve items"); "one" is left out: it
# is mostly not a figure ("one behaviour", "no one").
NUMBER_WORDS = {w: i for i, w in enumerate((
    "zero", "_", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen", "twenty")) if w != "_"}
NUMBER_WORDS |= {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
                 "eighty": 80, "ninety": 90, "hundred": 100, "half": 50, "dozen": 12}
WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True, slots=True)
class Rejected:
    """An answer that cannot be used; ``outcome`` goes to the request log."""

    outcome: Literal["empty", "invalid_json", "wrong_shape", "unknown_ids", "invented_numbers",
                     "nothing_usable"]
    detail: str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class TriageProposal(_Strict):
    question: str = Field(min_length=1, max_length=80)
    answer: Literal["yes", "no"]
    reason: str = Field(min_length=1, max_length=300)


class TriageAnswer(_Strict):
    answers: list[TriageProposal] = Field(min_length=1, max_length=60)


class QuestionsAnswer(_Strict):
    questions: list[str] = Field(min_length=1, max_length=8)


class DraftAction(_Strict):
    description: str = Field(min_length=1, max_length=300)
    owner: Literal["rep", "manager"]
    due: date


class SummaryAnswer(_Strict):
    summary: str = Field(min_length=1, max_length=1500)
    actions: list[DraftAction] = Field(default_factory=list, max_length=5)


class NarrativeAnswer(_Strict):
    sentences: list[str] = Field(min_length=1, max_length=8)


class BlockerItem(_Strict):
    tag: str = Field(min_length=1, max_length=40)
    quote: str = Field(min_length=1, max_length=300)


class BlockersAnswer(_Strict):
    blockers: list[BlockerItem] = Field(default_factory=list, max_length=20)


SCHEMAS: dict[str, dict[str, Any]] = {
    "triage": TriageAnswer.model_json_schema(),
    "questions": QuestionsAnswer.model_json_schema(),
    "summary": SummaryAnswer.model_json_schema(),
    "narrative": NarrativeAnswer.model_json_schema(),
    "blockers": BlockersAnswer.model_json_schema(),
}


def json_of(text: str) -> Any | Rejected:
    """The JSON value in ``text``: the whole of it, or the object inside a ```json fence
    or between its first "{" and last "}" (servers without JSON mode add prose)."""
    if not isinstance(text, str) or not text.strip():
        return Rejected("empty", "no text")
    text = text[:MAX_TEXT]
    candidates = [text.strip()]
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    if fenced:
        candidates.append(fenced.group(1).strip())
    first, last = text.find("{"), text.rfind("}")
    if 0 <= first < last:
        candidates.append(text[first:last + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except (ValueError, RecursionError):
            continue
    return Rejected("invalid_json", text[:80])


def _validated[M: BaseModel](model: type[M], text: str) -> M | Rejected:
    raw = json_of(text)
    if isinstance(raw, Rejected):
        return raw
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid"}
        where = ".".join(str(p) for p in first["loc"])
        return Rejected("wrong_shape", f"{where}: {first['msg']}"[:200])
    except (RecursionError, ValueError) as exc:
        return Rejected("wrong_shape", type(exc).__name__)


def numbers_in(text: str, *, words: bool = False) -> set[str]:
    """The numbers written in ``text``, normalised ("62,000" → "62000", "14.0" → "14");
    with ``words``, also those written as words ("twelve" → "12")."""
    found: set[str] = set()
    if words:
        found |= {str(NUMBER_WORDS[w]) for w in WORD.findall(text.lower()) if w in NUMBER_WORDS}
    for raw in NUMBER.findall(text):
        found.add(_plain(raw.lstrip("+-").replace(",", "")))
    return found


def _plain(digits: str) -> str:
    """A number as one canonical string: no exponent, no trailing zeros ("14.50" → "14.5")."""
    return format(Decimal(digits).normalize(), "f")


def invented(text: str, known: Collection[str], *, words: bool = False) -> set[str]:
    """Numbers in ``text`` that are not among ``known`` (normalised by :func:`numbers_in`)."""
    return numbers_in(text, words=words) - set(known)


# Triage -------------------------------------------------------------------------------------

Proposals = dict[str, tuple[bool, str]]


def read_triage(text: str, question_ids: Collection[str], known_numbers: Collection[str]
                ) -> Proposals | Rejected:
    """Question id → (answer, reason). An id the chart does not have, or a reason with a
    number the input did not contain, rejects the whole answer: a model that invents one
    thing is not trusted with the rest."""
    parsed = _validated(TriageAnswer, text)
    if isinstance(parsed, Rejected):
        return parsed
    unknown = sorted({p.question for p in parsed.answers} - set(question_ids))
    if unknown:
        return Rejected("unknown_ids", ", ".join(unknown)[:200])
    made_up = sorted(set().union(*(invented(p.reason, known_numbers) for p in parsed.answers)))
    if made_up:
        return Rejected("invented_numbers", ", ".join(made_up)[:200])
    proposals: Proposals = {}
    for p in parsed.answers:  # the first answer to a question counts
        proposals.setdefault(p.question, (p.answer == "yes", " ".join(p.reason.split())))
    return proposals


# Suggested questions (stage L) ----------------------------------------------------------------

def read_questions(text: str, known_numbers: Collection[str]) -> list[str] | Rejected:
    """Three to five questions to ask the rep; one with an invented number is dropped."""
    parsed = _validated(QuestionsAnswer, text)
    if isinstance(parsed, Rejected):
        return parsed
    kept = [" ".join(q.split())[:300] for q in parsed.questions
            if q.strip() and not invented(q, known_numbers)]
    return kept[:5] if kept else Rejected("nothing_usable", "every question was dropped")


# Summary and draft actions (stage D) ----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Draft:
    summary: str
    actions: tuple[DraftAction, ...]


def read_summary(text: str, known_numbers: Collection[str], today: date,
                 horizon_days: int = 60) -> Draft | Rejected:
    """A summary with no invented number; actions due from today to ``horizon_days`` on
    (others dropped: a date in the past or far off is a guess)."""
    parsed = _validated(SummaryAnswer, text)
    if isinstance(parsed, Rejected):
        return parsed
    made_up = invented(parsed.summary, known_numbers)
    if made_up:
        return Rejected("invented_numbers", ", ".join(sorted(made_up))[:200])
    last = today + timedelta(days=horizon_days)
    actions = tuple(a for a in parsed.actions
                    if today <= a.due <= last and not invented(a.description, known_numbers))
    return Draft(" ".join(parsed.summary.split()), actions)


# Digest narrative -----------------------------------------------------------------------------

def read_narrative(text: str, figures: Mapping[str, object], *, most: int = 5
                   ) -> list[str] | Rejected:
    """Sentences whose every number is one of ``figures``' values; any other sentence is
    dropped, and fewer than one left is Rejected."""
    parsed = _validated(NarrativeAnswer, text)
    if isinstance(parsed, Rejected):
        return parsed
    known = figure_numbers(figures)
    kept = [" ".join(s.split()) for s in parsed.sentences
            if s.strip() and not invented(s, known, words=True)]
    return kept[:most] if kept else Rejected("invented_numbers", "every sentence was dropped")


def figure_numbers(figures: Mapping[str, object]) -> set[str]:
    """The numbers the figures hold, as :func:`numbers_in` writes them (a share 0.25 also
    as 25, since a sentence says "25%")."""
    known: set[str] = set()
    for value in _leaves(figures):
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            known |= numbers_in(_written(value))
            if isinstance(value, float) and 0 <= value <= 1:
                known |= numbers_in(_written(value * 100)) | numbers_in(f"{round(value * 100)}")
            if isinstance(value, float):
                known |= numbers_in(_written(round(value, 1))) | numbers_in(f"{round(value)}")
        elif isinstance(value, str):
            known |= numbers_in(value)
    return known


def _written(value: float) -> str:
    """A figure as a sentence would write it: plain digits, never an exponent."""
    return format(Decimal(repr(value)), "f") if isinstance(value, float) else str(value)


def _leaves(value: object, depth: int = 0) -> Iterable[object]:
    if depth > 8:
        return
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _leaves(v, depth + 1)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _leaves(v, depth + 1)
    else:
        yield value


# Blockers (check-ins) -------------------------------------------------------------------------

def read_blockers(text: str, source: str, tags: Collection[str]) -> list[BlockerItem] | Rejected:
    """Tagged blockers whose quote is in the rep's own ``source`` text (case and spacing
    aside) and whose tag is one of ``tags``; an empty list is a fine answer."""
    parsed = _validated(BlockersAnswer, text)
    if isinstance(parsed, Rejected):
        return parsed
    said = " ".join(source.split()).casefold()
    kept = [b for b in parsed.blockers
            if b.tag in tags and " ".join(b.quote.split()).casefold() in said]
    if parsed.blockers and not kept:
        return Rejected("nothing_usable", "no blocker quoted the text with a known tag")
    return kept
