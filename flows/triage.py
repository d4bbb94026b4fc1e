"""Triage at stage E (METHOD §4 shortcut): the manager describes the problem in one
sentence, a language model proposes an answer to each chart question with a reason, and
the manager confirms or corrects them all on one form. The chart computes the leaf from
the confirmed answers; the model never decides it.

The model is asked after the turn (``AskModel``); its proposals come back as an
``Event`` while the manager is already on the chart's first question, so nobody waits:
the chart's question steps name the event and move to the one-screen form. No answer, a
late one, or an unusable one: the questions go on one at a time, as without a model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flows.chart import Chart, MissingAnswer, answers_on_path, walk
from flows.chart_steps import (
    ANSWERS_KEY,
    SUGGESTED_KEY,
    ChartText,
    about_rep,
    chart_answers,
    reached,
    suggestion,
)
from flows.effects import AskModel
from flows.engine import Answer, Context, FlowState, Go, Retry, Step, as_mapping
from flows.messages import Choice, Field, Form, Message

TASK = "triage"  # the prompt and the Event name
DESCRIBE, CONFIRM = "describe", "triage"
TOKEN_KEY = "triage_token"
PROBLEM_KEY = "problem"
MAX_REASON = 200


class TriageText:
    describe = ("Before the chart: describe the problem with {rep} in one sentence, and "
                "I'll propose an answer to each question for you to confirm or correct. "
                "Leave it empty to answer the questions one by one.")
    problem = "The problem, in one sentence"
    problem_hint = "e.g. she knows the pitch but skips discovery on big accounts"
    asking = ("Asking the model for proposals. Meanwhile, answer the questions yourself "
              "if you like; the proposals will replace this question when they arrive.")
    confirm = ("Proposed answers to the chart, from your sentence: confirm each or change "
               "it, then submit. The chart decides where they lead.")
    unavailable = "No proposals this time; please go on with the questions."


DESCRIBE_FORM = Form("describe", (
    Field(PROBLEM_KEY, TriageText.problem, "long_text", required=False,
          hint=TriageText.problem_hint),))
YES_NO_OPTIONS = (Choice("yes", ChartText.yes), Choice("no", ChartText.no))


def describe_step(chart: Chart, stage: str, ask_values: Callable[[FlowState], Mapping[str, Any]],
                  token_of: Callable[[FlowState], str]) -> Step:
    """The one-sentence description; ``ask_values`` says what the flow knows that the
    prompt may use, ``token_of`` names this request (a session id and a count)."""

    def prompt(state: FlowState, ctx: Context) -> Message:
        rep = state.data.get("rep_name") or "the rep"
        return Message(TriageText.describe.format(rep=rep), form=DESCRIBE_FORM)

    def handle(state: FlowState, answer: Answer, ctx: Context) -> Go:
        problem = str(as_mapping(answer).get(PROBLEM_KEY, "")).strip()
        if not problem:
            return Go(chart.start, {PROBLEM_KEY: None, TOKEN_KEY: None})
        token = token_of(state)
        ask = AskModel(TASK, token, {**ask_values(state), PROBLEM_KEY: problem})
        return Go(chart.start, {PROBLEM_KEY: problem, TOKEN_KEY: token}, (ask,),
                  say=(Message(TriageText.asking),))

    return Step(DESCRIBE, stage, prompt, handle, (chart.start,))


def proposals_of(payload: Mapping[str, Any], chart: Chart) -> dict[str, tuple[bool, str]]:
    """The proposals an event carries, for questions of ``chart`` only."""
    raw = payload.get("proposals")
    if not isinstance(raw, Mapping):
        return {}
    found: dict[str, tuple[bool, str]] = {}
    for qid, value in raw.items():
        if (qid in chart.questions and isinstance(value, list | tuple) and len(value) == 2
                and value[0] in ("yes", "no")):
            found[str(qid)] = (value[0] == "yes", str(value[1])[:MAX_REASON])
    return found


def on_proposals(state: FlowState, payload: Mapping[str, Any], ctx: Context) -> Go | Retry:
    """A chart question receiving the model's answer (``proposals`` empty or missing: none
    came, or none was usable). Only the answer to this session's latest request counts;
    any other changes nothing."""
    if payload.get("token") is None or payload.get("token") != state.data.get(TOKEN_KEY):
        return Retry("not this request")
    chart = ctx.playbook.chart
    proposals = proposals_of(payload, chart)
    if not proposals or chart.start not in proposals:
        return Go(state.step, {TOKEN_KEY: None}, say=(Message(TriageText.unavailable),))
    # Suggestions the data made (the team's numbers) stand: they are facts, not guesses.
    made = as_mapping(state.data.get(SUGGESTED_KEY))
    merged = {**{q: suggestion(a, r) for q, (a, r) in proposals.items()}, **made}
    return Go(CONFIRM, {TOKEN_KEY: None, SUGGESTED_KEY: merged})


def _proposed_path(state: FlowState, chart: Chart) -> list[tuple[str, bool, str]]:
    """The questions on the path the proposals (with the manager's own answers winning)
    lead along: (question id, answer shown, reason)."""
    raw = as_mapping(state.data.get(SUGGESTED_KEY))
    proposals = {str(q): (v[0] == "yes", str(v[1])) for q, v in raw.items()
                 if isinstance(v, list | tuple) and len(v) == 2}
    own = chart_answers(state)
    merged = {**{q: a for q, (a, _) in proposals.items()}, **own}
    try:
        path = walk(chart, merged).path
    except MissingAnswer as missing:
        path = missing.path
    return [(q, a, "" if q in own else proposals.get(q, (a, ""))[1]) for q, a in path]


def confirm_step(chart: Chart, stage: str, after_leaf: Callable[[str], str]) -> Step:
    """The one screen: every question on the proposed path, answered, with its reason."""

    def prompt(state: FlowState, ctx: Context) -> Message:
        live = ctx.playbook.chart
        fields = tuple(
            Field(qid, about_rep(live.questions[qid].text, state), "choice",
                  options=YES_NO_OPTIONS, hint=reason, value="yes" if answer else "no")
            for qid, answer, reason in _proposed_path(state, live))
        return Message(TriageText.confirm, form=Form(CONFIRM, fields))

    def handle(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
        live = ctx.playbook.chart
        confirmed = {q: v == "yes" for q, v in as_mapping(answer).items()
                     if q in live.questions}
        answers = answers_on_path(live, confirmed)
        try:
            walk(live, answers)
        except MissingAnswer as missing:  # a correction turned the path: ask on from there
            return Go(missing.question.id, {ANSWERS_KEY: answers})
        return reached(live, answers, after_leaf)

    targets = (*chart.questions, *dict.fromkeys(after_leaf(leaf) for leaf in chart.leaves))
    return Step(CONFIRM, stage, prompt, handle, tuple(dict.fromkeys(targets)))
