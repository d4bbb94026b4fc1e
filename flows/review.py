"""The loop at an action plan's review date (METHOD §6).

Ask for the focus metric and whether each action was done, then: target met →
praise and choose the next focus; an action not done → the accountability
talk; improving → keep the plan and set the next review; no change → run the
solution chart again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from flows import item_loop, leaf_steps
from flows.chart_steps import SUGGESTED_KEY, chart_answers, chart_steps, from_earlier
from flows.effects import (
    ActionDraft,
    CompleteReview,
    Effect,
    KeepPrivateNote,
    RaiseEscalation,
    RecordLeafOutcome,
)
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
from flows.leaf_records import LeafRecord, NoAction
from flows.leaf_steps import PLANNED_MODEL, PRIVATE, SYSTEMIC
from flows.messages import Choice, Field, Form, Message
from flows.playbook import Playbook
from flows.roam import fmt
from flows.sled_text import MODEL_LABELS, PRIVATE_NOTE
from flows.spec import FlowSpec, rep_named_in

NAME = "review"
STAGES = {"R": "R — Results", "N": "N — Next step", "C": "C — Solution chart again"}
ReviewOutcome = Literal["met", "not_done", "improving", "no_change", "no_action"]


class ReviewText:
    """Every sentence this flow says, in one place."""

    title = "Action plan review"
    metric = ("{R}\nReview of {rep}'s plan: {metric} started at {baseline}, target {target}. "
              "What is it now?")
    imported = ("The imported data says {value} for {start} to {end}. Leave the value blank "
                "to confirm it, or type the current value.")
    imported_hint = "Blank keeps {value} (imported)"
    action = "Action {n} of {total}: {description} ({owner}). Was it done?"
    reschedule = ("Not done on your side: {description} (was due {due}). It is yours to "
                  "reschedule: what is the new date?")
    met = ("Target met: {metric} is {value} (from {baseline}, target {target}). Praise {rep} "
           "for the specific behaviours that got there. This focus is now closed.")
    next_focus = "{N}\nThe coaching goes on. Which focus area comes next for {rep}?"
    next_session = "When is the next coaching session with {rep} on {focus}?"
    not_done = "Not done by {rep}: {actions}. Time for the accountability talk."
    accountability = ("{N}\nAgree with {rep} that a problem exists, explore alternatives, "
                      "agree the action {rep} commits to, its due date and the next review.")
    improving = "{metric} moved from {baseline} to {value}, toward {target}: keep the plan."
    next_review = "{N}\nWhen is the next review?"
    no_change = ("{metric} is {value}: no move from {baseline} toward {target}. "
                 "Let's run the solution chart again.")
    no_action = "You decided the gap is not worth pursuing now. Note why, if you like."
    private_note = ("Keep a private note (never shown to {rep}, never in the digest). "
                    "No skills coaching.")
    plan_review = "{C}\nNext: {plan}\nWhen do you review it with {rep}?"
    plan_model = "{model}, run with /model {rep_ref}"
    plan_action = "the action \"{action}\" ({owner}, due {due})"
    plan_step = "what you agreed ({summary})"
    plan_private = "your private follow-up"
    model_next = "Planned: {model}. Start it with /model {rep_ref}."
    done = "Review saved for {rep}: {outcome}."
    next_session_planned = " Next: a coaching session on {focus} on {date}: /coach {rep_ref}."
    next_review_planned = " Next review on {date}: /review {rep_ref}."
    commitment = " {rep} owns “{action}”, due {due}."
    next_model_planned = " Next: {model}: /model {rep_ref}."
    date_past = "{label} {due} is in the past; pick today ({today}) or later."
    date_far = "{label} {due} is more than a year away; pick something sooner."

    value = "Current value"
    done_choice = "Done"
    not_done_choice = "Not done"
    new_due = "New due date"
    problem = "The problem, as the rep acknowledged it"
    alternatives = "Alternatives you discussed"
    agreed_action = "The action the rep commits to"
    action_due = "Its due date"
    follow_up = "Next review date"
    session_date = "Date of the next session"
    review_date = "Next review date"
    review_note = "Note"
    manager = "you"
    outcomes: Mapping[str, str] = {
        "met": "target met, focus closed, next focus planned",
        "not_done": "accountability talk held, commitment and next review set",
        "improving": "improving, plan kept, next review set",
        "no_change": "no change, new solution agreed",
        "no_action": "no change, no action for now",
    }


VALUE = Form("metric_now", (Field("value", ReviewText.value, "number"),))
STATUS = (Choice("done", ReviewText.done_choice), Choice("not_done", ReviewText.not_done_choice))
RESCHEDULE = Form("reschedule", (Field("due", ReviewText.new_due, "date", hint="YYYY-MM-DD"),))
ACCOUNTABILITY = Form("accountability", (
    Field("problem", ReviewText.problem, "long_text"),
    Field("alternatives", ReviewText.alternatives, "long_text"),
    Field("agreed_action", ReviewText.agreed_action),
    Field("due", ReviewText.action_due, "date", hint="YYYY-MM-DD"),
    Field("follow_up", ReviewText.follow_up, "date", hint="YYYY-MM-DD"),
))
NEXT_SESSION = Form("next_session", (
    Field("session_date", ReviewText.session_date, "date", hint="YYYY-MM-DD"),
))
NEXT_REVIEW = Form("next_review", (
    Field("review_date", ReviewText.review_date, "date", hint="YYYY-MM-DD"),
    Field("note", ReviewText.review_note, "long_text", required=False),
))
NO_ACTION = Form("no_action", (Field("reason", "Why not now", required=False),))
PLAN_REVIEW = Form("plan_review", (
    Field("review_date", ReviewText.review_date, "date", hint="YYYY-MM-DD"),
    Field("note", ReviewText.review_note, "long_text", required=False),
))
ROUTE = {"met": "next_focus", "not_done": "accountability", "improving": "next_review"}
SAID = {"met": ReviewText.met, "improving": ReviewText.improving, "no_change": ReviewText.no_change}


@dataclass(frozen=True, slots=True)
class ReviewAction:
    """An open action of the plan under review."""

    id: str
    description: str
    owner: str  # "rep" or "manager"
    due: str  # ISO date, "" when none


@dataclass(frozen=True, slots=True)
class ReviewPlan:
    """What a review starts from, as /review gathers it. Kept in the conversation's data
    as plain JSON (``as_data``) and read back typed (``of``); the answers given during
    the review (value, statuses, dates) sit beside it under their own keys.
    ``imported``: the metric's latest imported value (value, start, end), suggested, not
    asked; ``earlier_chart``: the chart answers last given about this gap (answers, date),
    suggested if the chart runs again."""

    review_id: int
    session_id: int
    rep_name: str
    rep_ref: str
    metric: str
    baseline: float
    target: float
    actions: tuple[ReviewAction, ...] = ()
    rep_id: int | None = None
    imported: Mapping[str, Any] | None = None
    earlier_chart: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> ReviewPlan:
        rep_id = data.get("rep_id")
        return cls(
            review_id=int(data["review_id"]), session_id=int(data["session_id"]),
            rep_name=str(data.get("rep_name", "")), rep_ref=str(data.get("rep_ref", "")),
            metric=str(data.get("metric") or "the metric"),
            baseline=float(data["baseline"]), target=float(data["target"]),
            actions=tuple(ReviewAction(str(a["id"]), str(a["description"]),
                                       str(a.get("owner", "rep")), str(a.get("due", "")))
                          for a in data.get("actions", [])),
            rep_id=rep_id if isinstance(rep_id, int) else None,
            imported=as_mapping(data.get("imported")) or None,
            earlier_chart=as_mapping(data.get("earlier_chart")) or None)

    def as_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "review_id": self.review_id, "session_id": self.session_id,
            "rep_name": self.rep_name, "rep_ref": self.rep_ref, "metric": self.metric,
            "baseline": self.baseline, "target": self.target,
            "actions": [{"id": a.id, "description": a.description, "owner": a.owner,
                         "due": a.due} for a in self.actions]}
        if self.rep_id is not None:
            data["rep_id"] = self.rep_id
        if self.imported:
            data["imported"] = dict(self.imported)
        if self.earlier_chart:
            data["earlier_chart"] = dict(self.earlier_chart)
        return data


def start(playbook: Playbook, ctx: Context, data: Mapping[str, Any],
          flow: Flow | None = None) -> Outcome:
    """Start from a :class:`ReviewPlan` as plain data (``ReviewPlan.as_data``); other keys
    are kept as they are. ``flow`` is this flow already built from ``playbook`` (built
    here when not given)."""
    plan = ReviewPlan.of(data)
    earlier = plan.earlier_chart or {}
    clean = {**data, **plan.as_data(),
             SUGGESTED_KEY: from_earlier(as_mapping(earlier.get("answers")),
                                         str(earlier.get("date", "")))}
    return begin(flow or build(playbook), clean, ctx)


def plan_of(state: FlowState) -> ReviewPlan:
    """The plan this review started from, typed."""
    return ReviewPlan.of(state.data)


def outcome(baseline: float, target: float, value: float, done: Mapping[str, str]) -> ReviewOutcome:
    """Which branch of METHOD §6 applies; "better" runs from baseline toward target.
    ``done`` holds the status of the actions the rep owns: only those call for the
    accountability talk (the manager's own late actions are rescheduled instead)."""
    up = target >= baseline
    if (value >= target) if up else (value <= target):
        return "met"
    if any(status != "done" for status in done.values()):
        return "not_done"
    if (value > baseline) if up else (value < baseline):
        return "improving"
    return "no_change"


def fill(template: str, state: FlowState, **extra: str) -> str:
    plan = plan_of(state)
    return template.format(
        rep=plan.rep_name or "the rep", rep_ref=plan.rep_ref, metric=plan.metric,
        baseline=fmt(plan.baseline), target=fmt(plan.target), **STAGES, **extra)


def build(playbook: Playbook) -> Flow:
    chart = playbook.chart
    decide = ("next_focus", "accountability", "next_review", chart.start)
    steps: dict[str, Step] = {
        "metric_now": Step("metric_now", "R", _metric_prompt, _metric_now,
                           ("action_status", *decide)),
        "action_status": Step("action_status", "R", _action_prompt, _action_status,
                              ("action_status", "reschedule", *decide)),
        "reschedule": Step("reschedule", "R", _reschedule_prompt, _reschedule,
                           ("reschedule", *decide)),
        "next_focus": Step("next_focus", "N", _focus_prompt, _next_focus, ("next_session",)),
        "next_session": Step("next_session", "N", _next_session_prompt, _next_session, (END,)),
        "accountability": Step("accountability", "N", _form(ReviewText.accountability,
                                                            ACCOUNTABILITY),
                               _accountability, (END,)),
        "next_review": Step("next_review", "N", _form(ReviewText.next_review, NEXT_REVIEW),
                            _next_review, (END,)),
        "no_action": Step("no_action", "C", _form(ReviewText.no_action, NO_ACTION), _no_action,
                          (END,)),
        "escalation": Step("escalation", "C", _escalation_prompt, _escalation,
                           ("plan_review",)),
        "private_note": Step("private_note", "C", _form(ReviewText.private_note, PRIVATE_NOTE),
                             _private_note, ("plan_review",)),
        "leaf_step": Step("leaf_step", "C", _leaf_prompt, _leaf_step, ("plan_review",)),
        "plan_review": Step("plan_review", "C", _plan_prompt, _plan_review, (END,)),
    }
    steps.update(chart_steps(chart, "C", _after_leaf))
    return Flow(NAME, ReviewText.title, STAGES, steps, "metric_now")


def _form(template: str, form: Form) -> Prompt:
    return lambda state, ctx: Message(fill(template, state), form=form)


def _metric_prompt(state: FlowState, ctx: Context) -> Message:
    """Ask for the focus metric; with an imported value, show it and let a blank keep it."""
    imported = as_mapping(plan_of(state).imported)
    if not imported:
        return Message(fill(ReviewText.metric, state), form=VALUE)
    value = fmt(float(imported["value"]))
    text = fill(ReviewText.metric, state) + "\n" + ReviewText.imported.format(
        value=value, start=imported["start"], end=imported["end"])
    field = Field("value", ReviewText.value, "number", required=False,
                  hint=ReviewText.imported_hint.format(value=value))
    return Message(text, form=Form(VALUE.id, (field,)))


def _value_given(state: FlowState, answer: Answer) -> float:
    """The value typed, else the imported one the prompt offered (a blank confirms it)."""
    typed = as_mapping(answer).get("value")
    return number(typed) if typed else float(as_mapping(plan_of(state).imported)["value"])


def _metric_now(state: FlowState, answer: Answer, ctx: Context) -> Go:
    value = _value_given(state, answer)
    if item_loop.items(state, "actions"):
        return Go("action_status", {"metric_value": value})
    return _route(state.with_data(metric_value=value, action_status={}), ctx)


def _action_prompt(state: FlowState, ctx: Context) -> Message:
    actions = item_loop.items(state, "actions")
    i = item_loop.position(state, "action_status")
    action = actions[i]
    owner = plan_of(state).rep_name if action["owner"] == "rep" else ReviewText.manager
    text = ReviewText.action.format(n=i + 1, total=len(actions), description=action["description"],
                           owner=owner)
    return Message(text, choices=STATUS)


def _action_status(state: FlowState, answer: Answer, ctx: Context) -> Go:
    actions = item_loop.items(state, "actions")
    i = item_loop.position(state, "action_status")
    status = {**as_mapping(state.data.get("action_status")), actions[i]["id"]: str(answer)}
    if i + 1 < len(actions):
        return Go("action_status", {"action_status": status})
    state = state.with_data(action_status=status)
    if _late_of_manager(state):
        return Go("reschedule", {"action_status": status})
    return _route(state, ctx)


def _late_of_manager(state: FlowState) -> list[Mapping[str, Any]]:
    """The manager's own actions not done: theirs to reschedule, not the rep's to answer for."""
    statuses = _statuses(state)
    return [a for a in item_loop.items(state, "actions")
            if a["owner"] == "manager" and statuses[a["id"]] != "done"]


def _reschedule_prompt(state: FlowState, ctx: Context) -> Message:
    action = _late_of_manager(state)[item_loop.position(state, "reschedule")]
    text = ReviewText.reschedule.format(description=action["description"], due=action["due"] or "-")
    return Message(text, form=RESCHEDULE)


def _reschedule(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    late = _late_of_manager(state)
    i = item_loop.position(state, "reschedule")
    due = future_date(as_mapping(answer)["due"], ctx.today, past=ReviewText.date_past,
                      far=ReviewText.date_far,
                      label=ReviewText.new_due)
    if isinstance(due, Retry):
        return due
    moved = {**as_mapping(state.data.get("rescheduled")), late[i]["id"]: due.isoformat()}
    if i + 1 < len(late):
        return Go("reschedule", {"rescheduled": moved})
    return _route(state.with_data(rescheduled=moved), ctx)


def _statuses(state: FlowState) -> dict[str, str]:
    given = as_mapping(state.data.get("action_status"))
    return {str(a["id"]): str(given.get(a["id"], "not_done"))
            for a in item_loop.items(state, "actions")}


def _of_rep(state: FlowState) -> dict[str, str]:
    """The statuses of the actions the rep owns."""
    statuses = _statuses(state)
    return {str(a["id"]): statuses[a["id"]] for a in item_loop.items(state, "actions")
            if a["owner"] == "rep"}


def _route(state: FlowState, ctx: Context) -> Go:
    value = float(state.data["metric_value"])
    statuses = _statuses(state)
    of_rep = _of_rep(state)
    result = outcome(plan_of(state).baseline, plan_of(state).target, value, of_rep)
    data = {"metric_value": value, "action_status": statuses, "outcome": result,
            "rescheduled": dict(as_mapping(state.data.get("rescheduled")))}
    shown = fmt(value)
    if result == "not_done":
        names = [str(a["description"]) for a in item_loop.items(state, "actions")
                 if of_rep.get(a["id"], "done") != "done"]
        said = fill(ReviewText.not_done, state, actions="; ".join(names))
    else:
        said = fill(SAID[result], state, value=shown)
    to = ROUTE.get(result, ctx.playbook.chart.start)
    return Go(to, data, say=(Message(said),))


def _focus_prompt(state: FlowState, ctx: Context) -> Message:
    choices = tuple(Choice(f.id, f.label) for f in ctx.playbook.focus_areas)
    return Message(fill(ReviewText.next_focus, state), choices=choices)


def _next_focus(state: FlowState, answer: Answer, ctx: Context) -> Go:
    return Go("next_session", {"next_focus": str(answer)})


def _focus_label(state: FlowState, ctx: Context) -> str:
    focus = str(state.data.get("next_focus", ""))
    return ctx.playbook.focus_label(focus) or focus


def _next_session_prompt(state: FlowState, ctx: Context) -> Message:
    return Message(fill(ReviewText.next_session, state, focus=_focus_label(state, ctx)),
                   form=NEXT_SESSION)


def _next_session(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    when = future_date(as_mapping(answer)["session_date"], ctx.today, past=ReviewText.date_past,
                       far=ReviewText.date_far, label=ReviewText.session_date)
    if isinstance(when, Retry):
        return when
    then = fill(ReviewText.next_session_planned, state, focus=_focus_label(state, ctx),
                date=when.isoformat())
    return _complete(state, "met", {}, next_focus=str(state.data["next_focus"]),
                     next_session_date=when, then=then)


def _accountability(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    values = as_mapping(answer)
    dates: dict[str, date] = {}
    for key, label in (("due", ReviewText.action_due), ("follow_up", ReviewText.follow_up)):
        when = future_date(values[key], ctx.today, past=ReviewText.date_past,
                           far=ReviewText.date_far,
                           label=label)
        if isinstance(when, Retry):
            return when
        dates[key] = when
    commitment = ActionDraft(values["agreed_action"], "rep", dates["due"])
    then = (fill(ReviewText.commitment, state, action=commitment.description,
                 due=commitment.due.isoformat())
            + fill(ReviewText.next_review_planned, state, date=dates["follow_up"].isoformat()))
    return _complete(state, "not_done", {"coaching_discussion": dict(values)},
                     leaf="COACHING_DISCUSSION", next_review_date=dates["follow_up"],
                     actions=(commitment,), then=then)


def _next_review(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    values = as_mapping(answer)
    review = future_date(values["review_date"], ctx.today, past=ReviewText.date_past,
                         far=ReviewText.date_far, label=ReviewText.review_date)
    if isinstance(review, Retry):
        return review
    return _complete(state, "improving", {"note": values.get("note", "")},
                     next_review_date=review,
                     then=fill(ReviewText.next_review_planned, state, date=review.isoformat()))


def _after_leaf(leaf: str) -> str:
    """After the rerun's leaf: its own step, then a planned review (METHOD §6)."""
    if leaf == "NO_ACTION":
        return "no_action"
    if leaf in SYSTEMIC:
        return "escalation"
    if leaf in PRIVATE:
        return "private_note"
    return "leaf_step"


def _leaf(state: FlowState) -> str:
    return str(state.data.get("leaf"))


def _no_action(state: FlowState, answer: Answer, ctx: Context) -> Go:
    reason = as_mapping(answer).get("reason", "")
    notes = {"chart": dict(chart_answers(state)), "category": state.data.get("category"),
             "reason": reason}
    done = _complete(state, "no_action", notes, leaf="NO_ACTION")
    return replace(done, effects=(*done.effects, _leaf_outcome(state, NoAction(reason))))


def _escalation_prompt(state: FlowState, ctx: Context) -> Message:
    return Message(fill(leaf_steps.LeafText.escalation, state, above=leaf_steps.LeafText.above),
                   form=leaf_steps.ESCALATION)


def _escalation(state: FlowState, answer: Answer, ctx: Context) -> Go:
    record = leaf_steps.escalation(as_mapping(answer))
    leaf = _leaf(state)
    raised = RaiseEscalation(
        plan_of(state).session_id, leaf, record.impact, record.evidence, fix_owner=record.owner,
        review_id=plan_of(state).review_id,
        notice=leaf_steps.notice(coach=ctx.actor.name, rep=plan_of(state).rep_name,
                                 leaf=ctx.playbook.leaf_label(leaf), impact=record.impact,
                                 evidence=record.evidence,
                                 owner=record.owner))
    return Go("plan_review", {"leaf_record": record.values()}, (raised,))


def _private_note(state: FlowState, answer: Answer, ctx: Context) -> Go:
    leaf = _leaf(state)
    note = KeepPrivateNote(plan_of(state).session_id, PRIVATE[leaf], as_mapping(answer)["note"])
    return Go("plan_review", {"leaf_record": leaf_steps.private_record(leaf).values()},
              (note,))


def _leaf_prompt(state: FlowState, ctx: Context) -> Message:
    return Message(leaf_steps.prompt(_leaf(state), plan_of(state).rep_name or "the rep"),
                   form=leaf_steps.form(_leaf(state)))


def _leaf_step(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    leaf = _leaf(state)
    record = leaf_steps.read(leaf, as_mapping(answer), ctx.today)
    if isinstance(record, Retry):
        return record
    effects: list[Effect] = []
    decided_above = leaf_steps.leader_decides(record)
    if decided_above:
        solution = leaf_steps.summary(record)
        effects.append(RaiseEscalation(
            plan_of(state).session_id, leaf, decided_above, solution,
            review_id=plan_of(state).review_id,
            notice=leaf_steps.notice(coach=ctx.actor.name, rep=plan_of(state).rep_name,
                                     leaf=ctx.playbook.leaf_label(leaf), impact=decided_above,
                                     evidence=solution,
                                     owner="")))
    return Go("plan_review", {"leaf_record": record.values()}, tuple(effects))


def _record(state: FlowState) -> LeafRecord:
    leaf = _leaf(state)
    stored = as_mapping(state.data.get("leaf_record"))
    if leaf in PRIVATE:
        return leaf_steps.private_record(leaf)
    if leaf in SYSTEMIC:
        return leaf_steps.escalation({k: str(v) for k, v in stored.items()})
    return leaf_steps.rebuild(leaf, stored)


def _planned(state: FlowState) -> tuple[LeafRecord, ActionDraft | None, str | None]:
    """What the rerun's leaf leads to: its record, the action it implies, the model."""
    record = _record(state)
    if _leaf(state) in PRIVATE:
        return record, None, None
    return record, leaf_steps.action(record), PLANNED_MODEL.get(_leaf(state))


def _plan_prompt(state: FlowState, ctx: Context) -> Message:
    record, action, model = _planned(state)
    rep_ref = plan_of(state).rep_ref
    if model is not None:
        plan = ReviewText.plan_model.format(model=MODEL_LABELS[model], rep_ref=rep_ref)
    elif action is not None:
        owner = plan_of(state).rep_name if action.owner == "rep" else ReviewText.manager
        plan = ReviewText.plan_action.format(action=action.description, owner=owner,
                                    due=action.due.isoformat())
    elif _leaf(state) in PRIVATE:
        plan = ReviewText.plan_private
    else:
        plan = ReviewText.plan_step.format(summary=leaf_steps.summary(record))
    return Message(fill(ReviewText.plan_review, state, plan=plan), form=PLAN_REVIEW)


def _plan_review(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    values = as_mapping(answer)
    review = future_date(values["review_date"], ctx.today, past=ReviewText.date_past,
                         far=ReviewText.date_far, label=ReviewText.review_date)
    if isinstance(review, Retry):
        return review
    record, action, model = _planned(state)
    notes = {"chart": dict(chart_answers(state)), "category": state.data.get("category"),
             "agreed_solution": leaf_steps.summary(record), "note": values.get("note", "")}
    done = _complete(state, "no_change", notes, leaf=_leaf(state), next_review_date=review,
                     actions=(action,) if action else (), next_model=model)
    said = done.say
    if model is not None:
        said = (*said, Message(fill(ReviewText.model_next, state, model=MODEL_LABELS[model])))
    return replace(done, effects=(*done.effects, _leaf_outcome(state, record)), say=said)


def _leaf_outcome(state: FlowState, record: LeafRecord) -> RecordLeafOutcome:
    return RecordLeafOutcome(plan_of(state).session_id, plan_of(state).review_id, _leaf(state),
                             str(state.data.get("category")), record)


def _complete(
    state: FlowState,
    result: ReviewOutcome,
    notes: Mapping[str, Any],
    *,
    leaf: str | None = None,
    next_review_date: date | None = None,
    next_focus: str | None = None,
    next_session_date: date | None = None,
    actions: tuple[ActionDraft, ...] = (),
    next_model: str | None = None,
    then: str = "",
) -> Go:
    """End the review; ``then`` tells the manager the next concrete step and its command."""
    late = {a["id"] for a in _late_of_manager(state)}  # an answer changed after /back drops
    rescheduled = tuple((action_id, date.fromisoformat(str(due))) for action_id, due
                        in as_mapping(state.data.get("rescheduled")).items() if action_id in late)
    effect = CompleteReview(
        review_id=plan_of(state).review_id, session_id=plan_of(state).session_id,
        metric_value=float(state.data["metric_value"]), outcome=result,
        action_status=_statuses(state), notes=notes, leaf=leaf,
        next_review_date=next_review_date, next_focus=next_focus,
        next_session_date=next_session_date, actions=actions, rescheduled=rescheduled,
        next_model=next_model,
    )
    done = Message(fill(ReviewText.done, state, outcome=ReviewText.outcomes[result]) + then)
    return Go(END, effects=(effect,), say=(done,))


SPEC = FlowSpec(NAME, title=ReviewText.title, short_title="Plan review", runs_in="modal",
                build=build, start=start, subject=rep_named_in, resumed_by="/review {ref}")
