"""The loop at an action plan's review date (METHOD §6).

Ask for the focus metric and whether each action was done, then: target met →
praise and choose the next focus; an action not done → the accountability
talk; improving → keep the plan and set the next review; no change → run the
solution chart again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any, Literal

from flows import item_loop
from flows.chart_steps import SUGGESTED_KEY, chart_answers, chart_steps, from_earlier
from flows.effects import CompleteReview, RaiseEscalation
from flows.engine import (
    END,
    Answer,
    Context,
    Flow,
    FlowState,
    Go,
    Outcome,
    Prompt,
    Retry,
    Step,
    as_mapping,
    begin,
    future_date,
    number,
)
from flows.messages import Choice, Field, Form, Message
from flows.playbook import Playbook
from flows.roam import fmt
from flows.sled import SYSTEMIC
from flows.sled_text import ESCALATION

NAME = "review"
STAGES = {"R": "R — Results", "N": "N — Next step", "C": "C — Solution chart again"}
ReviewOutcome = Literal["met", "not_done", "improving", "no_change"]


class T:
    """Every sentence this flow says, in one place."""

    title = "Action plan review"
    metric = ("{R}\nReview of {rep}'s plan: {metric} started at {baseline}, target {target}. "
              "What is it now?")
    imported = ("The imported data says {value} for {start} to {end}. Leave the value blank "
                "to confirm it, or type the current value.")
    imported_hint = "Blank keeps {value} (imported)"
    action = "Action {n} of {total}: {description} ({owner}). Was it done?"
    met = ("Target met: {metric} is {value} (from {baseline}, target {target}). Praise {rep} "
           "for the specific behaviours that got there.")
    next_focus = "Close this focus. Which focus area comes next for {rep}?"
    not_done = "Not done: {actions}. Time for the accountability talk."
    accountability = ("{N}\nAgree with {rep} that a problem exists, explore alternatives, "
                      "agree the action and a follow-up date.")
    improving = "{metric} moved from {baseline} to {value}, toward {target}: keep the plan."
    next_review = "{N}\nWhen is the next review?"
    no_change = ("{metric} is {value}: no move from {baseline} toward {target}. "
                 "Let's run the solution chart again.")
    solution = "Note the solution you and {rep} agreed."
    escalation = ("This looks systemic, not about {rep}. Your leader will see an escalation: "
                  "describe the impact and the evidence.")
    done = "Review saved for {rep}: {outcome}."
    date_past = "{label} {due} is in the past; pick today ({today}) or later."
    date_far = "{label} {due} is more than a year away; pick something sooner."

    value = "Current value"
    done_choice = "Done"
    not_done_choice = "Not done"
    problem = "The problem, as the rep acknowledged it"
    alternatives = "Alternatives you discussed"
    agreed_action = "Agreed action"
    follow_up = "Follow-up date"
    review_date = "Next review date"
    review_note = "Note"
    options = "Options the rep suggested"
    agreed_solution = "Agreed solution"
    manager = "you"
    outcomes: Mapping[str, str] = {
        "met": "target met, next focus chosen",
        "not_done": "accountability talk held, follow-up set",
        "improving": "improving, plan kept, next review set",
        "no_change": "no change, new solution agreed",
    }


VALUE = Form("metric_now", (Field("value", T.value, "number"),))
STATUS = (Choice("done", T.done_choice), Choice("not_done", T.not_done_choice))
ACCOUNTABILITY = Form("accountability", (
    Field("problem", T.problem, "long_text"),
    Field("alternatives", T.alternatives, "long_text"),
    Field("agreed_action", T.agreed_action),
    Field("follow_up", T.follow_up, "date", hint="YYYY-MM-DD"),
))
NEXT_REVIEW = Form("next_review", (
    Field("review_date", T.review_date, "date", hint="YYYY-MM-DD"),
    Field("note", T.review_note, "long_text", required=False),
))
SOLUTION = Form("solution", (
    Field("options", T.options, "long_text", required=False),
    Field("agreed_solution", T.agreed_solution, "long_text"),
))
ROUTE = {"met": "next_focus", "not_done": "accountability", "improving": "next_review"}
SAID = {"met": T.met, "improving": T.improving, "no_change": T.no_change}


def start(playbook: Playbook, ctx: Context, data: Mapping[str, Any],
          flow: Flow | None = None) -> Outcome:
    """``data`` holds review_id, session_id, rep_name, rep_ref, metric, baseline,
    target and actions (each with id, description and owner); optionally ``imported``
    (the metric's latest imported value, start, end: suggested, not asked) and
    ``earlier_chart`` (answers, date: suggested if the chart runs again). ``flow`` is
    this flow already built from ``playbook`` (built here when not given)."""
    actions = [{"id": str(a["id"]), "description": str(a["description"]),
                "owner": str(a.get("owner", "rep"))} for a in data.get("actions", [])]
    earlier = as_mapping(data.get("earlier_chart"))
    clean = {**data, "baseline": float(data["baseline"]), "target": float(data["target"]),
             "actions": actions,
             SUGGESTED_KEY: from_earlier(as_mapping(earlier.get("answers")),
                                         str(earlier.get("date", "")))}
    return begin(flow or build(playbook), clean, ctx)


def outcome(baseline: float, target: float, value: float, done: Mapping[str, str]) -> ReviewOutcome:
    """Which branch of METHOD §6 applies; "better" runs from baseline toward target."""
    up = target >= baseline
    if (value >= target) if up else (value <= target):
        return "met"
    if any(status != "done" for status in done.values()):
        return "not_done"
    if (value > baseline) if up else (value < baseline):
        return "improving"
    return "no_change"


def fill(template: str, state: FlowState, **extra: str) -> str:
    return template.format(
        rep=state.data.get("rep_name", "the rep"), metric=state.data.get("metric", "the metric"),
        baseline=fmt(float(state.data.get("baseline", 0))),
        target=fmt(float(state.data.get("target", 0))), **STAGES, **extra)


def build(playbook: Playbook) -> Flow:
    chart = playbook.chart
    decide = ("next_focus", "accountability", "next_review", chart.start)
    steps: dict[str, Step] = {
        "metric_now": Step("metric_now", "R", _metric_prompt, _metric_now,
                           ("action_status", *decide)),
        "action_status": Step("action_status", "R", _action_prompt, _action_status,
                              ("action_status", *decide)),
        "next_focus": Step("next_focus", "N", _focus_prompt, _next_focus, (END,)),
        "accountability": Step("accountability", "N", _form(T.accountability, ACCOUNTABILITY),
                               _accountability, (END,)),
        "next_review": Step("next_review", "N", _form(T.next_review, NEXT_REVIEW),
                            _next_review, (END,)),
        "escalation": Step("escalation", "C", _form(T.escalation, ESCALATION),
                           lambda s, a, c: Go("solution", {"escalation": a}), ("solution",)),
        "solution": Step("solution", "C", _form(T.solution, SOLUTION), _solution, (END,)),
    }
    steps.update(chart_steps(
        chart, "C", lambda leaf: "escalation" if leaf in SYSTEMIC else "solution"))
    return Flow(NAME, T.title, STAGES, steps, "metric_now")


def _form(template: str, form: Form) -> Prompt:
    return lambda state, ctx: Message(fill(template, state), form=form)


def _metric_prompt(state: FlowState, ctx: Context) -> Message:
    """Ask for the focus metric; with an imported value, show it and let a blank keep it."""
    imported = as_mapping(state.data.get("imported"))
    if not imported:
        return Message(fill(T.metric, state), form=VALUE)
    value = fmt(float(imported["value"]))
    text = fill(T.metric, state) + "\n" + T.imported.format(
        value=value, start=imported["start"], end=imported["end"])
    field = Field("value", T.value, "number", required=False,
                  hint=T.imported_hint.format(value=value))
    return Message(text, form=Form(VALUE.id, (field,)))


def _value_given(state: FlowState, answer: Answer) -> float:
    """The value typed, else the imported one the prompt offered (a blank confirms it)."""
    typed = as_mapping(answer).get("value")
    return number(typed) if typed else float(as_mapping(state.data.get("imported"))["value"])


def _metric_now(state: FlowState, answer: Answer, ctx: Context) -> Go:
    value = _value_given(state, answer)
    if item_loop.items(state, "actions"):
        return Go("action_status", {"metric_value": value})
    return _route(state.with_data(metric_value=value, action_status={}), ctx)


def _action_prompt(state: FlowState, ctx: Context) -> Message:
    actions = item_loop.items(state, "actions")
    i = item_loop.position(state, "action_status")
    action = actions[i]
    owner = state.data.get("rep_name", "") if action["owner"] == "rep" else T.manager
    text = T.action.format(n=i + 1, total=len(actions), description=action["description"],
                           owner=owner)
    return Message(text, choices=STATUS)


def _action_status(state: FlowState, answer: Answer, ctx: Context) -> Go:
    actions = item_loop.items(state, "actions")
    i = item_loop.position(state, "action_status")
    status = {**as_mapping(state.data.get("action_status")), actions[i]["id"]: str(answer)}
    if i + 1 < len(actions):
        return Go("action_status", {"action_status": status})
    return _route(state.with_data(action_status=status), ctx)


def _statuses(state: FlowState) -> dict[str, str]:
    given = as_mapping(state.data.get("action_status"))
    return {str(a["id"]): str(given.get(a["id"], "not_done"))
            for a in item_loop.items(state, "actions")}


def _route(state: FlowState, ctx: Context) -> Go:
    value = float(state.data["metric_value"])
    statuses = _statuses(state)
    result = outcome(float(state.data["baseline"]), float(state.data["target"]), value, statuses)
    data = {"metric_value": value, "action_status": statuses, "outcome": result}
    shown = fmt(value)
    if result == "not_done":
        names = [str(a["description"]) for a in item_loop.items(state, "actions")
                 if statuses[a["id"]] != "done"]
        said = fill(T.not_done, state, actions="; ".join(names))
    else:
        said = fill(SAID[result], state, value=shown)
    to = ROUTE.get(result, ctx.playbook.chart.start)
    return Go(to, data, say=(Message(said),))


def _focus_prompt(state: FlowState, ctx: Context) -> Message:
    choices = tuple(Choice(f.id, f.label) for f in ctx.playbook.focus_areas)
    return Message(fill(T.next_focus, state), choices=choices)


def _next_focus(state: FlowState, answer: Answer, ctx: Context) -> Go:
    return _complete(state, "met", {}, next_focus=str(answer))


def _accountability(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    values = as_mapping(answer)
    follow_up = future_date(values["follow_up"], ctx.today, past=T.date_past,
                            far=T.date_far, label=T.follow_up)
    if isinstance(follow_up, Retry):
        return follow_up
    return _complete(state, "not_done", {"coaching_discussion": dict(values)},
                     leaf="COACHING_DISCUSSION", next_review_date=follow_up)


def _next_review(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    values = as_mapping(answer)
    review = future_date(values["review_date"], ctx.today, past=T.date_past,
                         far=T.date_far, label=T.review_date)
    if isinstance(review, Retry):
        return review
    return _complete(state, "improving", {"note": values.get("note", "")},
                     next_review_date=review)


def _solution(state: FlowState, answer: Answer, ctx: Context) -> Go:
    notes = {"chart": dict(chart_answers(state)), "category": state.data.get("category"),
             **as_mapping(answer)}
    leaf = str(state.data.get("leaf"))
    done = _complete(state, "no_change", notes, leaf=leaf)
    escalation = as_mapping(state.data.get("escalation"))
    if leaf in SYSTEMIC and escalation:
        raised = RaiseEscalation(state.data["session_id"], leaf, escalation["impact"],
                                 escalation["evidence"])
        return replace(done, effects=(raised, *done.effects))
    return done


def _complete(
    state: FlowState,
    result: ReviewOutcome,
    notes: Mapping[str, Any],
    *,
    leaf: str | None = None,
    next_review_date: date | None = None,
    next_focus: str | None = None,
) -> Go:
    effect = CompleteReview(
        review_id=state.data["review_id"], session_id=state.data["session_id"],
        metric_value=float(state.data["metric_value"]), outcome=result,
        action_status=_statuses(state), notes=notes, leaf=leaf,
        next_review_date=next_review_date, next_focus=next_focus,
    )
    done = Message(fill(T.done, state, outcome=T.outcomes[result]))
    return Go(END, effects=(effect,), say=(done,))
