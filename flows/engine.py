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
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Literal

from flows.effects import Effect
from flows.messages import Choice, Choose, Event, Field, Form, Input, Message, Say, Submit
from flows.playbook import Playbook
from flows.reading import date_text, match_choice, read_date, read_number, stored_number

END = "END"
MAX_TRAIL = 200  # far above any real path: ~35 steps a session, 10 actions a review
Status = Literal["active", "paused", "ended"]


class Text:
    """Every sentence the engine says itself (the flows say the rest)."""

    first_question = "You are at the first question already."
    back_to = "Back to {stage}."
    back = "Back."
    fill_form = "Please fill in the form: {fields}."
    form_not_choice = "This question needs the form filled in, not a choice."
    nothing_to_answer = "There is nothing to answer here."
    pick_one = "I didn't catch that. Please pick one of: {options}."
    no_such_field = "This form has no field {names}. Fields: {fields}."
    required = "{label} is required"
    please_fix = "Please fix: {problems}."
    too_long = "{label} is {size:,} characters; please keep it under {limit:,}"
    bad_date = ("{label} must be a date, like 2026-12-15, Dec 15, next friday or "
                "in 2 weeks")
    bad_number = "{label} must be a number, like 14, 14%, 62,000, 62k or 1.5"
    bad_integer = "{label} must be a whole number, 0 or more"
    bad_choice = "{label} must be one of: {options}"
    date_read = "{label}: {day}."


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
class Reading:
    """What reading an answer depends on: the person's local time (for "next friday")
    and the longest answer the playbook accepts."""

    local_now: datetime
    max_chars: int


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a step may read besides its state. Built by the caller per turn;
    ``zone`` is the actor's time zone (``today`` is already their local date)."""

    now: datetime
    today: date
    playbook: Playbook
    actor: Person
    subject: Person | None = None
    zone: tzinfo = UTC
    assist: bool = False  # a language model may be asked (flows request it as AskModel)

    @property
    def reading(self) -> Reading:
        return Reading(self.now.astimezone(self.zone), self.playbook.max_answer_chars)


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
    ask: bool = True  # False: stay quiet (an event that only keeps data for a later step)


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
    events: tuple[str, ...] = ()  # the Events this step acts on (their payload is the answer)
    on_event: Callable[[FlowState, Mapping[str, Any], Context], Decision] | None = None


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
    if isinstance(given, Event):
        return _on_event(flow, state, step, given, ctx)
    prompt = ask(flow, state, ctx)
    answer = read_answer(prompt, given, ctx.reading)
    if isinstance(answer, Retry):
        typed = given.values if isinstance(given, Submit) else {}
        return _retry(flow, state, ctx, answer.problem, typed)
    decision = step.handle(state, answer, ctx)
    if isinstance(decision, Retry):
        return _retry(flow, state, ctx, decision.problem, as_mapping(answer))
    return _move(flow, state, step, decision,
                 (*_dates_read(prompt.form, given, answer), *decision.say), ctx)


def _move(flow: Flow, state: FlowState, step: Step, decision: Go,
          said: tuple[Message, ...], ctx: Context) -> Outcome:
    """Carry out a step's decision along a declared edge (any other is a bug)."""
    if decision.to not in step.targets:
        raise FlowBug(f"{flow.name}.{step.id} may not go to {decision.to}")
    moved = replace(state, data={**state.data, **decision.data}, status="active")
    if decision.to == END:
        ended = replace(moved, status="ended", trail=_walked(state))
        return Outcome(ended, said, decision.effects)
    if not decision.ask and decision.to == state.step:  # an event's data, kept quietly
        return Outcome(moved, said, decision.effects)
    moved = replace(moved, step=decision.to, trail=_walked(state))
    return Outcome(moved, (*said, ask(flow, moved, ctx)), decision.effects)


def _on_event(flow: Flow, state: FlowState, step: Step, event: Event, ctx: Context) -> Outcome:
    """An event the current step names moves the flow as an answer would; any other one
    changes nothing and says nothing (nobody typed it, so there is nobody to correct).
    One that says something and leaves the question open (the model had no proposals)
    asks it again after saying so: a window that shows the conversation keeps its question."""
    if event.name not in step.events:
        return Outcome(state, ())
    handler = step.on_event or step.handle  # a step whose own answers are forms has its own
    decision = handler(state, dict(event.payload), ctx)
    if isinstance(decision, Retry):  # an event the step cannot use now: nothing changes
        return Outcome(state, ())
    outcome = _move(flow, state, step, decision, decision.say, ctx)
    said = outcome.messages
    if said and outcome.state.status == "active" and not (said[-1].choices or said[-1].form):
        return replace(outcome, messages=(*said, ask(flow, outcome.state, ctx)))
    return outcome


def _dates_read(form: Form | None, given: Input, answer: Answer) -> tuple[Message, ...]:
    """Each date typed in words ("next friday") said back as the full date it was read as."""
    if form is None or not isinstance(answer, Mapping):
        return ()
    typed = given.values if isinstance(given, Submit) else {}
    notes = []
    for f in form.fields:
        if f.kind != "date" or f.id not in answer:
            continue
        raw = typed.get(f.id, given.text if isinstance(given, Say) else "")
        if clean_text(str(raw)) != answer[f.id]:
            day = date_text(date.fromisoformat(answer[f.id]))
            notes.append(_note(Text.date_read.format(label=f.label, day=day)))
    return tuple(notes)


def filled(message: Message, values: Mapping[str, Any]) -> Message:
    """``message`` with its form's fields showing ``values`` (the others left as they are)."""
    if message.form is None or not values:
        return message
    fields = tuple(
        replace(f, value=clean_text(str(values[f.id])))
        if isinstance(values.get(f.id), str | int | float) and not isinstance(values[f.id], bool)
        else f
        for f in message.form.fields)
    return replace(message, form=replace(message.form, fields=fields))


def _walked(state: FlowState) -> tuple[str, ...]:
    """The trail after leaving the current step, capped so that a conversation going round
    in circles (revise, revise, ...) keeps a bounded state; /back reaches MAX_TRAIL steps."""
    return (*state.trail, state.step)[-MAX_TRAIL:]


def back(flow: Flow, state: FlowState, ctx: Context, *, whole_stage: bool = False) -> Outcome:
    """Go back one step (or to the start of the previous stage); answers are kept."""
    trail = list(state.trail)
    if not trail:
        first = _note(Text.first_question)
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
    note = _note(Text.back_to.format(stage=stage) if stage else Text.back)
    # A step keeps its form's answers under its own id: show them again, ready to change.
    return Outcome(moved, (note, filled(ask(flow, moved, ctx), as_mapping(state.data.get(target)))))


def _retry(flow: Flow, state: FlowState, ctx: Context, problem: str,
           typed: Mapping[str, Any] | None = None) -> Outcome:
    """Explain and ask again, with what was typed still in the form."""
    return Outcome(state, (_note(problem), filled(ask(flow, state, ctx), typed or {})))


def _note(text: str) -> Message:
    return Message(text)


def read_answer(prompt: Message, given: Input, reading: Reading) -> Answer | Retry:
    """Check an input against the prompt's shape: a listed choice or a valid form."""
    if prompt.choices:
        return _read_choice(prompt.choices, given)
    if prompt.form is not None:
        if isinstance(given, Say):
            # Plain text answers the one field still to fill: the only field, the only
            # required one, or the only required one the form does not show filled in.
            fields = prompt.form.fields
            needed = [f for f in fields if f.required] or list(fields)
            empty = [f for f in needed if not f.value]
            if len(fields) == 1 or len(needed) == 1:
                given = Submit({needed[0].id: given.text})
            elif len(empty) == 1:
                given = Submit({empty[0].id: given.text})
            else:
                return Retry(Text.fill_form.format(fields=_field_list(prompt.form)))
        if not isinstance(given, Submit):  # a choice (an event never gets here)
            return Retry(Text.form_not_choice)
        return read_form(prompt.form, given.values, reading)
    return Retry(Text.nothing_to_answer)


def _read_choice(choices: tuple[Choice, ...], given: Input) -> str | Retry:
    picked: str | None
    if isinstance(given, Choose):
        picked = given.choice
    elif isinstance(given, Say):
        picked = match_choice(choices, clean_text(given.text))
    else:
        picked = None
    if picked is not None and any(c.id == picked for c in choices):
        return picked
    options = ", ".join(f"{i}) {c.label}" for i, c in enumerate(choices, 1))
    return Retry(Text.pick_one.format(options=options))


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


def read_form(form: Form, values: Mapping[str, Any], reading: Reading) -> Mapping[str, str] | Retry:
    """Validate every field and normalise it (dates ISO, plain numbers, choice ids);
    report all problems at once."""
    unknown = sorted(set(values) - {f.id for f in form.fields})
    if unknown:
        return Retry(Text.no_such_field.format(names=", ".join(unknown),
                                               fields=_field_list(form)))
    cleaned: dict[str, str] = {}
    problems: list[str] = []
    for f in form.fields:
        # A field left out keeps what the form shows (a value filled in from the data or
        # an earlier answer), as a Slack modal submits its initial values.
        raw = values.get(f.id, f.value or None)
        text = clean_text(str(raw)) if raw is not None else ""
        if not text:
            if f.required:
                problems.append(Text.required.format(label=f.label))
            continue
        value = read_field(f, text, reading)
        if isinstance(value, Retry):
            problems.append(value.problem)
        else:
            cleaned[f.id] = value
    if problems:
        return Retry(Text.please_fix.format(problems="; ".join(problems)))
    return cleaned


def read_field(f: Field, text: str, reading: Reading) -> str | Retry:
    """One field's answer as it is stored (a date as ISO, a number plain, a choice's id),
    or what is wrong with it."""
    if len(text) > reading.max_chars:
        return Retry(Text.too_long.format(label=f.label, size=len(text), limit=reading.max_chars))
    if f.kind == "date":
        day = read_date(text, reading.local_now)
        return day.isoformat() if day is not None else Retry(Text.bad_date.format(label=f.label))
    if f.kind in ("number", "integer"):
        value = read_number(text)
        if value is None:
            return Retry(Text.bad_number.format(label=f.label))
        if f.kind == "integer" and (not value.is_integer() or value < 0):
            return Retry(Text.bad_integer.format(label=f.label))
        return stored_number(value)
    if f.kind == "choice":
        picked = match_choice(f.options, text)
        if picked is None:
            return Retry(Text.bad_choice.format(
                label=f.label, options=", ".join(o.label for o in f.options)))
        return picked
    return text


def check_field(f: Field, text: str, reading: Reading) -> str | None:
    """What is wrong with one field's answer, or None (for adapters that ask field by field)."""
    value = read_field(f, text, reading)
    return value.problem if isinstance(value, Retry) else None


def number(text: str) -> float:
    """A stored number answer (already read by :func:`read_field`) as a float."""
    value = read_number(text)
    if value is None:
        raise ValueError(f"not a stored number: {text[:40]!r}")
    return value


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
        return Retry(past.format(due=date_text(due), today=date_text(today), **names))
    if due > today + timedelta(days=MAX_DAYS_AHEAD):
        return Retry(far.format(due=date_text(due), today=date_text(today), **names))
    return due
