"""Every flow answers input that fits nothing with a retry message and keeps its state."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from flows import checkin, coaching, review, sled, training
from flows.engine import Context, FlowBug, advance
from flows.messages import Choose, Input, Say, Submit

STARTS: dict[str, tuple[Any, dict[str, Any]]] = {
    "sled": (sled, {"session_id": 1, "rep_id": 2, "rep_name": "Sam", "rep_ref": "@sam",
                    "brief": {}}),
    "training": (training, {"session_id": 1, "rep_name": "Sam", "rep_ref": "@sam",
                            "focus": "Closing"}),
    "coaching": (coaching, {"session_id": 1, "rep_name": "Sam", "rep_ref": "@sam",
                            "focus": "Closing"}),
    "review": (review, {"review_id": 1, "session_id": 1, "rep_name": "Sam", "rep_ref": "@sam",
                        "metric": "bookings", "baseline": 1, "target": 2, "actions": []}),
    "checkin": (checkin, {"checkin_id": 1, "actions": []}),
}
NONSENSE: tuple[Input, ...] = (Choose("definitely-not-an-option"),
                               Submit({"definitely_not_a_field": "x"}))


@pytest.mark.parametrize("name", sorted(STARTS))
@pytest.mark.parametrize("given", NONSENSE, ids=["choose", "submit"])
def test_input_that_fits_nothing_gets_a_retry(ctx: Context, name: str, given: Input) -> None:
    module, data = STARTS[name]
    flow = module.build(ctx.playbook)
    started = module.start(ctx.playbook, ctx, data)
    out = advance(flow, started.state, given, ctx)
    assert out.state == started.state
    assert not out.effects
    problem, again = out.messages
    assert problem.text.startswith(("I didn't catch that", "This question needs the form",
                                    "This form has no field"))
    assert again == started.messages[-1]


@pytest.mark.parametrize("name", sorted(STARTS))
def test_an_ended_flow_refuses_more_input(ctx: Context, name: str) -> None:
    module, data = STARTS[name]
    ended = replace(module.start(ctx.playbook, ctx, data).state, status="ended")
    with pytest.raises(FlowBug):
        advance(module.build(ctx.playbook), ended, Say("hello"), ctx)
