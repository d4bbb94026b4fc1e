"""Every flow's declared table: each step reachable from the start, each step can finish."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flows.diagram import BUILDERS
from flows.engine import END, Context, Flow
from flows.playbook import Playbook


def reachable(flow: Flow, start: str, without: str | None = None) -> set[str]:
    """Steps reachable from ``start`` following declared edges (optionally cutting a step)."""
    edges: dict[str, list[str]] = {}
    for source, target in flow.edges():
        edges.setdefault(source, []).append(target)
    seen = {start}
    todo = [start]
    while todo:
        for target in edges.get(todo.pop(), []):
            if target not in seen and target != without:
                seen.add(target)
                todo.append(target)
    return seen


def can_finish(flow: Flow) -> set[str]:
    """Steps from which END can be reached."""
    back: dict[str, list[str]] = {}
    for source, target in flow.edges():
        back.setdefault(target, []).append(source)
    seen = {END}
    todo = [END]
    while todo:
        for source in back.get(todo.pop(), []):
            if source not in seen:
                seen.add(source)
                todo.append(source)
    return seen


@pytest.fixture(params=[name for name, _ in BUILDERS])
def flow(request: pytest.FixtureRequest, playbook: Playbook) -> Flow:
    build: Callable[[Playbook], Flow] = dict(BUILDERS)[request.param]
    return build(playbook)


def test_flow_name_matches_module(flow: Flow) -> None:
    assert flow.name in dict(BUILDERS)
    assert flow.start in flow.steps


def test_every_edge_goes_to_a_declared_step(flow: Flow) -> None:
    for source, target in flow.edges():
        assert target == END or target in flow.steps, f"{source} -> {target}"


def test_every_step_has_a_stage(flow: Flow) -> None:
    for step in flow.steps.values():
        assert step.stage in flow.stages, step.id
        assert step.id == next(k for k, v in flow.steps.items() if v is step)


def test_every_step_is_reachable_from_the_start(flow: Flow) -> None:
    missing = set(flow.steps) - reachable(flow, flow.start)
    assert not missing


def test_every_step_can_reach_end(flow: Flow) -> None:
    stuck = set(flow.steps) - can_finish(flow)
    assert not stuck


@pytest.mark.parametrize(
    ("name", "guarded", "gate"),
    [
        ("training", "constructive", "positives"),
        ("training", "positives", "self_assessment"),
        ("coaching", "feedback", "self_assessment"),
        ("coaching", "feedback", "permission"),
        ("coaching", "practice_notes", "practice_permission"),
    ],
)
def test_guarded_step_is_reached_only_through_its_gate(
    playbook: Playbook, name: str, guarded: str, gate: str
) -> None:
    flow = dict(BUILDERS)[name](playbook)
    assert guarded in reachable(flow, flow.start)
    assert guarded not in reachable(flow, flow.start, without=gate)


def test_the_trail_stays_bounded_when_going_round_in_circles(ctx: Context) -> None:
    from flows import engine, sled
    from flows.messages import Choose, Submit

    flow = sled.build(ctx.playbook)
    state = engine.FlowState("sled", "set_stage", {"session_id": 1, "rep_name": "Alice"})
    form = Submit({"purpose": "p", "objectives": "o", "value_to_rep": "v"})
    for _ in range(engine.MAX_TRAIL):
        state = engine.advance(flow, state, form, ctx).state
        state = engine.advance(flow, state, Choose("revise"), ctx).state
    assert state.step == "set_stage"
    assert len(state.trail) == engine.MAX_TRAIL
