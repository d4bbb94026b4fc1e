"""Suggested questions for stage L (METHOD §3): at the start of a session the model is
asked, from the rep's ROAM numbers and last session, for a few open questions the manager
could ask the rep (in coaching, the rep's view comes first). The answer arrives as an
``Event`` during stage S or L and is kept; the rep-and-manager views step shows it.
Without a model, or without an answer in time, the step reads as it always did.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from flows.effects import AskModel
from flows.engine import Context, FlowState, Go, Prompt, Retry, Step
from flows.messages import Message

TASK = "questions"
KEY, TOKEN_KEY = "suggested_questions", "questions_token"
MOST, LONGEST = 5, 300


class SuggestionText:
    heading = "Questions you could ask {rep} first:"
    item = "  • {question}"


def ask_for(data: Mapping[str, Any], token: str) -> AskModel:
    """The request at the start of a session: the brief's ROAM and last session."""
    brief = data.get("brief", {}) if isinstance(data.get("brief"), Mapping) else {}
    return AskModel(TASK, token, {"rep": data.get("rep_name", ""), "roam": brief.get("roam", {}),
                                  "last_session": brief.get("last_session") or "none"})


def questions(state: FlowState) -> list[str]:
    raw = state.data.get(KEY)
    if not isinstance(raw, list):
        return []
    return [str(q)[:LONGEST] for q in raw if isinstance(q, str) and q.strip()][:MOST]


def on_questions(shown_at: str) -> Any:
    """The event handler for the steps of stages S and L: keep the questions quietly, or
    show them again at ``shown_at`` (the step whose prompt lists them)."""

    def handle(state: FlowState, payload: Mapping[str, Any], ctx: Context) -> Go | Retry:
        if payload.get("token") is None or payload.get("token") != state.data.get(TOKEN_KEY):
            return Retry("not this request")
        found = payload.get("questions")
        kept = [str(q)[:LONGEST] for q in found if isinstance(q, str) and q.strip()][:MOST] \
            if isinstance(found, list) else []
        if not kept:
            return Go(state.step, {TOKEN_KEY: None}, ask=False)
        return Go(state.step, {TOKEN_KEY: None, KEY: kept}, ask=state.step == shown_at)

    return handle


def listening(step: Step, shown_at: str) -> Step:
    """``step`` also taking the questions when they arrive (it stays where it is)."""
    return replace(step, events=(*step.events, TASK), on_event=on_questions(shown_at),
                   targets=tuple(dict.fromkeys((*step.targets, step.id))))


def showing(prompt: Prompt) -> Prompt:
    """``prompt`` with the suggested questions after its text, when there are any."""

    def shown(state: FlowState, ctx: Context) -> Message:
        message = prompt(state, ctx)
        found = questions(state)
        if not found:
            return message
        rep = state.data.get("rep_name") or "the rep"
        lines = [SuggestionText.heading.format(rep=rep),
                 *(SuggestionText.item.format(question=q) for q in found)]
        return replace(message, text=message.text + "\n\n" + "\n".join(lines))

    return shown
