"""The solution chart as conversation steps, shared by SLED (stage E) and reviews."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flows.chart import Chart, answers_on_path, walk
from flows.engine import Context, FlowState, Go, Retry, Step
from flows.messages import YES_NO, Message

ANSWERS_KEY = "chart"


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
            return Message(_about(question.text, state), choices=YES_NO)

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


def chart_answers(state: FlowState) -> Mapping[str, bool]:
    raw = state.data.get(ANSWERS_KEY, {})
    return {str(k): bool(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
