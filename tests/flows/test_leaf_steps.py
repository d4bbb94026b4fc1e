"""Every leaf of the default chart leads to a concrete next step, stored as a typed record,
in a SLED session and in a review's rerun of the chart; what reaches the rep, per leaf."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from flows import leaf_steps, review, sled
from flows.effects import (
    CompleteReview,
    CompleteSession,
    KeepPrivateNote,
    RaiseEscalation,
    RecordLeafOutcome,
    StartFlow,
)
from flows.engine import Context
from flows.leaf_records import ConsequenceChange, Obstacle
from flows.messages import Choose, Submit
from flows.playbook import Playbook
from tests.flows.conftest import PLAYBOOK_FILE
from tests.flows.driver import Run, fill_in, play
from tests.flows.test_review import data as review_data
from tests.flows.test_sled import ACTION, SUCCESS, session, to_leaf

LEAVES = [leaf for leaf in __import__("yaml").safe_load(PLAYBOOK_FILE.read_text())["chart"]
          ["leaves"]]
KIND = {
    "NO_ACTION": "NoAction", "SYSTEMIC_REDESIGN": "Escalation", "ESCALATE_SYSTEMIC": "Escalation",
    "FEEDBACK": "Feedback", "CLARIFY_EXPECTATIONS": "Expectations", "EXPLAIN_WHY": "WhyItMatters",
    "REMOVE_OBSTACLE": "Obstacle", "REFER_PERSONAL": "PrivateMatter", "TRAINING": "SkillTraining",
    "JOB_AID": "JobAid", "PRACTICE": "Practice", "COACHING": "CoachingGoal",
    "JOB_FIT": "PrivateMatter", "SET_PRIORITIES": "Priorities", "ADDRESS_BELIEF": "Trial",
    "ADDRESS_FEAR": "Trial", "REMOVE_PUNISHMENT": "ConsequenceChange",
    "REMOVE_REWARD": "ConsequenceChange", "ARRANGE_CONSEQUENCES": "ConsequenceChange",
    "COACHING_DISCUSSION": "Accountability", "DEFINE_GAP": "GapRestated",
}
ANSWER = {"more_actions": "done", "next_model": "none", "committed": "yes", "handoff": "later"}


def finish(ctx: Context, run: Run, flow_name: str) -> Run:
    """Answer whatever is asked until the conversation ends: forms filled, the plan kept."""
    flow = (sled if flow_name == "sled" else review).build(ctx.playbook)
    for _ in range(20):
        if run.state.status == "ended":
            return run
        step = run.state.step
        answer = fill_in(run.last, choice=ANSWER.get(step, "")) if step in ANSWER \
            else fill_in(run.last)
        more = play(flow, run.state, ctx, answer)
        assert more.state != run.state or more.effects, (step, more.messages[-2:])
        run.state = more.state
        run.messages += more.messages
        run.effects += more.effects
    raise AssertionError(f"{flow_name} did not end: at {run.state.step}")


def test_the_table_covers_every_leaf_of_the_default_chart(playbook: Playbook) -> None:
    assert set(KIND) == set(playbook.chart.leaves) == set(LEAVES)
    assert set(leaf_steps.STEPS) | leaf_steps.SYSTEMIC | set(leaf_steps.PRIVATE) | {
        "NO_ACTION"} == set(playbook.chart.leaves)


@pytest.mark.parametrize("leaf", [x for x in LEAVES if x != "DEFINE_GAP"])
def test_every_sled_leaf_ends_in_a_typed_record_and_tells_the_rep_only_what_is_shared(
        ctx: Context, leaf: str) -> None:
    run = finish(ctx, session(ctx, leaf), "sled")
    (outcome,) = run.of(RecordLeafOutcome)
    assert (outcome.leaf, outcome.record.kind, outcome.review_id) == (leaf, KIND[leaf], None)
    (complete,) = run.of(CompleteSession)
    assert complete.status == ("no_action" if leaf == "NO_ACTION" else "completed")
    assert ctx.subject is not None
    to_rep = [m.text for m in run.messages if m.to == ctx.subject.email]
    if leaf in leaf_steps.PRIVATE or leaf == "NO_ACTION":
        assert to_rep == []
        return
    (summary,) = to_rep
    assert summary.startswith("Your action plan from today's session with Maya Manager:")
    assert f"Agreed solution: {complete.agreed_solution}" in summary
    for action in complete.actions:
        assert (action.description in summary) == action.shown_to_rep, action


@pytest.mark.parametrize("leaf", LEAVES)
def test_every_leaf_of_a_review_rerun_leads_somewhere_concrete(ctx: Context, leaf: str) -> None:
    flow = review.build(ctx.playbook)
    start = review.start(ctx.playbook, ctx, review_data())
    run = play(flow, start, ctx, Submit({"value": "150"}), Choose("done"), Choose("done"),
               *to_leaf(ctx.playbook.chart, leaf))
    run = finish(ctx, run, "review")
    (complete,) = run.of(CompleteReview)
    (outcome,) = run.of(RecordLeafOutcome)
    assert (outcome.leaf, outcome.record.kind, outcome.review_id) == (leaf, KIND[leaf], 3)
    if leaf == "NO_ACTION":
        assert complete.outcome == "no_action" and complete.next_review_date is None
        return
    assert complete.outcome == "no_change"
    assert complete.next_review_date is not None  # the loop goes on (METHOD §6)
    planned = leaf_steps.PLANNED_MODEL.get(leaf)
    assert complete.next_model == planned
    if leaf in leaf_steps.PRIVATE:
        assert run.of(KeepPrivateNote) and complete.actions == ()
    elif planned is None and leaf_steps.action(outcome.record) is not None:
        assert complete.actions == (leaf_steps.action(outcome.record),)


def test_a_remove_obstacle_step_makes_the_managers_action(ctx: Context) -> None:
    run = session(ctx, "REMOVE_OBSTACLE",
                  Submit({"obstacle": "No CRM access", "remover": "manager", "by": "2026-03-12"}))
    assert run.state.step == "more_actions"
    assert run.state.data["actions"] == [{"description": "Remove the obstacle: No CRM access",
                                          "owner": "manager", "due": "2026-03-12",
                                          "shared": False}]
    assert run.state.data["leaf_record"] == Obstacle("No CRM access", "manager",
                                                     date(2026, 3, 12)).values()


def test_a_consequence_the_leader_decides_is_escalated(ctx: Context) -> None:
    run = session(ctx, "REMOVE_REWARD",
                  Submit({"what_changes": "Spiffs for small deals", "decider": "leader",
                          "by": "2026-04-01"}))
    (raised,) = run.of(RaiseEscalation)
    assert raised.leaf == "REMOVE_REWARD" and "Spiffs for small deals" in raised.impact
    manager = session(ctx, "REMOVE_REWARD",
                      Submit({"what_changes": "x", "decider": "manager", "by": "2026-04-01"}))
    assert not manager.of(RaiseEscalation)
    assert ConsequenceChange("x", "manager", date(2026, 4, 1)).values()["by"] == "2026-04-01"


def test_a_leaf_step_date_in_the_past_is_refused(ctx: Context) -> None:
    run = session(ctx, "FEEDBACK", Submit({"observed": "o", "instead": "i",
                                           "check_in": "2026-03-01"}))
    assert run.state.step == "leaf_step"
    assert "Check-in date Sunday 1 March 2026 is in the past" in run.messages[-2].text


def test_not_committed_goes_back_to_explore_and_sends_nothing(ctx: Context) -> None:
    run = session(ctx, "COACHING", Submit({"behaviour": "b", "goal": "g"}), ACTION,
                  Choose("done"), SUCCESS, Choose("coaching"), Choose("no"))
    assert run.state.step == "not_committed"
    assert not run.of(CompleteSession)
    again = play(sled.build(ctx.playbook), run.state, ctx, Choose("explore"))
    assert again.state.step == ctx.playbook.chart.start
    assert again.state.data["actions"] == [] and again.state.data["leaf"] is None
    assert ctx.subject is not None
    assert not [m for m in run.messages + again.messages if m.to == ctx.subject.email]


def test_not_committed_can_end_as_no_agreement(ctx: Context) -> None:
    run = session(ctx, "COACHING", Submit({"behaviour": "b", "goal": "g"}), ACTION,
                  Choose("done"), SUCCESS, Choose("coaching"), Choose("no"), Choose("end"))
    assert run.state.status == "ended"
    (complete,) = run.of(CompleteSession)
    assert (complete.status, complete.rep_committed, complete.actions) == (
        "no_agreement", False, ())
    assert not run.of(StartFlow) and not run.of(RecordLeafOutcome)
    assert ctx.subject is not None
    assert not [m for m in run.messages if m.to == ctx.subject.email]
    assert "no agreement" in run.last.text


@pytest.mark.parametrize("leaf", ["REFER_PERSONAL", "JOB_FIT"])
def test_the_playbook_may_send_a_neutral_line_after_a_private_leaf(
        ctx: Context, leaf: str) -> None:
    told = replace(ctx, playbook=replace(ctx.playbook, tell_rep_after_private_leaf=True))
    run = finish(told, session(told, leaf, Submit({"note": "Private matter"})), "sled")
    assert told.subject is not None
    to_rep = [m.text for m in run.messages if m.to == told.subject.email]
    assert to_rep == ["Your conversation with Maya Manager today has been recorded."]


def test_shared_flag_follows_the_owner_unless_the_manager_says_otherwise(ctx: Context) -> None:
    run = session(ctx, "SET_PRIORITIES", Submit({"priorities": "p", "time_blocks": "t"}),
                  Submit({"description": "Mine, shared", "owner": "manager",
                          "due": "2026-03-20", "shared": "yes"}), Choose("add"),
                  Submit({"description": "Rep's, private", "owner": "rep",
                          "due": "2026-03-20", "shared": "no"}), Choose("add"),
                  Submit({"description": "Mine", "owner": "manager", "due": "2026-03-20"}),
                  Choose("done"), SUCCESS, Choose("none"), Choose("yes"))
    (complete,) = run.of(CompleteSession)
    assert [a.shown_to_rep for a in complete.actions] == [True, False, False]
    assert ctx.subject is not None
    (summary,) = [m.text for m in run.messages if m.to == ctx.subject.email]
    assert "Mine, shared" in summary
    assert "Rep's, private" not in summary and "  • Mine —" not in summary
