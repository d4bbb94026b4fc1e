"""Diagrams come from the declared tables, and the committed docs are never stale."""

from __future__ import annotations

from pathlib import Path

from flows import diagram, training
from flows.playbook import Playbook

DOCS = Path(__file__).parents[2] / "docs" / "flows"


def test_committed_docs_equal_fresh_output() -> None:
    fresh = diagram.documents(diagram.default_playbook())
    committed = {p.name: p.read_text(encoding="utf-8") for p in DOCS.glob("*.md")}
    assert set(committed) == set(fresh), "run: python -m flows.diagram docs/flows"
    for name, text in fresh.items():
        assert committed[name] == text, f"{name} is stale; run: python -m flows.diagram docs/flows"


def test_one_page_per_flow_and_the_chart(playbook: Playbook) -> None:
    assert set(diagram.documents(playbook)) == {
        "sled.md", "training.md", "coaching.md", "review.md", "checkin.md", "escalation.md",
        "solution-chart.md"
    }


def test_state_diagram_has_every_declared_edge_once(playbook: Playbook) -> None:
    for _, build in diagram.BUILDERS:
        flow = build(playbook)
        text = diagram.mermaid(flow)
        lines = text.splitlines()
        assert lines[0] == "stateDiagram-v2"
        assert f"    [*] --> {flow.start}" in lines
        for source, target in flow.edges():
            arrow = f"    {source} --> {'[*]' if target == 'END' else target}"
            assert lines.count(arrow) == 1, arrow
        for step in flow.steps.values():
            assert f'    state "{step.stage} · {step.id}" as {step.id}' in lines


def test_training_diagram_shows_the_understanding_loop(playbook: Playbook) -> None:
    text = diagram.mermaid(training.build(playbook))
    assert "tell_check --> tell" in text
    assert "decision --> [*]" in text


def test_chart_diagram_labels_yes_and_no(playbook: Playbook) -> None:
    text = diagram.chart_mermaid(playbook.chart)
    assert text.startswith("flowchart TD\n")
    for q in playbook.chart.questions.values():
        assert f"    {q.id} -->|yes| {q.yes}" in text
        assert f"    {q.id} -->|no| {q.no}" in text
    for leaf in playbook.chart.leaves.values():
        assert f'{leaf.id}(["{leaf.id}<br/>{leaf.category}"])' in text


def test_quotes_in_question_text_are_escaped(playbook: Playbook) -> None:
    from dataclasses import replace

    q = playbook.chart.questions["Q06_knows_why"]
    chart = replace(playbook.chart, questions={
        **playbook.chart.questions, q.id: replace(q, text='Does the rep know "why"?')
    })
    assert 'know #quot;why#quot;?' in diagram.chart_mermaid(chart)


def test_generator_writes_the_pages(tmp_path: Path) -> None:
    assert diagram.main([str(tmp_path / "out")]) == 0
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted(diagram.documents(diagram.default_playbook()))
