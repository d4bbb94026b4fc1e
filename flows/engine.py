"""A small declarative step machine shared by every flow.

A flow is a table of :class:`Step` values, each naming the steps it may go to.
:func:`advance` is the only way a conversation moves: it validates the input
against the step's prompt, lets the step decide, checks the decision against
the declared edges, and returns (new state, messages, effects). Pure: no I/O,
no clock reads (the context carries ``now``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

from flows.effects import Effect
from flows.messages import Choice, Choose, Field, Form, Input, Message, Say, Submit
from flows.playbook import Playbook

END = "END"
MAX_TRAIL = 200  # far above any real path: ~35 steps a session, 10 actions a review
Status = Literal["active", "paused", "ended"]


@dataclass(frozen=True, slots=True)
class Person:
    """What a flow may know about a person."""

    id: int
    email: str
    name: str
    role: str

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.email


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a step may read besides its state. Built by the caller per turn."""

    now: datetime
    today: date
    playbook: Playbook
    actor: Person
    subject: Person | None = None


@dataclass(frozen=True, slots=True)
class FlowState:
    """The persisted shape of one conversation: JSON-able all the way down."""

    flow: str
    step: str
    data: Mapping[str, Any] = field(default_factory=dict)
    trail: tuple[str, ...] = ()
    status: Status = "active"

    def to_json(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "step": self.step,
            "data": dict(self.data),
            "trail": list(self.trail),
            "status": self.status,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> FlowState:
        return cls(
            flow=str(raw["flow"]),
            step=str(raw["step"]),
            data=dict(raw.get("data", {})),
            trail=tuple(raw.get("trail", ())),
            status=raw.get("status", "active"),
        )

    def with_data(self, **updates: Any) -> FlowState:
        return replace(self, data={**self.data, **updates})


@dataclass(frozen=True, slots=True)
class Go:
    """A step's decision: move to ``to`` with these data updates and effects."""

    to: str
    data: Mapping[str, Any] = field(default_factory=dict)
    effects: tuple[Effect, ...] = ()
    say: tuple[Message, ...] = ()


@dataclass(frozen=True, slots=True)
class Retry:
    """The input fits the step's shape but not its rules: explain and ask again."""

    problem: str


Decision = Go | Retry
Answer = str | Mapping[str, str]
Prompt = Callable[[FlowState, Context], Message]
Handler = Callable[[FlowState, Answer, Context], Decision]


@dataclass(frozen=True, slots=True)
class Step:
    """One question of a flow and the steps it may lead to."""

    id: str
    stage: str
    prompt: Prompt
    handle: Handler
    targets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    title: str
    stages: Mapping[str, str]
    steps: Mapping[str, Step]
    start: str
    on_cancel: Callable[[FlowState], tuple[Effect, ...]] = lambda state: ()

    def step(self, step_id: str) -> Step:
        return self.steps[step_id]

    def edges(self) -> Iterable[tuple[str, str]]:
        for step in self.steps.values():
            for target in step.targets:
                yield step.id, target


@dataclass(frozen=True, slots=True)
class Outcome:
    state: FlowState
    messages: tuple[Message, ...]
    effects: tuple[Effect, ...] = ()


class FlowBug(RuntimeError):
    """A step went somewhere its table does not allow: a bug, never user error."""


def begin(
    flow: Flow, data: Mapping[str, Any], ctx: Context, intro: Iterable[Message] = ()
) -> Outcome:
    """Start ``flow`` at its first step."""
    state = FlowState(flow.name, flow.start, dict(data))
    return Outcome(state, (*intro, ask(flow, state, ctx)))


def ask(flow: Flow, state: FlowState, ctx: Context) -> Message:
    """The prompt of the current step, tagged with flow and step."""
    message = flow.step(state.step).prompt(state, ctx)
    return replace(message, flow=flow.name, step=state.step)


def advance(flow: Flow, state: FlowState, given: Input, ctx: Context) -> Outcome:
    """Apply one input to the current step."""
    if state.status == "ended":
        raise FlowBug(f"{flow.name} has ended; start a new one")
    step = flow.step(state.step)
    prompt = ask(flow, state, ctx)
    answer = read_answer(prompt, given, ctx.playbook.max_answer_chars)
    if isinstance(answer, Retry):
        return _retry(flow, state, ctx, answer.problem)
    decision = step.handle(state, answer, ctx)
    if isinstance(decision, Retry):
        return _retry(flow, state, ctx, decision.problem)
    if decision.to not in step.targets:
        raise FlowBug(f"{flow.name}.{step.id} may not go to {decision.to}")
    moved = replace(state, data={**state.data, **decision.data}, status="active")
    if decision.to == END:
        ended = replace(moved, status="ended", trail=_walked(state))
        return Outcome(ended, decision.say, decision.effects)
    moved = replace(moved, step=decision.to, trail=_walked(state))
    return Outcome(moved, (*decision.say, ask(flow, moved, ctx)), decision.effects)


def _walked(state: FlowState) -> tuple[str, ...]:
    """The trail after leaving the current step, capped so that a conversation going round
    in circles (revise, revise, ...) keeps a bounded state; /back reaches MAX_TRAIL steps."""
    return (*state.trail, state.step)[-MAX_TRAIL:]


def back(flow: Flow, state: FlowState, ctx: Context, *, whole_stage: bool = False) -> Outcome:
    """Go back one step (or to the start of the previous stage); answers are kept."""
    trail = list(state.trail)
    if not trail:
        first = _note("You are at the first question already.")
        return Outcome(state, (first, ask(flow, state, ctx)))
    if whole_stage:
        current = flow.step(state.step).stage
        while trail and flow.step(trail[-1]).stage == current:
            trail.pop()
        if trail:
            earlier = flow.step(trail[-1]).stage
            while len(trail) > 1 and flow.step(trail[-2]).stage == earlier:
                trail.pop()
        else:
            trail = [state.trail[0]]
    target = trail.pop()
    moved = replace(state, step=target, trail=tuple(trail), status="active")
    stage = flow.stages.get(flow.step(target).stage, "")
    return Outcome(moved, (_note(f"Back to {stage}." if stage else "Back."), ask(flow, moved, ctx)))


def _retry(flow: Flow, state: FlowState, ctx: Context, problem: str) -> Outcome:
    return Outcome(state, (_note(problem), ask(flow, state, ctx)))


def _note(text: str) -> Message:
    return Message(text)


def read_answer(prompt: Message, given: Input, max_chars: int) -> Answer | Retry:
    """Check an input against the prompt's shape: a listed choice or a valid form."""
    if prompt.choices:
        return _read_choice(prompt.choices, given)
    if prompt.form is not None:
        if isinstance(given, Say):
            only = [f for f in prompt.form.fields if f.required] or list(prompt.form.fields)
            if len(prompt.form.fields) == 1 or len(only) == 1:
                given = Submit({only[0].id: given.text})
            else:
                return Retry("Please fill in the form: " + _field_list(prompt.form) + ".")
        if isinstance(given, Choose):
            return Retry("This question needs the form filled in, not a choice.")
        return read_form(prompt.form, given.values, max_chars)
    return Retry("There is nothing to answer here.")


def _read_choice(choices: tuple[Choice, ...], given: Input) -> str | Retry:
    picked: str | None
    if isinstance(given, Choose):
        picked = given.choice
    elif isinstance(given, Say):
        picked = _match_choice(choices, given.text)
    else:
        picked = None
    if picked is not None and any(c.id == picked for c in choices):
        return picked
    options = ", ".join(f"{i}) {c.label}" for i, c in enumerate(choices, 1))
    return Retry(f"I didn't catch that. Please pick one of: {options}.")


def _match_choice(choices: tuple[Choice, ...], text: str) -> str | None:
    wanted = clean_text(text).casefold()
    if wanted.isdigit() and 1 <= int(wanted) <= len(choices):
        return choices[int(wanted) - 1].id
    for c in choices:
        if wanted in (c.id.casefold(), c.label.casefold()):
            return c.id
    aliases = {"y": "yes", "n": "no"}
    return aliases.get(wanted) if any(c.id == aliases.get(wanted) for c in choices) else None


def _field_list(form: Form) -> str:
    return ", ".join(f.label + ("" if f.required else " (optional)") for f in form.fields)


# Format characters that emoji need: ZWNJ/ZWJ (the joiner in a family or
# profession emoji) and the tag characters of subdivision flags. Every other
# control or format character (bidi overrides, zero-width spaces) goes.
_JOINERS = frozenset("\u200c\u200d")
_TAGS = range(0xE0020, 0xE0080)


def _kept(ch: str) -> bool:
    if ch in "\n\t" or ch in _JOINERS or ord(ch) in _TAGS:
        return True
    return unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")


def clean_text(value: str) -> str:
    """Normalise Unicode (NFC) and drop control characters other than newlines and tabs."""
    text = unicodedata.normalize("NFC", value)
    return "".join(ch for ch in text if _kept(ch)).strip()


def read_form(form: Form, values: Mapping[str, Any], max_chars: int) -> Mapping[str, str] | Retry:
    """Validate every field; report all problems at once."""
    unknown = sorted(set(values) - {f.id for f in form.fields})
    if unknown:
        return Retry(f"This form has no field {', '.join(unknown)}. Fields: {_field_list(form)}.")
    cleaned: dict[str, str] = {}
    problems: list[str] = []
    for f in form.fields:
        raw = values.get(f.id)
        text = clean_text(str(raw)) if raw is not None else ""
        if not text:
            if f.required:
                problems.append(f"{f.label} is required")
            continue
        problem = check_field(f, text, max_chars)
        if problem:
            problems.append(problem)
        else:
            cleaned[f.id] = text
    if problems:
        return Retry("Please fix: " + "; ".join(problems) + ".")
    return cleaned


def check_field(f: Field, text: str, max_chars: int) -> str | None:
    if len(text) > max_chars:
        return f"{f.label} is {len(text):,} characters; please keep it under {max_chars:,}"
    if f.kind == "date":
        try:
            date.fromisoformat(text)
        except ValueError:
            return f"{f.label} must be a date like 2026-12-04"
    elif f.kind in ("number", "integer"):
        try:
            number = float(text.replace(",", ""))
        except ValueError:
            return f"{f.label} must be a number"
        if number != number or number in (float("inf"), float("-inf")):
            return f"{f.label} must be a number"
        if f.kind == "integer" and (not number.is_integer() or number < 0):
            return f"{f.label} must be a whole number, 0 or more"
    elif f.kind == "choice" and text not in {o.id for o in f.options}:
        return f"{f.label} must be one of {', '.join(o.id for o in f.options)}"
    return None


def number(text: str) -> float:
    return float(text.replace(",", ""))


def as_mapping(value: Any) -> Mapping[str, Any]:
    """A stored form answer (or nothing yet) as a mapping."""
    return value if isinstance(value, Mapping) else {}


MAX_DAYS_AHEAD = 366


def future_date(text: str, today: date, *, past: str, far: str, **names: str) -> date | Retry:
    """A validated form date that is neither before ``today`` nor more than a year ahead.

    ``past`` and ``far`` are the flow's own sentences; they may use {due}, {today} and
    any of ``names``.
    """
    due = date.fromisoformat(text)
    if due < today:
        return Retry(past.format(due=due.isoformat(), today=today.isoformat(), **names))
    if due > today + timedelta(days=MAX_DAYS_AHEAD):
        return Retry(far.format(due=due.isoformat(), today=today.isoformat(), **names))
    return due
