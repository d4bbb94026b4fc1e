"""The solution chart as conversation steps, shared by SLED (stage E) and reviews.

Where the data decides a question (the team's numbers, an earlier session), the flow
keeps a suggested answer under ``SUGGESTED_KEY``: the question shows it with its
reason and offers it first, and the manager confirms it or picks the other answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flows.chart import Chart, answers_on_path, walk
from flows.engine import Context, FlowState, Go, Retry, Step
from flows.messages import Choice, Message

ANSWERS_KEY = "chart"
SUGGESTED_KEY = "suggested"  # {question id: [answer "yes" | "no", reason]}


class ChartText:
    """What the chart's questions add when an answer is suggested."""

    yes = "Yes"
    no = "No"
    suggested = "Suggested: {answer} — {reason}"
    mark = " (suggested)"
    earlier = "your answer on {day}"


class Text:
    """What the chart steps say; a leaf is named by its label, never its id."""

    result = "Solution chart: {label}. {next}"


def chart_steps(
    chart: Chart, stage: str, after_leaf: Callable[[str], str]
) -> dict[str, Step]:
    """One step per question (step id = question id); a leaf goes to ``after_leaf(leaf)``."""

    def target(node: str) -> str:
        return after_leaf(node) if chart.is_leaf(node) else node

    def prompt_for(qid: str) -> Callable[[FlowState, Context], Message]:
        def prompt(state: FlowState, ctx: Context) -> Message:
            question = ctx.playbook.chart.questions[qid]
            text = _about(question.text, state)
            hint = suggestions(state).get(qid)
            if hint is None:
                return Message(text, choices=_choices(None))
            answer, reason = hint
            shown = ChartText.suggested.format(answer=ChartText.yes if answer else ChartText.no,
                                               reason=reason)
            return Message(f"{text}\n{shown}", choices=_choices(answer))

        return prompt

    def handle(state: FlowState, answer: object, ctx: Context) -> Go | Retry:
        live = ctx.playbook.chart
        answers = {**answers_on_path(live, state.data.get(ANSWERS_KEY, {})),
                   state.step: answer == "yes"}
        node = live.questions[state.step].branch(answer == "yes")
        if not live.is_leaf(node):
            return Go(node, {ANSWERS_KEY: answers})
        result = walk(live, answers)
        leaf = live.leaves[node]
        said = Message(Text.result.format(label=leaf.label, next=leaf.next), leaf=leaf.id)
        return Go(after_leaf(node), {ANSWERS_KEY: answers, "leaf": leaf.id,
                                     "category": leaf.category,
                                     "chart_path": [q for q, _ in result.path]},
                  say=(said,))

    return {
        q.id: Step(q.id, stage, prompt_for(q.id), handle, (target(q.yes), target(q.no)))
        for q in chart.questions.values()
    }


def _about(text: str, state: FlowState) -> str:
    name = state.data.get("rep_name")
    return text.replace("the rep", name, 1) if isinstance(name, str) and name else text


def _choices(suggested: bool | None) -> tuple[Choice, ...]:
    """Yes / No, the suggested answer first and marked, so one click confirms it."""
    yes, no = Choice("yes", ChartText.yes), Choice("no", ChartText.no)
    if suggested is None:
        return yes, no
    if suggested:
        return Choice("yes", ChartText.yes + ChartText.mark), no
    return Choice("no", ChartText.no + ChartText.mark), yes


def suggestion(answer: bool, reason: str) -> list[Any]:
    """One suggested answer as the flow state keeps it (JSON: a list, not a tuple)."""
    return ["yes" if answer else "no", reason]


def suggestions(state: FlowState) -> dict[str, tuple[bool, str]]:
    """The suggested answers the state holds: question id -> (answer, reason)."""
    raw = state.data.get(SUGGESTED_KEY)
    if not isinstance(raw, Mapping):
        return {}
    return {str(qid): (value[0] == "yes", str(value[1])) for qid, value in raw.items()
            if isinstance(value, list | tuple) and len(value) == 2}


def from_earlier(answers: Mapping[str, Any], day: str) -> dict[str, list[Any]]:
    """Suggestions from the chart answers given on ``day`` (a review's rerun of the chart)."""
    return {str(qid): suggestion(bool(answer), ChartText.earlier.format(day=day))
            for qid, answer in answers.items() if isinstance(answer, bool)}


def chart_answers(state: FlowState) -> Mapping[str, bool]:
    raw = state.data.get(ANSWERS_KEY, {})
    return {str(k): bool(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
