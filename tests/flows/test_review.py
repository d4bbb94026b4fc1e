"""The review loop of METHOD §6 through ``advance``: met, not done, improving, no change."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from flows import review
from flows.effects import CompleteReview, RaiseEscalation
from flows.engine import Context, advance, back
from flows.messages import Choose, Input, Say, Submit
from tests.flows.driver import Run, play

ACTIONS = [{"id": "a1", "description": "Call 20 leads a day", "owner": "rep"},
           {"id": "a2", "description": "Share the call script", "owner": "manager"}]


def data(**extra: Any) -> dict[str, Any]:
    return {"review_id": 3, "session_id": 41, "rep_name": "Sam", "rep_ref": "@sam",
            "metric": "bookings", "baseline": 150, "target": 200, "actions": ACTIONS, **extra}


def run_review(ctx: Context, *inputs: Input, **extra: Any) -> Run:
    return play(review.build(ctx.playbook), review.start(ctx.playbook, ctx, data(**extra)),
                ctx, *inputs)


@pytest.mark.parametrize(("baseline", "target", "value", "done", "expected"), [
    (150, 200, 200, {"a1": "not_done"}, "met"),
    (150, 200, 230, {}, "met"),
    (150, 200, 180, {"a1": "done", "a2": "not_done"}, "not_done"),
    (150, 200, 180, {"a1": "done"}, "improving"),
    (150, 200, 150, {"a1": "done"}, "no_change"),
    (150, 200, 120, {}, "no_change"),
    (30, 20, 19, {}, "met"),
    (30, 20, 25, {}, "improving"),
    (30, 20, 31, {}, "no_change"),
    (30, 20, 25, {"a1": "not_done"}, "not_done"),
])
def test_outcome_follows_the_direction_from_baseline_to_target(
    baseline: float, target: float, value: float, done: dict[str, str], expected: str
) -> None:
    assert review.outcome(baseline, target, value, done) == expected


def test_start_asks_for_the_metric(ctx: Context) -> None:
    out = review.start(ctx.playbook, ctx, data())
    assert out.state.step == "metric_now"
    assert "bookings started at 150, target 200" in out.messages[-1].text


def test_target_met_praises_and_chooses_the_next_focus(ctx: Context) -> None:
    run = run_review(ctx, Say("205"), Choose("done"), Choose("done"))
    assert run.state.step == "next_focus"
    assert "Target met: bookings is 205" in run.messages[-2].text
    assert [c.id for c in run.last.choices] == [f.id for f in ctx.playbook.focus_areas]
    done = play(review.build(ctx.playbook), run.state, ctx, Choose("pipeline_management"))
    assert done.state.status == "ended"
    assert done.effects == [CompleteReview(
        review_id=3, session_id=41, metric_value=205.0, outcome="met",
        action_status={"a1": "done", "a2": "done"}, notes={}, next_focus="pipeline_management",
    )]


def test_action_not_done_leads_to_the_accountability_talk(ctx: Context) -> None:
    talk = {"problem": "Calls slipped", "alternatives": "Morning block or team blitz",
            "agreed_action": "Morning call block", "follow_up": "2026-03-17"}
    run = run_review(ctx, Say("170"), Choose("not_done"), Choose("done"), Submit(talk))
    assert run.state.status == "ended"
    assert "Not done: Call 20 leads a day." in "\n".join(m.text for m in run.messages)
    (effect,) = run.effects
    assert effect == CompleteReview(
        review_id=3, session_id=41, metric_value=170.0, outcome="not_done",
        action_status={"a1": "not_done", "a2": "done"}, notes={"coaching_discussion": talk},
        leaf="COACHING_DISCUSSION", next_review_date=date(2026, 3, 17),
    )


@pytest.mark.parametrize(("when", "problem"), [
    ("2026-03-09", "Follow-up date Monday 9 March 2026 is in the past; "
                   "pick today (Tuesday 10 March 2026) or later"),
    ("2027-06-01", "Follow-up date Tuesday 1 June 2027 is more than a year away"),
    ("whenever", "Follow-up date must be a date, like"),
])
def test_follow_up_date_must_be_sensible(ctx: Context, when: str, problem: str) -> None:
    talk = {"problem": "p", "alternatives": "a", "agreed_action": "x", "follow_up": when}
    run = run_review(ctx, Say("170"), Choose("not_done"), Choose("done"), Submit(talk))
    assert run.state.step == "accountability"
    assert problem in run.messages[-2].text
    assert not run.effects


def test_today_is_a_fine_follow_up_date(ctx: Context) -> None:
    talk = {"problem": "p", "alternatives": "a", "agreed_action": "x", "follow_up": "2026-03-10"}
    run = run_review(ctx, Say("170"), Choose("not_done"), Choose("done"), Submit(talk))
    assert run.state.status == "ended"


def test_improving_keeps_the_plan_and_sets_the_next_review(ctx: Context) -> None:
    run = run_review(ctx, Say("170"), Choose("done"), Choose("done"),
                     Submit({"review_date": "2026-03-09"}))
    assert run.state.step == "next_review"
    assert "in the past" in run.messages[-2].text
    done = play(review.build(ctx.playbook), run.state, ctx,
                Submit({"review_date": "2026-03-24", "note": "Keep going"}))
    assert done.effects == [CompleteReview(
        review_id=3, session_id=41, metric_value=170.0, outcome="improving",
        action_status={"a1": "done", "a2": "done"}, notes={"note": "Keep going"},
        next_review_date=date(2026, 3, 24),
    )]


def test_no_change_runs_the_chart_again(ctx: Context) -> None:
    run = run_review(ctx, Say("150"), Choose("done"), Choose("done"))
    assert run.state.step == ctx.playbook.chart.start
    assert "run the solution chart again" in run.messages[-2].text
    # Q01 yes, Q02 yes, Q03 yes, Q04 no -> FEEDBACK
    done = play(review.build(ctx.playbook), run.state, ctx, Choose("yes"), Choose("yes"),
                Choose("yes"), Choose("no"), Submit({"agreed_solution": "Clear feedback"}))
    assert done.state.status == "ended"
    (effect,) = done.effects
    assert isinstance(effect, CompleteReview)
    assert effect.outcome == "no_change"
    assert effect.leaf == "FEEDBACK"
    assert effect.notes["chart"] == {"Q01_gap_specific": True, "Q02_worth_pursuing": True,
                                     "Q03_standard_achievable": True, "Q04_knows_gap": False}
    assert effect.notes["agreed_solution"] == "Clear feedback"
    assert effect.notes["category"] == "expectations"


def test_a_systemic_leaf_in_the_review_raises_an_escalation(ctx: Context) -> None:
    run = run_review(ctx, Say("150"), Choose("done"), Choose("done"))
    # Q01 yes, Q02 yes, Q03 no -> SYSTEMIC_REDESIGN
    done = play(review.build(ctx.playbook), run.state, ctx, Choose("yes"), Choose("yes"),
                Choose("no"))
    assert done.state.step == "escalation"
    done = play(review.build(ctx.playbook), done.state, ctx,
                Submit({"impact": "Nobody meets it", "evidence": "Team average 60%"}),
                Submit({"agreed_solution": "Leader reviews the quota"}))
    escalation, complete = done.effects
    assert isinstance(escalation, RaiseEscalation) and isinstance(complete, CompleteReview)
    assert (escalation.leaf, escalation.impact) == ("SYSTEMIC_REDESIGN", "Nobody meets it")
    assert complete.leaf == "SYSTEMIC_REDESIGN"


def test_a_review_without_actions_decides_at_once(ctx: Context) -> None:
    run = run_review(ctx, Say("160"), actions=[])
    assert run.state.step == "next_review"


def test_one_action_prompt_per_action(ctx: Context) -> None:
    run = run_review(ctx, Say("160"))
    assert run.last.text.startswith("Action 1 of 2: Call 20 leads a day (Sam)")
    second = play(review.build(ctx.playbook), run.state, ctx, Choose("done"))
    assert second.state.step == "action_status"
    assert second.last.text.startswith("Action 2 of 2: Share the call script (you)")


def test_back_in_the_action_loop_returns_to_the_previous_action(ctx: Context) -> None:
    flow = review.build(ctx.playbook)
    run = run_review(ctx, Say("160"), Choose("not_done"))
    out = back(flow, run.state, ctx)
    assert out.state.step == "action_status"
    assert out.messages[-1].text.startswith("Action 1 of 2")
    redo = play(flow, out.state, ctx, Choose("done"), Choose("done"))
    assert redo.state.step == "next_review"
    assert redo.state.data["action_status"] == {"a1": "done", "a2": "done"}


def test_back_from_the_decision_returns_to_the_last_action(ctx: Context) -> None:
    flow = review.build(ctx.playbook)
    run = run_review(ctx, Say("160"), Choose("done"), Choose("done"))
    out = back(flow, run.state, ctx)
    assert out.messages[-1].text.startswith("Action 2 of 2")


def test_back_whole_stage_from_the_chart(ctx: Context) -> None:
    flow = review.build(ctx.playbook)
    run = run_review(ctx, Say("150"), Choose("done"), Choose("done"), Choose("yes"))
    out = back(flow, run.state, ctx, whole_stage=True)
    assert out.state.step == "metric_now"
    assert out.state.trail == ()


def test_unknown_input_keeps_the_state(ctx: Context) -> None:
    flow = review.build(ctx.playbook)
    run = run_review(ctx, Say("160"))
    out = advance(flow, run.state, Say("sort of"), ctx)
    assert out.state == run.state
    assert "I didn't catch that" in out.messages[0].text
    not_a_number = advance(flow, review.start(ctx.playbook, ctx, data()).state, Say("many"), ctx)
    assert "Current value must be a number" in not_a_number.messages[0].text
