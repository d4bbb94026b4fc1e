"""Stage D drafts (issue 11): after the leaf, the model is asked for a session summary and
up to three action items; they arrive as an ``Event`` while the manager is on the action
plan, fill in the action form (edited before it is saved, as anything typed), and the
summary comes back as an editable step before the success metric. Without a model or an
answer, stage D reads as it always did. After a private leaf nothing is asked unless the
org's playbook lets private content go to the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from flows.effects import AskModel
from flows.engine import Answer, Context, FlowState, Go, Prompt, Retry, Step, as_mapping
from flows.messages import Field, Form, Message

TASK = "summary"
STEP = "session_summary"
TOKEN_KEY, SUMMARY_KEY, ACTIONS_KEY = "summary_token", "draft_summary", "draft_actions"
MOST, LONGEST = 3, 300


class DraftText:
    action = "Drafted by the model from the session; edit anything before saving."
    summary = ("A summary of the session, drafted by the model from what was agreed: edit "
               "it, or clear it to keep none.")
    summary_field = "Session summary"


SUMMARY_FORM = Form(STEP, (Field("summary", DraftText.summary_field, "long_text",
                                 required=False),))


def ask_for(state: FlowState, ctx: Context, *, leaf: str, solution: str, private: bool,
            values: Mapping[str, Any]) -> tuple[AskModel, ...]:
    """The request as the leaf's step ends (none without a model, or after a private leaf
    the org keeps from the model)."""
    if not ctx.assist or (private and not ctx.playbook.model.send_private):
        return ()
    token = f"{state.data.get('session_id')}-summary-{len(state.trail)}"
    return (AskModel(TASK, token, {**values, "leaf": ctx.playbook.leaf_label(leaf),
                                   "solution": solution, "today": ctx.today.isoformat()}),)


def drafted_actions(state: FlowState) -> list[dict[str, str]]:
    raw = state.data.get(ACTIONS_KEY)
    if not isinstance(raw, list):
        return []
    return [{k: str(a[k]) for k in ("description", "owner", "due")} for a in raw
            if isinstance(a, Mapping) and {"description", "owner", "due"} <= set(a)]


def on_drafts(shown_at: str) -> Callable[[FlowState, Mapping[str, Any], Context], Go | Retry]:
    """Keep the drafts; at ``shown_at`` (the action form) show the form again, filled in."""

    def handle(state: FlowState, payload: Mapping[str, Any], ctx: Context) -> Go | Retry:
        if payload.get("token") is None or payload.get("token") != state.data.get(TOKEN_KEY):
            return Retry("not this request")
        summary = payload.get("summary")
        actions = [
            {"description": str(a["description"])[:LONGEST], "owner": str(a["owner"]),
             "due": str(a["due"])}
            for a in payload.get("actions") or [] if isinstance(a, Mapping)
            and a.get("owner") in ("rep", "manager") and _is_date(a.get("due"))
            and str(a.get("description") or "").strip()][:MOST]
        data = {TOKEN_KEY: None, SUMMARY_KEY: str(summary)[:2000] if summary else None,
                ACTIONS_KEY: actions}
        return Go(state.step, data, ask=state.step == shown_at and bool(actions))

    return handle


def _is_date(value: object) -> bool:
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def listening(step: Step, shown_at: str) -> Step:
    return replace(step, events=(*step.events, TASK), on_event=on_drafts(shown_at),
                   targets=tuple(dict.fromkeys((*step.targets, step.id))))


def filling(prompt: Prompt) -> Prompt:
    """The action form with the next drafted action in it (its fields still editable)."""

    def filled(state: FlowState, ctx: Context) -> Message:
        message = prompt(state, ctx)
        drafts = drafted_actions(state)
        if not drafts or message.form is None:
            return message
        draft = drafts[0]
        fields = tuple(replace(f, value=str(draft[f.id])) if f.id in draft else f
                       for f in message.form.fields)
        return replace(message, text=f"{message.text}\n{DraftText.action}",
                       form=replace(message.form, fields=fields))

    return filled


def used_one(handler: Callable[[FlowState, Answer, Context], Go | Retry]
             ) -> Callable[[FlowState, Answer, Context], Go | Retry]:
    """An action saved: the draft it was filled from is used up."""

    def handle(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
        decision = handler(state, answer, ctx)
        drafts = drafted_actions(state)
        if isinstance(decision, Go) and drafts:
            return replace(decision, data={**decision.data, ACTIONS_KEY: drafts[1:]})
        return decision

    return handle


def summary_step(next_step: str) -> Step:
    def prompt(state: FlowState, ctx: Context) -> Message:
        form = replace(SUMMARY_FORM, fields=tuple(
            replace(f, value=str(state.data.get(SUMMARY_KEY) or "")) for f in SUMMARY_FORM.fields))
        return Message(DraftText.summary, form=form)

    def handle(state: FlowState, answer: Answer, ctx: Context) -> Go:
        kept = str(as_mapping(answer).get("summary") or "").strip()
        return Go(next_step, {"summary": kept or None})

    return Step(STEP, "D", prompt, handle, (next_step,))


def has_summary(state: FlowState) -> bool:
    return bool(state.data.get(SUMMARY_KEY))
