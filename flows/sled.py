"""One coaching session: Set the stage, Lead the analysis, Explore, Develop (METHOD §2).

``build(playbook)`` returns the declared step table; the bot starts it with
``start`` and moves it with :func:`flows.engine.advance`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flows import roam
from flows.chart_steps import chart_answers, chart_steps
from flows.effects import (
    ActionDraft,
    CompleteSession,
    Effect,
    KeepPrivateNote,
    RaiseEscalation,
    RecordStage,
    StartFlow,
)
from flows.engine import (
    END,
    Answer,
    Context,
    Flow,
    FlowState,
    Go,
    Outcome,
    Retry,
    Step,
    as_mapping,
    begin,
    future_date,
    number,
)
from flows.messages import Choice, Form, Message
from flows.playbook import Playbook
from flows.sled_text import (
    AGREED,
    ALIGNED,
    COMMITTED,
    ESCALATION,
    HANDOFF,
    MAX_ACTIONS,
    MODEL_LABELS,
    MODELS,
    MORE,
    NO_ACTION,
    PRIVATE_NOTE,
    SET_STAGE,
    SOLUTION,
    SUCCESS,
    VIEWS,
    T,
    action_form,
)

NAME = "sled"
STAGES = {
    "S": "S — Set the stage",
    "L": "L — Lead the performance analysis",
    "E": "E — Explore solutions",
    "D": "D — Develop the action plan",
}
SYSTEMIC = {"SYSTEMIC_REDESIGN", "ESCALATE_SYSTEMIC"}
PRIVATE = {"REFER_PERSONAL": "personal", "JOB_FIT": "job_fit"}
MODEL_FOR_LEAF = {"TRAINING": "training", "JOB_AID": "training", "FEEDBACK": "training",
                  "PRACTICE": "coaching", "COACHING": "coaching"}
MANAGER_OWNED = {"REMOVE_OBSTACLE", "REMOVE_PUNISHMENT", "REMOVE_REWARD", "ARRANGE_CONSEQUENCES",
                 "REFER_PERSONAL", "JOB_FIT"}


def start(playbook: Playbook, ctx: Context, data: Mapping[str, Any],
          flow: Flow | None = None) -> Outcome:
    """``data`` holds session_id, rep_id, rep_name, rep_ref and the brief (with ROAM);
    ``flow`` is this flow already built from ``playbook`` (built here when not given)."""
    flow = flow or build(playbook)
    card = Message(context_card(data), flow=NAME, step="context")
    # The card is shown once; the conversation keeps only the ROAM numbers it asks about.
    kept = {**data, "brief": {"roam": data.get("brief", {}).get("roam", {})}}
    return begin(flow, kept, ctx, intro=(card,))


def context_card(data: Mapping[str, Any]) -> str:
    brief = data.get("brief", {})
    lines = [f"Coaching {data['rep_name']} — before you start:"]
    last = brief.get("last_session")
    if last:
        lines.append(f"Last session: {last['date']}, focus {last['focus']}, "
                     f"result {last['leaf'] or 'open'}.")
    else:
        lines.append("Last session: none recorded.")
    actions = brief.get("open_actions", [])
    lines.append(f"Open action items: {len(actions) or 'none'}")
    lines += [f"  • {a['description']} — {a['owner']}, due {a['due']} ({a['status']})"
              for a in actions[:8]]
    checkins = brief.get("checkins", [])
    if checkins:
        lines.append("Recent check-ins:")
        lines += [f"  • {c['week']}: {c['summary']}" for c in checkins[:3]]
    lines.append(roam.describe(brief.get("roam", {})))
    return "\n".join(lines)


def _fill(template: str, state: FlowState, **extra: Any) -> str:
    return template.format(rep=state.data.get("rep_name", "the rep"),
                           rep_ref=state.data.get("rep_ref", ""), **STAGES, **extra)



def _prompt_choice(template: str, choices: tuple[Choice, ...]) -> Any:
    return lambda state, ctx: Message(_fill(template, state), choices=choices)


def _prompt_form(template: str, form: Form) -> Any:
    return lambda state, ctx: Message(_fill(template, state), form=form)


def build(playbook: Playbook) -> Flow:
    chart = playbook.chart

    def after_leaf(leaf: str) -> str:
        if leaf == "DEFINE_GAP":
            return "gap"
        if leaf == "NO_ACTION":
            return "no_action"
        if leaf in SYSTEMIC:
            return "escalation"
        if leaf in PRIVATE:
            return "private_note"
        return "solution"

    steps: dict[str, Step] = {
        "set_stage": Step("set_stage", "S", _prompt_form(T.set_stage, SET_STAGE),
                          lambda s, a, c: Go("rep_aligned", {"set_stage": a}), ("rep_aligned",)),
        "rep_aligned": Step("rep_aligned", "S", _prompt_choice(T.aligned, ALIGNED),
                            _aligned, ("gap", "set_stage")),
        "gap": Step("gap", "L", _gap_prompt, lambda s, a, c: Go("views", {"gap": a}), ("views",)),
        "views": Step("views", "L", _prompt_form(T.views, VIEWS),
                      lambda s, a, c: Go("focus", {"views": a}), ("focus",)),
        "focus": Step("focus", "L", _focus_prompt,
                      lambda s, a, c: Go("problem_agreed", {"focus": a}), ("problem_agreed",)),
        "problem_agreed": Step("problem_agreed", "L", _prompt_choice(T.agreed, AGREED),
                               _agreed, (chart.start, "views")),
        "no_action": Step("no_action", "E", _prompt_form(T.no_action, NO_ACTION), _no_action,
                          (END,)),
        "escalation": Step("escalation", "E", _prompt_form(T.escalation, ESCALATION),
                           lambda s, a, c: Go("solution", {"escalation": a}), ("solution",)),
        "private_note": Step("private_note", "E", _prompt_form(T.private_note, PRIVATE_NOTE),
                             _private_note, ("action",)),
        "solution": Step("solution", "E", _prompt_form(T.solution, SOLUTION), _solution,
                         ("action",)),
        "action": Step("action", "D", _action_prompt, _action, ("more_actions",)),
        "more_actions": Step("more_actions", "D", _more_prompt, _more, ("action", "success")),
        "success": Step("success", "D", _prompt_form(T.success, SUCCESS), _success,
                        ("next_model",)),
        "next_model": Step("next_model", "D", _model_prompt,
                           lambda s, a, c: Go("committed", {"next_model": a}), ("committed",)),
        "committed": Step("committed", "D", _prompt_choice(T.committed, COMMITTED), _committed,
                          ("action", "handoff", END)),
        "handoff": Step("handoff", "D", _handoff_prompt, _handoff, (END,)),
    }
    steps.update(chart_steps(chart, "E", after_leaf))
    return Flow(NAME, "Coaching session (SLED)", STAGES, steps, "set_stage", on_cancel=_cancel)


def _aligned(state: FlowState, answer: Answer, ctx: Context) -> Go:
    if answer == "revise":
        return Go("set_stage", say=(Message(_fill(T.not_aligned, state)),))
    values = {**as_mapping(state.data.get("set_stage")), "rep_aligned": answer == "yes"}
    return Go("gap", {"rep_aligned": answer == "yes"},
              (RecordStage(state.data["session_id"], "S", values),))


def _gap_choices(state: FlowState) -> tuple[Choice, ...]:
    snap = state.data.get("brief", {}).get("roam", {})
    lines = [x for x in roam.lines_of(snap) if x.below]
    choices = [Choice(f"metric:{x.metric}",
                      f"{x.metric}: {roam.fmt(x.actual)} of {roam.fmt(x.target)}") for x in lines]
    if not any(x.kind == "result" for x in lines):
        choices.append(Choice("stretch", "Set a stretch or development goal"))
    choices.append(Choice("other", "Another gap (I'll describe it)"))
    return tuple(choices)


def _gap_prompt(state: FlowState, ctx: Context) -> Message:
    snap = state.data.get("brief", {}).get("roam", {})
    return Message(_fill(T.gap, state, roam=roam.describe(snap)), choices=_gap_choices(state))


def _focus_prompt(state: FlowState, ctx: Context) -> Message:
    choices = tuple(Choice(f.id, f.label) for f in ctx.playbook.focus_areas)
    return Message(_fill(T.focus, state), choices=choices)


def _agreed(state: FlowState, answer: Answer, ctx: Context) -> Go:
    if answer == "revise":
        return Go("views", say=(Message(T.revisit),))
    values = {
        "roam": state.data.get("brief", {}).get("roam", {}),
        "gap": state.data.get("gap"),
        **as_mapping(state.data.get("views")),
        "focus_area": state.data.get("focus"),
        "problem_agreed": answer == "yes",
    }
    intro = Message(_fill(T.chart_intro, state))
    return Go(ctx.playbook.chart.start, {"problem_agreed": answer == "yes"},
              (RecordStage(state.data["session_id"], "L", values),), say=(intro,))


def _explore_record(state: FlowState, **extra: Any) -> RecordStage:
    values = {"chart_answers": dict(chart_answers(state)), "leaf": state.data.get("leaf"),
              "category": state.data.get("category"), **extra}
    return RecordStage(state.data["session_id"], "E", values)


def _no_action(state: FlowState, answer: Answer, ctx: Context) -> Go:
    reason = as_mapping(answer).get("reason", "")
    sid = state.data["session_id"]
    return Go(END, {"no_action": answer}, (
        _explore_record(state, reason=reason),
        CompleteSession(sid, "no_action", leaf="NO_ACTION", category="none",
                        agreed_solution=reason or None),
    ), say=(Message(T.no_action_done),))


def _private_note(state: FlowState, answer: Answer, ctx: Context) -> Go:
    leaf = str(state.data.get("leaf"))
    solution = ctx.playbook.chart.leaves[leaf].next
    note = as_mapping(answer)["note"]
    sid = state.data["session_id"]
    return Go("action", {"private_note": "kept", "solution": {"agreed_solution": solution}}, (
        KeepPrivateNote(sid, PRIVATE[leaf], note),
        _explore_record(state, agreed_solution=solution, private_note=True),
    ))


def _solution(state: FlowState, answer: Answer, ctx: Context) -> Go:
    effects: list[Effect] = []
    escalation = as_mapping(state.data.get("escalation"))
    leaf = str(state.data.get("leaf"))
    if leaf in SYSTEMIC and escalation:
        effects.append(RaiseEscalation(state.data["session_id"], leaf,
                                       escalation["impact"], escalation["evidence"]))
    effects.append(_explore_record(state, **as_mapping(answer)))
    return Go("action", {"solution": answer}, tuple(effects))


def _action_prompt(state: FlowState, ctx: Context) -> Message:
    mine = T.manager_owned if state.data.get("leaf") in MANAGER_OWNED else ""
    rep = ctx.subject
    rep_names = (str(state.data.get("rep_ref", "")), *((rep.name, rep.email) if rep else ()))
    form = action_form(str(state.data.get("rep_name", "")), rep_names, ctx.actor.name,
                       ctx.actor.email)
    return Message(_fill(T.action, state) + mine, form=form)


def _action(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    values = as_mapping(answer)
    due = future_date(values["due"], ctx.today, past=T.due_past, far=T.too_far)
    if isinstance(due, Retry):
        return due
    actions = [*state.data.get("actions", []),
               {"description": values["description"], "owner": values["owner"],
                "due": due.isoformat()}]
    return Go("more_actions", {"actions": actions})


def _more_prompt(state: FlowState, ctx: Context) -> Message:
    return Message(T.more.format(count=len(state.data.get("actions", []))), choices=MORE)


def _more(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    if answer == "add":
        if len(state.data.get("actions", [])) >= MAX_ACTIONS:
            return Retry(T.too_many)
        return Go("action")
    return Go("success")


def _success(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    values = as_mapping(answer)
    review = future_date(values["review_date"], ctx.today, past=T.review_past, far=T.too_far)
    if isinstance(review, Retry):
        return review
    return Go("next_model", {"success": {**values, "review_date": review.isoformat()}})


def _model_prompt(state: FlowState, ctx: Context) -> Message:
    suggested = MODEL_FOR_LEAF.get(str(state.data.get("leaf")), "none")
    choices = tuple(Choice(c.id, c.label + (" (suggested)" if c.id == suggested else ""))
                    for c in MODELS)
    return Message(T.model, choices=choices)


def _plan_text(state: FlowState, *, for_rep: bool = False) -> str:
    success = as_mapping(state.data.get("success"))
    solution = as_mapping(state.data.get("solution")).get("agreed_solution", "")
    lines = [f"Focus: {state.data.get('focus_label', state.data.get('focus', ''))}"]
    # A private leaf's solution (HR referral, job fit) is the manager's alone.
    if not (for_rep and state.data.get("leaf") in PRIVATE):
        lines.append(f"Agreed solution: {solution}")
    for a in state.data.get("actions", []):
        owner = state.data.get("rep_name") if a["owner"] == "rep" else "manager"
        lines.append(f"  • {a['description']} — {owner}, due {a['due']}")
    if success:
        lines.append(f"Success: {success['metric']} from {roam.fmt(number(success['baseline']))}"
                     f" to {roam.fmt(number(success['target']))}; "
                     f"next review {success['review_date']}")
    return "\n".join(lines)


def _committed(state: FlowState, answer: Answer, ctx: Context) -> Go:
    if answer == "revise":
        return Go("action", {"actions": []})
    focus_label = ctx.playbook.focus_label(str(state.data.get("focus", "")))
    state = state.with_data(focus_label=focus_label, committed=answer == "yes")
    success = as_mapping(state.data.get("success"))
    sid = state.data["session_id"]
    model = str(state.data.get("next_model", "none"))
    complete = CompleteSession(
        sid, "completed",
        leaf=state.data.get("leaf"), category=state.data.get("category"),
        agreed_solution=as_mapping(state.data.get("solution")).get("agreed_solution"),
        actions=tuple(ActionDraft(a["description"], a["owner"], date.fromisoformat(a["due"]))
                      for a in state.data.get("actions", [])),
        metric=success.get("metric"),
        baseline=number(success["baseline"]) if "baseline" in success else None,
        target=number(success["target"]) if "target" in success else None,
        review_date=date.fromisoformat(success["review_date"]) if success else None,
        next_model=model, rep_committed=answer == "yes",
    )
    record = RecordStage(sid, "D", {
        "actions": state.data.get("actions", []), **success,
        "next_model": model, "rep_committed": answer == "yes",
    })
    plan = _plan_text(state)
    messages = [Message(T.done.format(rep=state.data["rep_name"], plan=plan))]
    if ctx.subject is not None:
        rep_plan = _plan_text(state, for_rep=True)
        messages.append(Message(T.rep_summary.format(manager=ctx.actor.name, plan=rep_plan),
                                to=ctx.subject.email))
    data = {"focus_label": focus_label, "committed": answer == "yes"}
    to = "handoff" if model != "none" else END
    return Go(to, data, (record, complete), say=tuple(messages))


def _handoff_prompt(state: FlowState, ctx: Context) -> Message:
    model = MODEL_LABELS[str(state.data.get("next_model"))]
    return Message(_fill(T.handoff, state, model=model), choices=HANDOFF)


def _handoff(state: FlowState, answer: Answer, ctx: Context) -> Go:
    if answer == "now":
        return Go(END, effects=(StartFlow(str(state.data["next_model"]),
                                          state.data["session_id"]),))
    return Go(END, say=(Message(f"Saved. Run it later with /model {state.data['rep_ref']}."),))


def _cancel(state: FlowState) -> tuple[Effect, ...]:
    if state.step == "handoff":  # the plan is committed and the session complete: keep it
        return ()
    return (CompleteSession(state.data["session_id"], "cancelled"),)

