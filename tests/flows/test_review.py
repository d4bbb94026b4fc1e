"""The review loop of METHOD §6 through ``advance``: met, not done, improving, no change."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from flows import review
from flows.effects import (
    ActionDraft,
    CompleteReview,
    KeepPrivateNote,
    RaiseEscalation,
    RecordLeafOutcome,
)
from flows.engine import Context, advance, back
from flows.leaf_records import Feedback
from flows.leaf_steps import PLANNED_MODEL
from flows.messages import Choose, Input, Say, Submit
from tests.flows.driver import Run, fill_in, play
from tests.flows.test_sled import to_leaf

ACTIONS = [{"id": "a1", "description": "Call 20 leads a day", "owner": "rep", "due": "2026-03-06"},
           {"id": "a2", "description": "Share the call script", "owner": "manager",
            "due": "2026-03-05"}]


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


def test_target_met_praises_closes_the_focus_and_plans_the_next_session(ctx: Context) -> None:
    run = run_review(ctx, Say("205"), Choose("done"), Choose("done"))
    assert run.state.step == "next_focus"
    assert "Target met: bookings is 205" in run.messages[-2].text
    assert "This focus is now closed" in run.messages[-2].text
    assert [c.id for c in run.last.choices] == [f.id for f in ctx.playbook.focus_areas]
    chosen = play(review.build(ctx.playbook), run.state, ctx, Choose("pipeline_management"))
    assert chosen.state.step == "next_session"
    assert "next coaching session with Sam on Pipeline management" in chosen.last.text
    done = play(review.build(ctx.playbook), chosen.state, ctx,
                Submit({"session_date": "2026-03-24"}))
    assert done.state.status == "ended"
    assert done.effects == [CompleteReview(
        review_id=3, session_id=41, metric_value=205.0, outcome="met",
        action_status={"a1": "done", "a2": "done"}, notes={}, next_focus="pipeline_management",
        next_session_date=date(2026, 3, 24),
    )]
    assert ("Next: a coaching session on Pipeline management on 2026-03-24: /coach @sam."
            in done.last.text)


def test_the_next_session_date_must_be_sensible(ctx: Context) -> None:
    run = run_review(ctx, Say("205"), Choose("done"), Choose("done"),
                     Choose("pipeline_management"), Submit({"session_date": "2026-03-01"}))
    assert run.state.step == "next_session"
    assert "in the past" in run.messages[-2].text and not run.effects


TALK = {"problem": "Calls slipped", "alternatives": "Morning block or team blitz",
        "agreed_action": "Morning call block", "due": "2026-03-13", "follow_up": "2026-03-17"}


def test_a_rep_action_not_done_leads_to_the_accountability_talk(ctx: Context) -> None:
    run = run_review(ctx, Say("170"), Choose("not_done"), Choose("done"), Submit(TALK))
    assert run.state.status == "ended"
    assert "Not done by Sam: Call 20 leads a day." in "\n".join(m.text for m in run.messages)
    (effect,) = run.effects
    assert effect == CompleteReview(
        review_id=3, session_id=41, metric_value=170.0, outcome="not_done",
        action_status={"a1": "not_done", "a2": "done"}, notes={"coaching_discussion": TALK},
        leaf="COACHING_DISCUSSION", next_review_date=date(2026, 3, 17),
        actions=(ActionDraft("Morning call block", "rep", date(2026, 3, 13)),),
    )
    assert ("Sam owns “Morning call block”, due 2026-03-13. Next review on 2026-03-17: "
            "/review @sam." in run.last.text)


def test_a_manager_action_not_done_is_the_managers_to_reschedule(ctx: Context) -> None:
    run = run_review(ctx, Say("170"), Choose("done"), Choose("not_done"))
    assert run.state.step == "reschedule"
    assert run.last.text.startswith("Not done on your side: Share the call script (was due "
                                    "2026-03-05)")
    refused = play(review.build(ctx.playbook), run.state, ctx, Submit({"due": "2026-03-01"}))
    assert refused.state.step == "reschedule" and "in the past" in refused.messages[-2].text
    # the rep did their part and the number moves: no accountability talk for the rep
    moved = play(review.build(ctx.playbook), run.state, ctx, Submit({"due": "2026-03-12"}),
                 Submit({"review_date": "2026-03-24"}))
    assert moved.state.status == "ended"
    assert "accountability" not in "\n".join(m.text for m in moved.messages)
    (effect,) = moved.effects
    assert isinstance(effect, CompleteReview)
    assert effect.outcome == "improving"
    assert effect.rescheduled == (("a2", date(2026, 3, 12)),)
    assert effect.action_status == {"a1": "done", "a2": "not_done"}


def test_late_actions_on_both_sides_reschedule_then_talk(ctx: Context) -> None:
    run = run_review(ctx, Say("170"), Choose("not_done"), Choose("not_done"),
                     Submit({"due": "2026-03-12"}))
    assert run.state.step == "accountability"
    done = play(review.build(ctx.playbook), run.state, ctx, Submit(TALK))
    (effect,) = done.effects
    assert isinstance(effect, CompleteReview)
    assert (effect.outcome, effect.rescheduled) == ("not_done", (("a2", date(2026, 3, 12)),))
    assert "Not done by Sam: Call 20 leads a day." in "\n".join(m.text for m in run.messages)
    assert "Share the call script" not in run.messages[-2].text


@pytest.mark.parametrize(("when", "problem"), [
    ("2026-03-09", "Next review date Monday 9 March 2026 is in the past; "
                   "pick today (Tuesday 10 March 2026) or later"),
    ("2027-06-01", "Next review date Tuesday 1 June 2027 is more than a year away"),
    ("whenever", "Next review date must be a date, like"),
])
def test_follow_up_date_must_be_sensible(ctx: Context, when: str, problem: str) -> None:
    talk = {**TALK, "follow_up": when}
    run = run_review(ctx, Say("170"), Choose("not_done"), Choose("done"), Submit(talk))
    assert run.state.step == "accountability"
    assert problem in run.messages[-2].text
    assert not run.effects


def test_today_is_a_fine_follow_up_date(ctx: Context) -> None:
    talk = {**TALK, "due": "2026-03-10", "follow_up": "2026-03-10"}
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
    # Q01 yes, Q02 yes, Q03 yes, Q04 no -> FEEDBACK, its own step, then the next review
    done = play(review.build(ctx.playbook), run.state, ctx, Choose("yes"), Choose("yes"),
                Choose("yes"), Choose("no"),
                Submit({"observed": "Skipped discovery on 3 calls",
                        "instead": "Ask 5 discovery questions", "check_in": "2026-03-17"}))
    assert done.state.step == "plan_review"
    assert 'the action "Ask 5 discovery questions" (Sam, due 2026-03-17)' in done.last.text
    done = play(review.build(ctx.playbook), done.state, ctx,
                Submit({"review_date": "2026-03-24"}))
    assert done.state.status == "ended"
    assert "/model" not in done.last.text  # no model planned: none offered
    effect, outcome = done.effects
    assert isinstance(effect, CompleteReview) and isinstance(outcome, RecordLeafOutcome)
    assert effect.outcome == "no_change"
    assert effect.leaf == "FEEDBACK"
    assert effect.notes["chart"] == {"Q01_gap_specific": True, "Q02_worth_pursuing": True,
                                     "Q03_standard_achievable": True, "Q04_knows_gap": False}
    assert effect.notes["category"] == "expectations"
    assert effect.next_review_date == date(2026, 3, 24)
    assert effect.actions == (ActionDraft("Ask 5 discovery questions", "rep",
                                          date(2026, 3, 17)),)
    assert outcome == RecordLeafOutcome(41, 3, "FEEDBACK", "expectations", Feedback(
        "Skipped discovery on 3 calls", "Ask 5 discovery questions", date(2026, 3, 17)))


def test_a_systemic_leaf_in_the_review_raises_an_escalation(ctx: Context) -> None:
    run = run_review(ctx, Say("150"), Choose("done"), Choose("done"))
    # Q01 yes, Q02 yes, Q03 no -> SYSTEMIC_REDESIGN
    done = play(review.build(ctx.playbook), run.state, ctx, Choose("yes"), Choose("yes"),
                Choose("no"))
    assert done.state.step == "escalation"
    done = play(review.build(ctx.playbook), done.state, ctx,
                Submit({"owner": "Sales ops", "impact": "Nobody meets it",
                        "evidence": "Team average 60%"}),
                Submit({"review_date": "2026-04-01"}))
    escalation, complete, outcome = done.effects
    assert isinstance(escalation, RaiseEscalation) and isinstance(complete, CompleteReview)
    assert (escalation.leaf, escalation.impact, escalation.review_id) == (
        "SYSTEMIC_REDESIGN", "Nobody meets it", 3)
    assert complete.leaf == "SYSTEMIC_REDESIGN" and complete.outcome == "no_change"
    assert isinstance(outcome, RecordLeafOutcome) and outcome.record.kind == "Escalation"


def test_no_action_in_the_review_ends_as_no_action(ctx: Context) -> None:
    run = run_review(ctx, Say("150"), Choose("done"), Choose("done"), Choose("yes"),
                     Choose("no"), Submit({"reason": "Quarter end"}))
    assert run.state.status == "ended"
    complete = next(e for e in run.effects if isinstance(e, CompleteReview))
    assert (complete.outcome, complete.leaf) == ("no_action", "NO_ACTION")
    assert complete.next_review_date is None and complete.actions == ()
    assert "no action for now" in run.last.text and "new solution" not in run.last.text


@pytest.mark.parametrize(("leaf", "kind"), [("REFER_PERSONAL", "personal"),
                                            ("JOB_FIT", "job_fit")])
def test_a_private_leaf_in_the_review_has_its_private_note(
        ctx: Context, leaf: str, kind: str) -> None:
    run = run_review(ctx, Say("150"), Choose("done"), Choose("done"),
                     *to_leaf(ctx.playbook.chart, leaf), Submit({"note": "Family illness"}),
                     Submit({"review_date": "2026-04-01"}))
    assert run.state.status == "ended"
    assert run.of(KeepPrivateNote) == [KeepPrivateNote(41, kind, "Family illness")]
    complete = run.of(CompleteReview)[0]
    assert complete.actions == () and complete.next_model is None
    assert "Family illness" not in repr(complete)
    assert ctx.subject is not None
    assert not [m for m in run.messages if m.to is not None]


@pytest.mark.parametrize("leaf", ["TRAINING", "JOB_AID", "PRACTICE", "COACHING"])
def test_a_model_leaf_in_the_review_plans_the_model(ctx: Context, leaf: str) -> None:
    run = run_review(ctx, Say("150"), Choose("done"), Choose("done"),
                     *to_leaf(ctx.playbook.chart, leaf))
    run = play(review.build(ctx.playbook), run.state, ctx, fill_in(run.last),
               Submit({"review_date": "2026-04-01"}))
    complete = run.of(CompleteReview)[0]
    assert complete.next_model == PLANNED_MODEL[leaf]
    assert "/model @sam" in run.last.text


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


IMPORTED = {"value": 172.0, "start": "2026-03-01", "end": "2026-03-31"}


def test_the_imported_metric_is_shown_and_a_blank_confirms_it(ctx: Context) -> None:
    out = review.start(ctx.playbook, ctx, data(imported=IMPORTED))
    ask = out.messages[-1]
    assert "The imported data says 172 for 2026-03-01 to 2026-03-31" in ask.text
    assert ask.form is not None and not ask.form.fields[0].required
    assert "172" in ask.form.fields[0].hint
    confirmed = run_review(ctx, Submit({}), imported=IMPORTED)
    assert confirmed.state.data["metric_value"] == 172.0
    blank = run_review(ctx, Say(""), imported=IMPORTED)
    assert blank.state.data["metric_value"] == 172.0
    typed = run_review(ctx, Say("181"), imported=IMPORTED)
    assert typed.state.data["metric_value"] == 181.0


def test_without_imported_data_the_value_is_required(ctx: Context) -> None:
    run = run_review(ctx, Submit({}))
    assert run.state.step == "metric_now"
    assert "Current value is required" in run.messages[-2].text


def test_the_chart_rerun_suggests_the_answers_given_earlier(ctx: Context) -> None:
    earlier = {"answers": {"Q01_gap_specific": True, "Q02_worth_pursuing": True,
                           "Q03_standard_achievable": True, "Q04_knows_gap": False},
               "date": "2026-03-01"}
    run = run_review(ctx, Say("150"), Choose("done"), Choose("done"), earlier_chart=earlier)
    q01 = run.last
    assert q01.step == "Q01_gap_specific"
    assert "Suggested: Yes — your answer on 2026-03-01" in q01.text
    assert q01.choices[0].label == "Yes (suggested)"
    flow = review.build(ctx.playbook)
    at_q04 = play(flow, run.state, ctx, Say("1"), Say("1"), Say("1"))
    assert "Suggested: No — your answer on 2026-03-01" in at_q04.last.text
    assert [c.id for c in at_q04.last.choices] == ["no", "yes"]
    changed = play(flow, at_q04.state, ctx, Choose("yes"))  # the rep knows now
    assert changed.state.step == "Q05_knows_what"
    assert "Suggested" not in changed.last.text  # never answered before


def test_the_review_plan_is_typed_and_stored_as_plain_data() -> None:
    plan = review.ReviewPlan.of(data(rep_id=7, imported=IMPORTED))
    assert plan.baseline == 150.0 and plan.target == 200.0 and plan.rep_id == 7
    assert [a.owner for a in plan.actions] == ["rep", "manager"]
    assert review.ReviewPlan.of(plan.as_data()) == plan
    assert json.loads(json.dumps(plan.as_data())) == plan.as_data()  # JSON, as stored
    with pytest.raises(KeyError):
        review.ReviewPlan.of({k: v for k, v in data().items() if k != "session_id"})
