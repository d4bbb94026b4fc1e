"""Play a list of inputs through a flow and keep everything it said and asked for."""

from __future__ import annotations

from dataclasses import dataclass, field

from flows.effects import Effect
from flows.engine import Context, Flow, FlowState, Outcome, advance
from flows.messages import Choose, Input, Message, Submit

FILLER_DATE = "2026-03-20"


@dataclass
class Run:
    state: FlowState
    messages: list[Message] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)

    @property
    def last(self) -> Message:
        return self.messages[-1]

    def of[E](self, kind: type[E]) -> list[E]:
        """The effects of one kind, in order."""
        return [e for e in self.effects if isinstance(e, kind)]


def play(flow: Flow, start: Outcome | FlowState, ctx: Context, *inputs: Input) -> Run:
    """Feed ``inputs`` one by one; collect messages and effects of every turn."""
    if isinstance(start, Outcome):
        run = Run(start.state, list(start.messages), list(start.effects))
    else:
        run = Run(start)
    for given in inputs:
        out = advance(flow, run.state, given, ctx)
        run.state = out.state
        run.messages.extend(out.messages)
        run.effects.extend(out.effects)
    return run


def texts(messages: list[Message]) -> str:
    return "\n".join(m.text for m in messages)


def fill_in(prompt: Message, **given: str) -> Input:
    """An answer to any prompt: ``given`` values, else a plausible one per field kind
    (text names its field, so a test can find it again in what the rep is sent)."""
    if prompt.form is None:
        return Choose(given.get("choice", prompt.choices[0].id))
    values: dict[str, str] = {}
    for f in prompt.form.fields:
        if f.id in given:
            values[f.id] = given[f.id]
        elif f.kind == "date":
            values[f.id] = FILLER_DATE
        elif f.kind == "choice":
            values[f.id] = f.options[0].id
        elif f.kind in ("number", "integer"):
            values[f.id] = "10"
        else:
            values[f.id] = f"<{f.id}>"
    return Submit(values)
