"""Resolving an escalation from the inbox (/escalations): one form, the resolution note.

Acknowledging and reassigning need no answers of their own (bot/services/escalations.py
does them at once); resolving asks what was done, so the rep's manager and the digest
can read how a systemic problem was handled (METHOD §8).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flows.effects import ResolveEscalation
from flows.engine import END, Answer, Context, Flow, FlowState, Go, Outcome, Step, as_mapping, begin
from flows.messages import Field, Form, Message
from flows.playbook import Playbook
from flows.spec import FlowSpec, nobody

NAME = "escalation"


class EscalationText:
    """Every sentence this flow says, in one place."""

    title = "Resolve an escalation"
    ask = "Resolve the escalation {about}: what was done about it?"
    note = "Resolution"
    hint = "what changed, who owns it now, or why no change is needed"
    done = "Resolved. {raiser} will see it in the inbox history and the digest."


RESOLUTION = Form("resolution", (Field("note", EscalationText.note, "long_text",
                                       hint=EscalationText.hint),))


def start(playbook: Playbook, ctx: Context, data: Mapping[str, Any],
          flow: Flow | None = None) -> Outcome:
    """``data``: escalation_id, ``about`` (how the escalation is named) and ``raiser``."""
    return begin(flow or build(playbook), {"escalation_id": int(data["escalation_id"]),
                                           "about": str(data.get("about", "")),
                                           "raiser": str(data.get("raiser", ""))}, ctx)


def _ask(state: FlowState, ctx: Context) -> Message:
    return Message(EscalationText.ask.format(about=state.data["about"]), form=RESOLUTION)


def _resolve(state: FlowState, answer: Answer, ctx: Context) -> Go:
    note = str(as_mapping(answer)["note"])
    raiser = state.data.get("raiser") or "Whoever raised it"
    return Go(END, {"note": note}, (ResolveEscalation(int(state.data["escalation_id"]), note),),
              say=(Message(EscalationText.done.format(raiser=raiser)),))


def build(playbook: Playbook) -> Flow:
    return Flow(NAME, EscalationText.title, {"R": "Resolution"},
                {"resolve": Step("resolve", "R", _ask, _resolve, (END,))}, "resolve")


SPEC = FlowSpec(NAME, title=EscalationText.title, short_title="Resolve escalation",
                runs_in="dm", build=build, start=start, subject=nobody)
