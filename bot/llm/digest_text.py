"""For the weekly digest and the check-ins: a narrative of three to five sentences on top of
the computed figures (bot/llm/narrator.py puts it on a queued digest), and tagged blockers
from a check-in's free text (asked after the check-in is stored: the check-in flow's
``AskModel("blockers")``, read here, kept by :class:`~bot.llm.assistant.Assistant`). Both are
optional extras: with no model, a failure or an unusable answer, they give nothing and the
digest shows its figures (and counts the check-in's blockers as untagged) as it would anyway.

``narrate`` checks every number of every sentence against the figures and drops a
sentence that has any other; ``extract_blockers`` keeps only blockers that quote the
rep's own words with a known tag.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import prompts
from bot.llm.answers import read_narrative
from bot.llm.assistant import Assistant
from bot.llm.blockers import BLOCKER_TAGS, TASK, Blocker, blockers_prompt, read_tagged
from bot.llm.privacy import redact

MAX_FIGURES = 200  # figures shown to the model at most (a digest has a few dozen)
__all__ = ["BLOCKER_TAGS", "Blocker", "extract_blockers", "figures_text", "narrate"]


def figures_text(figures: Mapping[str, object]) -> str:
    """The figures as "name: value" lines, nested keys joined by dots, for the prompt."""
    lines: list[str] = []

    def walk(prefix: str, value: object, depth: int) -> None:
        if len(lines) >= MAX_FIGURES or depth > 4:
            return
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner, depth + 1)
        elif isinstance(value, list | tuple):
            for index, inner in enumerate(value):
                walk(f"{prefix}[{index}]", inner, depth + 1)
        else:
            lines.append(f"{prefix}: {value}")

    walk("", figures, 0)
    return "\n".join(lines)


async def narrate(assistant: Assistant | None, figures: Mapping[str, object], *,
                  names: Iterable[str] = ()) -> list[str]:
    """Three to five sentences on ``figures`` (the digest's computed figures, plain data);
    every number in a kept sentence is one of the figures. ``names``: people's names that
    may appear in figure labels (redacted before sending). Empty when there is no model
    or no usable answer."""
    if assistant is None or not figures:
        return []
    prompt = prompts.render("narrative", figures=redact(figures_text(figures), names=names))
    asked = await assistant.ask("narrative", prompt,
                                lambda text: read_narrative(text, figures))
    return asked.value or []


async def extract_blockers(assistant: Assistant | None, text: str, *,
                           tags: Iterable[str] = BLOCKER_TAGS, names: Iterable[str] = (),
                           keep: str = "", person_id: int | None = None) -> list[Blocker]:
    """Tagged blockers from a check-in's free ``text`` (redacted before sending: ``names``
    of people, ``keep`` the rep's first name). Empty with no model, no blocker, or an
    unusable answer (the digest then counts the check-in's blocker text as untagged)."""
    if assistant is None or not text.strip():
        return []
    shown = redact(text, names=names, keep=keep)
    allowed = tuple(tags)
    prompt = blockers_prompt(shown, allowed)
    asked = await assistant.ask(TASK, prompt, lambda answer: read_tagged(
        answer, shown, allowed), person_id)
    return asked.value or []

