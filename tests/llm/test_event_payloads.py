"""The flows read the model's answers once more when they arrive as events (proposals,
questions, drafts): any payload at all changes nothing or moves the flow along a declared
edge, never raises, and keeps only well-formed values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.playbook_loader import load_playbook
from flows import drafts, suggestions, triage
from flows.engine import Context, FlowState, Go, Person, Retry
from tests.fuzz import count, fuzz

PLAYBOOK = load_playbook()
CTX = Context(now=datetime(2026, 12, 1, 15, tzinfo=UTC), today=date(2026, 12, 1),
              playbook=PLAYBOOK, actor=Person(1, "m@x.example", "Maya Manager", "manager"),
              assist=True)
IDS = list(PLAYBOOK.chart.questions)
anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4), max_leaves=20)
proposals = st.dictionaries(st.sampled_from(IDS) | st.text(max_size=10),
                            st.lists(st.sampled_from(["yes", "no", "maybe"]) | st.text(max_size=30),
                                     max_size=3) | anything, max_size=25)
payloads = st.fixed_dictionaries({"token": st.sampled_from(["t", "other", None])}, optional={
    "proposals": proposals | anything, "questions": st.lists(anything, max_size=8) | anything,
    "summary": anything, "actions": st.lists(st.dictionaries(
        st.sampled_from(["description", "owner", "due"]),
        st.sampled_from(["rep", "manager", "2026-12-08", "x"]) | anything), max_size=5)})


def state(step: str, **data: Any) -> FlowState:
    return FlowState("sled", step, {"session_id": 1, "rep_name": "Alice Adams", **data})


@fuzz(0.3)
@given(payloads)
def test_any_proposals_payload_is_read_safely(payload: dict[str, Any]) -> None:
    count("triage event payload")
    decision = triage.on_proposals(state("Q01_gap_specific", triage_token="t"), payload, CTX)
    if payload["token"] != "t":
        assert isinstance(decision, Retry)
        return
    assert isinstance(decision, Go) and decision.to in ("Q01_gap_specific", triage.CONFIRM)
    if decision.to == triage.CONFIRM:
        kept = decision.data["suggested"]
        assert set(kept) <= set(IDS) and PLAYBOOK.chart.start in kept
        assert all(v[0] in ("yes", "no") and len(v[1]) <= triage.MAX_REASON
                   for v in kept.values())


@fuzz(0.3)
@given(payloads, st.sampled_from(["set_stage", "gap", "views"]))
def test_any_questions_payload_is_read_safely(payload: dict[str, Any], step: str) -> None:
    count("questions event payload")
    handle = suggestions.on_questions(shown_at="views")
    decision = handle(state(step, questions_token="t"), payload, CTX)
    if payload["token"] != "t":
        assert isinstance(decision, Retry)
        return
    assert isinstance(decision, Go) and decision.to == step
    kept = decision.data.get(suggestions.KEY, [])
    assert len(kept) <= suggestions.MOST
    assert all(isinstance(q, str) and q.strip() and len(q) <= suggestions.LONGEST
               for q in kept)


@fuzz(0.3)
@given(payloads, st.sampled_from(["action", "more_actions"]))
def test_any_drafts_payload_is_read_safely(payload: dict[str, Any], step: str) -> None:
    count("drafts event payload")
    handle = drafts.on_drafts(shown_at="action")
    decision = handle(state(step, summary_token="t"), payload, CTX)
    if payload["token"] != "t":
        assert isinstance(decision, Retry)
        return
    assert isinstance(decision, Go) and decision.to == step
    for action in decision.data[drafts.ACTIONS_KEY]:
        assert action["owner"] in ("rep", "manager")
        date.fromisoformat(action["due"])
        assert action["description"].strip()
