"""Sales coaching, Engage–Practice–Do–Review, through ``advance``."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from flows import coaching
from flows.effects import CompleteModel, PlanModelReview, RecordModelStage
from flows.engine import Context, FlowBug, FlowState, advance, back
from flows.messages import Choose, Say, Submit
from tests.flows.driver import Run, play

SID = 9
ENGAGE = Submit({"rep_view": "My openers are weak", "goal": "Book 5 meetings a week",
                 "behaviour": "Open with a customer insight"})
PRACTICE = Submit({"role_play": "Three openers", "rep_critique": "Second one rambled"})
NOTES = Submit({"manager_notes": "Insight landed on the third"})
DO = Say("On the Acme call Sam opened with the churn insight; meeting booked")
SELF = Say("Better, but I still talk too long")
FEEDBACK = Submit({"feedback": "You paused after the insight and let them answer"})


def data(**extra: Any) -> dict[str, Any]:
    return {"session_id": SID, "rep_name": "Sam", "rep_ref": "@sam", "focus": "Prospecting",
            **extra}


def begin_run(ctx: Context, *inputs: Any, **extra: Any) -> Run:
    flow = coaching.build(ctx.playbook)
    return play(flow, coaching.start(ctx.playbook, ctx, data(**extra)), ctx, *inputs)


def to_review(ctx: Context, **extra: Any) -> Run:
    return begin_run(ctx, ENGAGE, Choose("yes"), PRACTICE, Choose("granted"), NOTES,
                     Choose("yes"), DO, Choose("yes"), Choose("now"), **extra)


def test_happy_path_engage_practice_do_review(ctx: Context) -> None:
    run = begin_run(ctx, ENGAGE, Choose("yes"), PRACTICE, Choose("declined"), Choose("no"),
                    PRACTICE, Choose("granted"), NOTES, Choose("yes"), DO, Choose("yes"),
                    Choose("now"), SELF, Choose("granted"), FEEDBACK,
                    Submit({"value": "4"}), metric="meetings booked", baseline=2, target=5)
    assert run.state.status == "ended"
    assert [e.stage for e in run.effects if isinstance(e, RecordModelStage)] == [
        "E", "P", "D", "R"]
    engage, practice, do, review, complete = run.effects
    assert engage == RecordModelStage(SID, "coaching", "E", {
        "rep_view": "My openers are weak", "goal": "Book 5 meetings a week",
        "behaviour": "Open with a customer insight", "explained_back": True, "repeats": 0})
    assert practice == RecordModelStage(SID, "coaching", "P", {
        "role_play": "Three openers", "rep_critique": "Second one rambled",
        "permission": "granted", "manager_notes": "Insight landed on the third",
        "explained_back": True, "repeats": 1})
    assert isinstance(do, RecordModelStage) and do.values["observed"].startswith("On the Acme")
    assert review == RecordModelStage(SID, "coaching", "R", {
        "self_assessment": "Better, but I still talk too long", "permission": "granted",
        "feedback": "You paused after the insight and let them answer",
        "metric": "meetings booked", "metric_value": 4.0})
    assert complete == CompleteModel(SID, "coaching", "done")
    assert "meetings booked is now 4" in run.last.text


def test_engage_asks_for_the_reps_view_first(ctx: Context) -> None:
    out = coaching.start(ctx.playbook, ctx, data())
    form = out.messages[-1].form
    assert form is not None
    assert [f.id for f in form.fields] == ["rep_view", "goal", "behaviour"]
    assert "view first" in out.messages[-1].text


def test_practice_asks_the_reps_critique_then_permission_before_your_notes(ctx: Context
                                                                            ) -> None:
    run = begin_run(ctx, ENGAGE, Choose("yes"))
    form = run.last.form
    assert form is not None
    assert [f.id for f in form.fields] == ["role_play", "rep_critique"]
    asked = begin_run(ctx, ENGAGE, Choose("yes"), PRACTICE)
    assert asked.state.step == "practice_permission"
    assert "May I add what I noticed?" in asked.last.text
    notes = play(coaching.build(ctx.playbook), asked.state, ctx, Choose("granted"))
    assert notes.state.step == "practice_notes"


def test_practice_notes_declined_are_skipped_and_recorded(ctx: Context) -> None:
    run = begin_run(ctx, ENGAGE, Choose("yes"), PRACTICE, Choose("declined"))
    assert run.state.step == "practice_check"
    assert "declined your notes" in run.messages[-2].text
    done = play(coaching.build(ctx.playbook), run.state, ctx, Choose("yes"))
    (practice,) = done.effects
    assert isinstance(practice, RecordModelStage)
    assert practice.values["permission"] == "declined"
    assert "manager_notes" not in practice.values


@pytest.mark.parametrize("notes", ["Honestly a total slacker in the role-play",
                                   "Never prepares, as usual"])
def test_practice_notes_naming_character_are_rejected(ctx: Context, notes: str) -> None:
    run = begin_run(ctx, ENGAGE, Choose("yes"), PRACTICE, Choose("granted"),
                    Submit({"manager_notes": notes}))
    assert run.state.step == "practice_notes"
    assert "names a behaviour" in run.messages[-2].text


def test_practice_notes_without_permission_is_a_bug(ctx: Context) -> None:
    forced = FlowState("coaching", "practice_notes", {**data(), "practice": {}})
    with pytest.raises(FlowBug, match="permission"):
        advance(coaching.build(ctx.playbook), forced, NOTES, ctx)


def test_the_review_can_be_planned_for_another_day(ctx: Context) -> None:
    flow = coaching.build(ctx.playbook)
    run = begin_run(ctx, ENGAGE, Choose("yes"), PRACTICE, Choose("declined"), Choose("yes"),
                    DO, Choose("yes"))
    assert run.state.step == "review_when"
    later = play(flow, run.state, ctx, Choose("later"), Submit({"date": "2026-03-01"}))
    assert later.state.step == "review_date" and "in the past" in later.messages[-2].text
    later = play(flow, run.state, ctx, Choose("later"), Submit({"date": "2026-03-17"}))
    assert later.state.step == "review_waiting"
    assert later.effects == [PlanModelReview(SID, "coaching", date(2026, 3, 17))]
    assert ("The Review with Sam is planned for 2026-03-17; pick it up then with /model @sam "
            "(or /resume)." in later.messages[-2].text)
    assert [c.id for c in later.last.choices] == ["start", "change"]
    moved = play(flow, later.state, ctx, Choose("change"), Submit({"date": "2026-03-18"}))
    assert moved.effects == [PlanModelReview(SID, "coaching", date(2026, 3, 18))]
    started = play(flow, moved.state, ctx, Choose("start"), SELF, Choose("declined"),
                   Say("3"))
    assert started.state.status == "ended"
    assert started.effects[-1] == CompleteModel(SID, "coaching", "done")


def test_the_end_names_the_plans_review(ctx: Context) -> None:
    run = play(coaching.build(ctx.playbook), to_review(ctx, review_date="2026-03-24").state,
               ctx, SELF, Choose("declined"), Say("3"))
    assert run.last.text.endswith("The plan's review is on 2026-03-24: /review @sam.")


def test_the_rep_speaks_before_permission_and_feedback(ctx: Context) -> None:
    run = to_review(ctx)
    assert run.state.step == "self_assessment"
    assert run.last.form is not None
    flow = coaching.build(ctx.playbook)
    # Feedback typed at the self-assessment step is not taken as feedback.
    refused = advance(flow, run.state, FEEDBACK, ctx)
    assert refused.state == run.state
    assessed = play(flow, run.state, ctx, SELF)
    assert assessed.state.step == "permission"
    assert "May I share" in assessed.last.text


def test_declined_permission_records_it_and_skips_feedback(ctx: Context) -> None:
    run = play(coaching.build(ctx.playbook), to_review(ctx).state, ctx, SELF,
               Choose("declined"))
    assert run.state.step == "metric"
    assert "declined feedback" in run.messages[-2].text
    done = play(coaching.build(ctx.playbook), run.state, ctx, Say("3"))
    review = done.effects[0]
    assert isinstance(review, RecordModelStage)
    assert review.values["permission"] == "declined"
    assert review.values["feedback"] is None
    assert done.effects[-1] == CompleteModel(SID, "coaching", "done")


def test_feedback_typed_before_going_back_does_not_survive_a_refusal(ctx: Context) -> None:
    flow = coaching.build(ctx.playbook)
    run = play(flow, to_review(ctx).state, ctx, SELF, Choose("granted"), FEEDBACK)
    assert run.state.step == "metric"
    to_permission = back(flow, back(flow, run.state, ctx).state, ctx)
    assert to_permission.state.step == "permission"
    done = play(flow, to_permission.state, ctx, Choose("declined"), Say("3"))
    review = done.effects[0]
    assert isinstance(review, RecordModelStage)
    assert review.values["feedback"] is None


@pytest.mark.parametrize("state_data", [
    {"permission": "granted"},
    {"self_assessment": {"self_assessment": "ok"}},
    {"self_assessment": {"self_assessment": "ok"}, "permission": "declined"},
])
def test_feedback_step_without_its_gates_is_a_bug(ctx: Context, state_data: dict[str, Any]
                                                  ) -> None:
    forced = FlowState("coaching", "feedback", {**data(), **state_data})
    with pytest.raises(FlowBug, match="permission"):
        advance(coaching.build(ctx.playbook), forced, FEEDBACK, ctx)


@pytest.mark.parametrize("text", [
    "You are a natural closer but arrogant", "you're so unmotivated lately",
    "Bad attitude on the Acme call", "You were lazy with follow-ups",
])
def test_feedback_naming_character_is_rejected(ctx: Context, text: str) -> None:
    run = play(coaching.build(ctx.playbook), to_review(ctx).state, ctx, SELF,
               Choose("granted"), Submit({"feedback": text}))
    assert run.state.step == "feedback"
    assert "names a behaviour" in run.messages[-2].text


def test_metric_must_be_a_number(ctx: Context) -> None:
    run = play(coaching.build(ctx.playbook), to_review(ctx).state, ctx, SELF,
               Choose("declined"), Say("lots"))
    assert run.state.step == "metric"
    assert "must be a number" in run.messages[-2].text


def test_metric_prompt_shows_the_plan(ctx: Context) -> None:
    run = play(coaching.build(ctx.playbook),
               to_review(ctx, metric="bookings", baseline=150, target=200).state, ctx, SELF,
               Choose("declined"))
    assert "what is bookings now? (baseline 150, target 200)" in run.last.text


def test_back_whole_stage_from_review_returns_to_do(ctx: Context) -> None:
    flow = coaching.build(ctx.playbook)
    run = play(flow, to_review(ctx).state, ctx, SELF)
    out = back(flow, run.state, ctx, whole_stage=True)
    assert out.state.step == "do"
    assert out.messages[0].text == "Back to D — Do."
