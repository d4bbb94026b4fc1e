"""The solution chart as conversation steps, shared by SLED (stage E) and reviews.

Where the data decides a question (the team's numbers, an earlier session), the flow
keeps a suggested answer under ``SUGGESTED_KEY``: the question shows it with its
reason and offers it first, and the manager confirms it or picks the other answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flows.chart import Chart, Question, answers_on_path, walk
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


EventHandler = Callable[[FlowState, Mapping[str, Any], Context], Go | Retry]


def chart_steps(
    chart: Chart, stage: str, after_leaf: Callable[[str], str],
    on_event: tuple[str, EventHandler, tuple[str, ...]] | None = None,
) -> dict[str, Step]:
    """One step per question (step id = question id); a leaf goes to ``after_leaf(leaf)``.
    ``on_event``: (event name, its handler, the steps it may go to besides the question
    itself), for an answer that arrives while a question waits (the model's proposals)."""
    event_names, event_targets = ((on_event[0],), on_event[2]) if on_event else ((), ())

    def target(node: str) -> str:
        return after_leaf(node) if chart.is_leaf(node) else node

    def prompt_for(qid: str) -> Callable[[FlowState, Context], Message]:
        def prompt(state: FlowState, ctx: Context) -> Message:
            question = ctx.playbook.chart.questions[qid]
            text = about_rep(question.text, state)
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
        return reached(live, answers, after_leaf)

    def targets_of(q: Question) -> tuple[str, ...]:
        moves = (target(q.yes), target(q.no))
        if on_event is None:
            return moves
        return tuple(dict.fromkeys((*moves, q.id, *event_targets)))

    return {
        q.id: Step(q.id, stage, prompt_for(q.id), handle, targets_of(q), event_names,
                   on_event[1] if on_event else None)
        for q in chart.questions.values()
    }


def reached(chart: Chart, answers: Mapping[str, bool], after_leaf: Callable[[str], str]) -> Go:
    """``answers`` lead to a leaf: say which, keep the answers and the path, and go on to
    the step that follows that leaf."""
    result = walk(chart, answers)
    leaf = chart.leaves[result.leaf]
    said = Message(Text.result.format(label=leaf.label, next=leaf.next), leaf=leaf.id)
    return Go(after_leaf(leaf.id), {ANSWERS_KEY: dict(answers), "leaf": leaf.id,
                                    "category": leaf.category,
                                    "chart_path": [q for q, _ in result.path]},
              say=(said,))


def about_rep(text: str, state: FlowState) -> str:
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
