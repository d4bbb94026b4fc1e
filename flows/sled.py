"""One coaching session: Set the stage, Lead the analysis, Explore, Develop (METHOD §2).

``build(playbook)`` returns the declared step table; the bot starts it with
``start`` and moves it with :func:`flows.engine.advance`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from flows import drafts, leaf_steps, roam, sled_analysis, suggestions, triage
from flows.chart_steps import chart_answers, chart_steps
from flows.effects import (
    ActionDraft,
    AskModel,
    CompleteSession,
    Effect,
    KeepPrivateNote,
    RaiseEscalation,
    RecordLeafOutcome,
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
from flows.leaf_records import LeafRecord, NoAction
from flows.leaf_steps import PRIVATE, SYSTEMIC
from flows.messages import Choice, Form, Message
from flows.playbook import Playbook
from flows.reading import stored_number
from flows.sled_session import SledAnswers, SledSession
from flows.sled_text import (
    ACTION,
    AGREED,
    ALIGNED,
    COMMITTED,
    HANDOFF,
    MAX_ACTIONS,
    MODEL_LABELS,
    MODELS,
    MORE,
    NO_ACTION,
    NOT_COMMITTED,
    PRIVATE_ACTION,
    PRIVATE_NOTE,
    SET_STAGE,
    STAGES,
    SUCCESS,
    SledText,
    action_form,
)
from flows.spec import FlowSpec, rep_named_in

NAME = "sled"
MODEL_FOR_LEAF = {"TRAINING": "training", "JOB_AID": "training", "FEEDBACK": "training",
                  "PRACTICE": "coaching", "COACHING": "coaching"}
MANAGER_OWNED = {"REMOVE_OBSTACLE", "REMOVE_PUNISHMENT", "REMOVE_REWARD", "ARRANGE_CONSEQUENCES",
                 "REFER_PERSONAL", "JOB_FIT"}


def start(playbook: Playbook, ctx: Context, data: Mapping[str, Any],
          flow: Flow | None = None) -> Outcome:
    """``data`` is a :class:`SledSession` as plain data (the brief with ROAM);
    ``flow`` is this flow already built from ``playbook`` (built here when not given)."""
    flow = flow or build(playbook)
    session = SledSession.of(data)
    card = Message(sled_analysis.context_card(data), flow=NAME, step="context")
    # The card is shown once; the conversation keeps only the ROAM numbers it asks about.
    shown = replace(session, brief={"roam": session.brief.get("roam", {})})
    kept = {**data, **shown.as_data()}
    if not ctx.assist:
        return begin(flow, kept, ctx, intro=(card,))
    # With a model: questions for stage L, asked now from the whole brief, kept when they come.
    token = f"{session.session_id}-start"
    started = begin(flow, {**kept, suggestions.TOKEN_KEY: token}, ctx, intro=(card,))
    return replace(started, effects=(suggestions.ask_for(data, token),))


def _fill(template: str, state: FlowState, **extra: Any) -> str:
    return template.format(rep=SledSession.of(state.data).rep_or_default,
                           rep_ref=SledSession.of(state.data).rep_ref, **STAGES, **extra)



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
        return "leaf_step"

    steps: dict[str, Step] = {
        "set_stage": Step("set_stage", "S", _prompt_form(SledText.set_stage, SET_STAGE),
                          lambda s, a, c: Go("rep_aligned", {"set_stage": a}), ("rep_aligned",)),
        "rep_aligned": Step("rep_aligned", "S", _prompt_choice(SledText.aligned, ALIGNED),
                            _aligned, ("gap", "set_stage")),
        "gap": Step("gap", "L", sled_analysis.gap_prompt, sled_analysis.choose_gap,
                    ("views", "stretch_goal")),
        "views": Step("views", "L", sled_analysis.views_prompt, sled_analysis.views,
                      ("focus",)),
        "stretch_goal": Step("stretch_goal", "L", sled_analysis.stretch_prompt,
                             sled_analysis.stretch, ("focus",)),
        "focus": Step("focus", "L", sled_analysis.focus_prompt, sled_analysis.focus,
                      ("problem_agreed", "action")),
        "problem_agreed": Step("problem_agreed", "L", _prompt_choice(SledText.agreed, AGREED),
                               _agreed, (chart.start, "views", triage.DESCRIBE)),
        triage.DESCRIBE: triage.describe_step(chart, "E", _triage_values, _triage_token),
        triage.CONFIRM: triage.confirm_step(chart, "E", after_leaf),
        "no_action": Step("no_action", "E", _prompt_form(SledText.no_action, NO_ACTION), _no_action,
                          (END,)),
        "escalation": Step("escalation", "E", _escalation_prompt, _escalation, ("action",)),
        "private_note": Step("private_note", "E", _prompt_form(SledText.private_note, PRIVATE_NOTE),
                             _private_note, ("action",)),
        "leaf_step": Step("leaf_step", "E", _leaf_prompt, _leaf_step,
                          ("action", "more_actions")),
        "action": Step("action", "D", _action_prompt, _action, ("more_actions",)),
        "more_actions": Step("more_actions", "D", _more_prompt, _more,
                             ("action", "success", drafts.STEP)),
        drafts.STEP: drafts.summary_step("success"),
        "success": Step("success", "D", _success_prompt, _success,
                        ("next_model", "committed")),
        "next_model": Step("next_model", "D", _model_prompt,
                           lambda s, a, c: Go("committed", {"next_model": a}), ("committed",)),
        "committed": Step("committed", "D", _committed_prompt, _committed,
                          ("action", "not_committed", "handoff", END)),
        "not_committed": Step("not_committed", "D", _prompt_choice(SledText.not_committed,
                                                                    NOT_COMMITTED),
                              _not_committed, (chart.start, END)),
        "handoff": Step("handoff", "D", _handoff_prompt, _handoff, (END,)),
    }
    steps.update(chart_steps(chart, "E", after_leaf,
                             on_event=(triage.TASK, triage.on_proposals, (triage.CONFIRM,))))
    steps["views"] = replace(steps["views"], prompt=suggestions.showing(steps["views"].prompt))
    for early in ("set_stage", "rep_aligned", "gap", "views"):
        steps[early] = suggestions.listening(steps[early], shown_at="views")
    steps["action"] = replace(steps["action"], prompt=drafts.filling(steps["action"].prompt),
                              handle=drafts.used_one(steps["action"].handle))
    for planning in ("action", "more_actions"):
        steps[planning] = drafts.listening(steps[planning], shown_at="action")
    return Flow(NAME, "Coaching session (SLED)", STAGES, steps, "set_stage", on_cancel=_cancel)


def _aligned(state: FlowState, answer: Answer, ctx: Context) -> Go:
    if answer == "revise":
        return Go("set_stage", say=(Message(_fill(SledText.not_aligned, state)),))
    values = {**as_mapping(state.data.get("set_stage")), "rep_aligned": answer == "yes"}
    return Go("gap", {"rep_aligned": answer == "yes"},
              (RecordStage(SledSession.of(state.data).session_id, "S", values),))


def _agreed(state: FlowState, answer: Answer, ctx: Context) -> Go:
    if answer == "revise":
        return Go("views", say=(Message(SledText.revisit),))
    values = {
        "roam": state.data.get("brief", {}).get("roam", {}),
        "gap": state.data.get("gap"),
        "gap_numbers": state.data.get("gap_numbers"),
        **as_mapping(state.data.get("views")),
        "focus_area": state.data.get("focus"),
        "problem_agreed": answer == "yes",
    }
    intro = Message(_fill(SledText.chart_intro, state))
    # With a model, the manager may first describe the problem (METHOD §4 shortcut).
    to = triage.DESCRIBE if ctx.assist and answer == "yes" else ctx.playbook.chart.start
    return Go(to, {"problem_agreed": answer == "yes"},
              (RecordStage(SledSession.of(state.data).session_id, "L", values),), say=(intro,))


def _triage_values(state: FlowState) -> dict[str, Any]:
    """What the session knows that the triage prompt may use (the bot redacts it)."""
    views = as_mapping(state.data.get("views"))
    return {"rep": SledSession.of(state.data).rep_name, "focus": state.data.get("focus"),
            "gap": state.data.get("gap"), "gap_numbers": state.data.get("gap_numbers"),
            "gap_statement": views.get("gap_statement", ""),
            "rep_view": views.get("rep_view", ""), "manager_view": views.get("manager_view", ""),
            "roam": state.data.get("brief", {}).get("roam", {})}


def _triage_token(state: FlowState) -> str:
    """Names one request: the session and how far it has come (a later request wins)."""
    return f"{SledSession.of(state.data).session_id}-{len(state.trail)}"


def _explore_record(state: FlowState, **extra: Any) -> RecordStage:
    answers = SledAnswers.of(state.data)
    values = {"chart_answers": dict(chart_answers(state)), "leaf": answers.leaf,
              "category": answers.category, **extra}
    return RecordStage(SledSession.of(state.data).session_id, "E", values)


def _no_action(state: FlowState, answer: Answer, ctx: Context) -> Go:
    reason = as_mapping(answer).get("reason", "")
    sid = SledSession.of(state.data).session_id
    return Go(END, {"no_action": answer}, (
        _explore_record(state, reason=reason),
        CompleteSession(sid, "no_action", leaf="NO_ACTION", category="none",
                        agreed_solution=reason or None),
        RecordLeafOutcome(sid, None, "NO_ACTION", "none", NoAction(reason)),
    ), say=(Message(SledText.no_action_done),))


def _private_note(state: FlowState, answer: Answer, ctx: Context) -> Go:
    leaf = str(SledAnswers.of(state.data).leaf)
    solution = ctx.playbook.chart.leaves[leaf].next
    note = as_mapping(answer)["note"]
    sid = SledSession.of(state.data).session_id
    asks = drafts.ask_for(state, ctx, leaf=leaf, solution=solution, private=True,
                          values={**_triage_values(state), "private_note": note})
    return Go("action", {"private_note": "kept", "agreed_solution": solution, **_token(asks)}, (
        KeepPrivateNote(sid, PRIVATE[leaf], note),
        _explore_record(state, agreed_solution=solution, private_note=True), *asks,
    ))


def _token(asks: tuple[AskModel, ...]) -> dict[str, Any]:
    """The drafts' request token kept in the state (a later answer must match it)."""
    return {drafts.TOKEN_KEY: asks[0].token} if asks else {}


def _escalation_prompt(state: FlowState, ctx: Context) -> Message:
    return Message(_fill(leaf_steps.LeafText.escalation, state, above=leaf_steps.LeafText.above),
                   form=leaf_steps.ESCALATION)


def _escalation(state: FlowState, answer: Answer, ctx: Context) -> Go:
    """The systemic leaf's own step: the escalation is raised now, whatever the rep
    commits to, because the problem is not the rep's."""
    values = as_mapping(answer)
    record = leaf_steps.escalation(values)
    leaf, sid = str(SledAnswers.of(state.data).leaf), SledSession.of(state.data).session_id
    raised = RaiseEscalation(
        sid, leaf, record.impact, record.evidence, fix_owner=record.owner,
        notice=leaf_steps.notice(coach=ctx.actor.name, rep=SledSession.of(state.data).rep_name,
                                 leaf=ctx.playbook.leaf_label(leaf), impact=record.impact,
                                 evidence=record.evidence,
                                 owner=record.owner))
    solution = leaf_steps.summary(record)
    asks = drafts.ask_for(state, ctx, leaf=leaf, solution=solution, private=False,
                          values=_triage_values(state))
    return Go("action", {"escalation": dict(values), "leaf_record": record.values(),
                         "agreed_solution": solution, **_token(asks)},
              (raised, _explore_record(state, agreed_solution=solution), *asks))


def _leaf_prompt(state: FlowState, ctx: Context) -> Message:
    leaf = str(SledAnswers.of(state.data).leaf)
    return Message(leaf_steps.prompt(leaf, str(SledSession.of(state.data).rep_or_default)),
                   form=leaf_steps.form(leaf))


def _leaf_step(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    """The leaf's concrete next step; the action it implies starts the plan."""
    leaf = str(SledAnswers.of(state.data).leaf)
    record = leaf_steps.read(leaf, as_mapping(answer), ctx.today)
    if isinstance(record, Retry):
        return record
    solution = leaf_steps.summary(record)
    effects: list[Effect] = [_explore_record(state, agreed_solution=solution,
                                             options=record.values().get("options", ""))]
    decided_above = leaf_steps.leader_decides(record)
    if decided_above:
        effects.insert(0, RaiseEscalation(
            SledSession.of(state.data).session_id, leaf, decided_above, solution,
            notice=leaf_steps.notice(coach=ctx.actor.name, rep=SledSession.of(state.data).rep_name,
                                     leaf=ctx.playbook.leaf_label(leaf), impact=decided_above,
                                     evidence=solution,
                                     owner="")))
    asks = drafts.ask_for(state, ctx, leaf=leaf, solution=solution, private=False,
                          values=_triage_values(state))
    effects.extend(asks)
    data: dict[str, Any] = {"leaf_record": record.values(), "agreed_solution": solution,
                            "actions": [], **_token(asks)}
    implied = leaf_steps.action(record)
    if implied is None:
        return Go("action", data, tuple(effects))
    data["actions"] = [_action_data(implied.description, implied.owner, implied.due,
                                    implied.shown_to_rep)]
    return Go("more_actions", data, tuple(effects))


def _action_data(description: str, owner: str, due: date, shared: bool) -> dict[str, Any]:
    return {"description": description, "owner": owner, "due": due.isoformat(),
            "shared": shared}


def _private(state: FlowState) -> bool:
    return SledAnswers.of(state.data).leaf in PRIVATE


def _action_prompt(state: FlowState, ctx: Context) -> Message:
    rep = ctx.subject
    rep_names = (SledSession.of(state.data).rep_ref, *((rep.name, rep.email) if rep else ()))
    form = action_form(SledSession.of(state.data).rep_name, rep_names, ctx.actor.name,
                       ctx.actor.email, base=PRIVATE_ACTION if _private(state) else ACTION)
    if _private(state):
        return Message(_fill(SledText.private_action, state), form=form)
    mine = SledText.manager_owned if SledAnswers.of(state.data).leaf in MANAGER_OWNED else ""
    return Message(_fill(SledText.action, state) + mine, form=form)


def _action(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    values = as_mapping(answer)
    due = future_date(values["due"], ctx.today, past=SledText.due_past, far=SledText.too_far)
    if isinstance(due, Retry):
        return due
    # Shared only when the rep owns it or the manager says so; never after a private leaf.
    chosen = values.get("shared")
    shared = (values["owner"] == "rep") if chosen is None else chosen == "yes"
    actions = [*SledAnswers.of(state.data).actions,
               _action_data(values["description"], values["owner"], due,
                            shared and not _private(state))]
    return Go("more_actions", {"actions": actions})


def _more_prompt(state: FlowState, ctx: Context) -> Message:
    return Message(SledText.more.format(count=len(SledAnswers.of(state.data).actions)),
                   choices=MORE)


def _more(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    if answer == "add":
        if len(SledAnswers.of(state.data).actions) >= MAX_ACTIONS:
            return Retry(SledText.too_many)
        return Go("action")
    return Go(drafts.STEP if drafts.has_summary(state) else "success")


def _success_prompt(state: FlowState, ctx: Context) -> Message:
    """The success metric: the gap picked from the data fills in the metric, the baseline
    (its actual) and the target, so only the review date is left to type."""
    numbers = sled_analysis.gap_numbers(state)
    if not numbers or numbers.get("target") is None:
        return Message(_fill(SledText.success, state), form=SUCCESS)
    known = {"metric": str(numbers["metric"]),
             "baseline": stored_number(float(numbers["actual"])),
             "target": stored_number(float(numbers["target"]))}
    form = replace(SUCCESS, fields=tuple(replace(f, value=known.get(f.id, f.value))
                                         for f in SUCCESS.fields))
    return Message(_fill(SledText.success_from_data, state, metric=known["metric"]), form=form)


def _success(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    values = as_mapping(answer)
    review = future_date(values["review_date"], ctx.today, past=SledText.review_past,
                         far=SledText.too_far)
    if isinstance(review, Retry):
        return review
    success = {**values, "review_date": review.isoformat()}
    if _private(state):  # no skills training or coaching after a private leaf
        return Go("committed", {"success": success, "next_model": "none"})
    return Go("next_model", {"success": success})


def _model_prompt(state: FlowState, ctx: Context) -> Message:
    suggested = MODEL_FOR_LEAF.get(str(SledAnswers.of(state.data).leaf), "none")
    choices = tuple(Choice(c.id, c.label + (" (suggested)" if c.id == suggested else ""))
                    for c in MODELS)
    return Message(SledText.model, choices=choices)


def _plan_text(state: FlowState, *, for_rep: bool = False) -> str:
    answers = SledAnswers.of(state.data)
    success = answers.success
    lines = [f"Focus: {state.data.get('focus_label', state.data.get('focus', ''))}",
             f"Agreed solution: {answers.agreed_solution}"]
    for a in answers.actions:
        if for_rep and not a.get("shared"):
            continue
        owner = SledSession.of(state.data).rep_name if a["owner"] == "rep" else "manager"
        lines.append(f"  • {a['description']} — {owner}, due {a['due']}")
    if success:
        lines.append(f"Success: {success['metric']} from {roam.fmt(number(success['baseline']))}"
                     f" to {roam.fmt(number(success['target']))}; "
                     f"next review {success['review_date']}")
    return "\n".join(lines)


def _committed_prompt(state: FlowState, ctx: Context) -> Message:
    template = SledText.private_committed if _private(state) else SledText.committed
    return Message(_fill(template, state), choices=COMMITTED)


def _drafts(state: FlowState) -> tuple[ActionDraft, ...]:
    return tuple(ActionDraft(a["description"], a["owner"], date.fromisoformat(a["due"]),
                             shared=bool(a.get("shared")) and not _private(state))
                 for a in SledAnswers.of(state.data).actions)


def _leaf_outcome(state: FlowState) -> RecordLeafOutcome | None:
    """The typed record of the leaf's step, stored when the rep commits."""
    answers = SledAnswers.of(state.data)
    leaf = str(answers.leaf)
    record: LeafRecord
    if leaf in PRIVATE:
        record = leaf_steps.private_record(leaf)
    elif leaf in SYSTEMIC:
        record = leaf_steps.escalation(answers.escalation)
    elif leaf_steps.has_step(leaf) and answers.leaf_record:
        record = leaf_steps.rebuild(leaf, answers.leaf_record)
    else:
        return None
    return RecordLeafOutcome(SledSession.of(state.data).session_id, None, leaf,
                             str(answers.category), record)


def _committed(state: FlowState, answer: Answer, ctx: Context) -> Go:
    if answer == "revise":
        return Go("action", {"actions": []})
    if answer == "no":
        return Go("not_committed", {"committed": False})
    focus_label = ctx.playbook.focus_label(str(state.data.get("focus", "")))
    state = state.with_data(focus_label=focus_label, committed=True)
    answers = SledAnswers.of(state.data)
    success = answers.success
    sid = SledSession.of(state.data).session_id
    model = str(state.data.get("next_model", "none"))
    complete = CompleteSession(
        sid, "completed",
        leaf=answers.leaf, category=answers.category,
        agreed_solution=state.data.get("agreed_solution"),
        actions=_drafts(state),
        metric=success.get("metric"),
        baseline=number(success["baseline"]) if "baseline" in success else None,
        target=number(success["target"]) if "target" in success else None,
        review_date=date.fromisoformat(success["review_date"]) if success else None,
        next_model=model, rep_committed=True,
    )
    record = RecordStage(sid, "D", {
        "actions": answers.actions, **success,
        "next_model": model, "rep_committed": True,
        **({"summary": state.data["summary"]} if state.data.get("summary") else {}),
    })
    effects: list[Effect] = [record, complete]
    outcome = _leaf_outcome(state)
    if outcome is not None:
        effects.append(outcome)
    rep = SledSession.of(state.data).rep_name
    messages = [Message(SledText.done.format(rep=rep, plan=_plan_text(state)))]
    if ctx.subject is not None:
        messages += _to_rep(state, ctx, ctx.subject.email)
    data = {"focus_label": focus_label, "committed": True}
    to = "handoff" if model != "none" else END
    return Go(to, data, tuple(effects), say=tuple(messages))


def _to_rep(state: FlowState, ctx: Context, rep_email: str) -> list[Message]:
    """What reaches the rep: the shared plan; after a private leaf, at most a neutral
    line (METHOD §9: a manager's private notes are never shown to the rep)."""
    if _private(state):
        if not ctx.playbook.tell_rep_after_private_leaf:
            return []
        return [Message(SledText.rep_private.format(manager=ctx.actor.name), to=rep_email)]
    plan = _plan_text(state, for_rep=True)
    return [Message(SledText.rep_summary.format(manager=ctx.actor.name, plan=plan), to=rep_email)]


def _not_committed(state: FlowState, answer: Answer, ctx: Context) -> Go:
    if answer == "explore":
        cleared: dict[str, Any] = {
            "leaf": None, "category": None, "actions": [], "leaf_record": None,
            "agreed_solution": None, "success": None, "next_model": None}
        return Go(ctx.playbook.chart.start, cleared,
                  say=(Message(_fill(SledText.chart_intro, state)),))
    sid, answers = SledSession.of(state.data).session_id, SledAnswers.of(state.data)
    complete = CompleteSession(sid, "no_agreement", leaf=answers.leaf,
                               category=answers.category,
                               agreed_solution=state.data.get("agreed_solution"),
                               rep_committed=False)
    record = RecordStage(sid, "D", {"actions": answers.actions,
                                    "rep_committed": False})
    return Go(END, effects=(record, complete),
              say=(Message(_fill(SledText.no_agreement_done, state)),))


def _handoff_prompt(state: FlowState, ctx: Context) -> Message:
    model = MODEL_LABELS[str(state.data.get("next_model"))]
    return Message(_fill(SledText.handoff, state, model=model), choices=HANDOFF)


def _handoff(state: FlowState, answer: Answer, ctx: Context) -> Go:
    if answer == "now":
        return Go(END, effects=(StartFlow(str(state.data["next_model"]),
                                          SledSession.of(state.data).session_id),))
    return Go(END, say=(Message(f"Saved. Run it later with /model {state.data['rep_ref']}."),))


def _cancel(state: FlowState) -> tuple[Effect, ...]:
    if state.step == "handoff":  # the plan is committed and the session complete: keep it
        return ()
    return (CompleteSession(SledSession.of(state.data).session_id, "cancelled"),)


SPEC = FlowSpec(NAME, title="Coaching session (SLED)", short_title="Coaching session",
                runs_in="modal", build=build, start=start, subject=rep_named_in,
                resumed_by="/coach {ref}")
