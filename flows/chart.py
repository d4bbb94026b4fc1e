"""The solution chart (METHOD §4): a yes/no tree whose ids are stable.

The tree is data from the playbook; this module walks it. A walk stops at the
first leaf; an answer set that stops short names the question it still needs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    text: str
    yes: str
    no: str

    def branch(self, answer: bool) -> str:
        return self.yes if answer else self.no


@dataclass(frozen=True, slots=True)
class Leaf:
    """An end of the chart: ``label`` is its name as people read it (never the id)."""

    id: str
    category: str
    next: str
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    start: str
    questions: Mapping[str, Question]
    leaves: Mapping[str, Leaf]

    def is_leaf(self, node: str) -> bool:
        return node in self.leaves

    def edges(self) -> Iterator[tuple[str, str, str]]:
        """Every (question, answer, target) edge, for diagrams and checks."""
        for q in self.questions.values():
            yield q.id, "yes", q.yes
            yield q.id, "no", q.no


@dataclass(frozen=True, slots=True)
class ChartResult:
    leaf: str
    category: str
    path: tuple[tuple[str, bool], ...]

    def as_json(self) -> dict[str, object]:
        return {
            "leaf": self.leaf,
            "category": self.category,
            "path": [{"question": q, "answer": "yes" if a else "no"} for q, a in self.path],
        }


class MissingAnswer(Exception):
    """The walk reached a question the answers do not cover."""

    def __init__(self, question: Question, path: tuple[tuple[str, bool], ...]) -> None:
        super().__init__(f"the chart needs an answer to {question.id}: {question.text}")
        self.question = question
        self.path = path


def walk(chart: Chart, answers: Mapping[str, bool]) -> ChartResult:
    """Follow ``answers`` from the start to a leaf, or raise :class:`MissingAnswer`."""
    node = chart.start
    path: list[tuple[str, bool]] = []
    while not chart.is_leaf(node):
        question = chart.questions[node]
        if question.id not in answers:
            raise MissingAnswer(question, tuple(path))
        answer = answers[question.id]
        path.append((question.id, answer))
        node = question.branch(answer)
    leaf = chart.leaves[node]
    return ChartResult(leaf.id, leaf.category, tuple(path))


def next_node(chart: Chart, answers: Mapping[str, bool]) -> str:
    """The first unanswered question on the path, or the leaf reached."""
    try:
        return walk(chart, answers).leaf
    except MissingAnswer as missing:
        return missing.question.id


def answers_on_path(chart: Chart, answers: Mapping[str, bool]) -> dict[str, bool]:
    """Keep only the answers the walk actually uses (after going back, stale ones drop)."""
    try:
        path = walk(chart, answers).path
    except MissingAnswer as missing:
        path = missing.path
    return dict(path)


def parse_answer(value: object) -> bool | None:
    """Read yes/no from JSON or text; ``None`` when it is neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in {"yes", "y", "true", "1"}:
            return True
        if text in {"no", "n", "false", "0"}:
            return False
    return None
