"""Each flow is declared once (its SPEC); the registry starts every flow through the same
``start`` its tests call, and reads whom a conversation is about from the flow's spec."""

from __future__ import annotations

import pytest

from bot.flowset import SPECS, build_flows
from flows import checkin, review
from flows.engine import Context, FlowState
from flows.playbook import Playbook
from flows.spec import FlowSpec


def test_the_registry_lists_every_flow_once_by_its_spec(playbook: Playbook) -> None:
    flows = build_flows(playbook)
    assert [s.name for s in SPECS] == list(flows.flows) == list(flows.specs)
    for spec in SPECS:
        assert flows[spec.name].name == spec.name
        assert flows[spec.name].title == spec.title


def test_production_starts_review_through_its_own_start(playbook: Playbook,
                                                        ctx: Context) -> None:
    """review.start turns the stored numbers into floats and the actions into strings:
    production (the registry) runs it too, as the tests do."""
    data = {"review_id": 1, "session_id": 2, "rep_id": 3, "rep_name": "Sam",
            "rep_ref": "sam@x", "metric": "win rate", "baseline": 10, "target": "20",
            "actions": [{"id": 7, "description": "Call", "owner": "rep", "due": "2026-12-08"}]}
    started = build_flows(playbook).start("review", ctx, data)
    assert started == review.start(playbook, ctx, data)
    assert started.state.data["baseline"] == 10.0
    assert started.state.data["target"] == 20.0
    assert started.state.data["actions"][0]["id"] == "7"


def test_production_starts_the_checkin_through_its_own_start(playbook: Playbook,
                                                             rep_ctx: Context) -> None:
    data = {"checkin_id": 1, "actions": [{"id": 5, "description": "Call", "extra": "x"}]}
    started = build_flows(playbook).start("checkin", rep_ctx, data)
    assert started == checkin.start(playbook, rep_ctx, data)
    assert started.state.data["actions"] == [{"id": "5", "description": "Call"}]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_the_subject_comes_from_the_flows_spec(playbook: Playbook, spec: FlowSpec) -> None:
    flows = build_flows(playbook)
    data = {"rep_id": 3, "rep_ref": "sam@x", "rep_name": "Sam"}
    subject = flows.subject(FlowState(spec.name, "any", data))
    if spec.name in ("checkin", "escalation"):
        assert subject is None  # about the speaker, whatever its data holds
    else:
        assert subject is not None and (subject.id, subject.email) == (3, "sam@x")
