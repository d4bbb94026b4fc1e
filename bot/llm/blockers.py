"""Check-in blockers for the model: the tags, the prompt for a (redacted) check-in text, and
the reader that keeps only blockers quoting that text with a known tag. Shared by the
check-in's request (bot/llm/requests.py, answered by the Assistant) and
:func:`bot.llm.digest_text.extract_blockers`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import prompts
from bot.llm.answers import Rejected, read_blockers

TASK = "blockers"  # the prompt, the JSON schema's name and the check-in's AskModel
BLOCKER_TAGS = ("leads", "tools", "pricing", "approvals", "time", "skills", "customer",
                "product", "personal", "other")


@dataclass(frozen=True, slots=True)
class Blocker:
    """One blocker a rep named: its tag (what the digest counts) and their own words."""

    tag: str
    quote: str


def blockers_prompt(shown: str, tags: Iterable[str] = BLOCKER_TAGS) -> str:
    """The blockers prompt for ``shown`` (a check-in's text, already redacted)."""
    return prompts.render(TASK, tags=", ".join(tags), text=shown)


def read_tagged(answer: str, shown: str, tags: Iterable[str] = BLOCKER_TAGS
                ) -> list[Blocker] | Rejected:
    """The model's ``answer`` as blockers quoting ``shown`` (the text it was sent)."""
    found = read_blockers(answer, shown, tuple(tags))
    if isinstance(found, Rejected):
        return found
    return [Blocker(b.tag, " ".join(b.quote.split())) for b in found]
