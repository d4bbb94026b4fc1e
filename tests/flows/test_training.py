"""Field training, Tell–Show–Do–Review, through ``advance``."""

from __future__ import annotations

from typing import Any

import pytest

from flows import training
from flows.effects import CompleteModel, RecordModelStage
from flows.engine import Context, FlowBug, FlowState, advance, back
from flows.messages import Choose, Say, Submit
from tests.flows.driver import Run, play

SID = 7
TELL = Submit({"steps": "Open, ask, confirm", "why": "Budget first saves time",
               "good": "Budget confirmed in the first call"})
SHOW = Submit({"how": "recording", "notes": "Listen for the budget question"})
DO = Submit({"role_play": "Asked budget in minute 3", "live": "Asked on the Acme call"})
SELF = Say("I asked too late on the second call")
POSITIVES = Submit({"positives": "You asked the budget question on the Acme call"})
CONSTRUCTIVE = Submit({"point_1": "Ask budget before the demo",
                       "point_2": "Confirm the decision maker"})


def data() -> dict[str, Any]:
    return {"session_id": SID, "rep_name": "Sam", "rep_ref": "@sam",
            "focus": "Opportunity qualification"}


def begin_run(ctx: Context, *inputs: Any) -> Run:
    return play(training.build(ctx.playbook), training.start(ctx.playbook, ctx, data()), ctx,
                *inputs)


def to_review(ctx: Context) -> Run:
    return begin_run(ctx, TELL, Choose("yes"), SHOW, Choose("yes"), DO, Choose("yes"))


def test_start_asks_the_tell_form(ctx: Context) -> None:
    out = training.start(ctx.playbook, ctx, data())
    assert out.state.step == "tell"
    assert out.messages[-1].form is not None
    assert "Opportunity qualification" in out.messages[-1].text
    assert "T — Tell" in out.messages[-1].text


def test_happy_path_tell_show_do_review(ctx: Context) -> None:
    run = begin_run(ctx, TELL, Choose("no"), TELL, Choose("yes"), SHOW, Choose("yes"),
                    DO, Choose("yes"), SELF, POSITIVES, CONSTRUCTIVE, Choose("move_on"))
    assert run.state.status == "ended"
    assert run.effects == [
        RecordModelStage(SID, "training", "T", {
            "steps": "Open, ask, confirm", "why": "Budget first saves time",
            "good": "Budget confirmed in the first call", "explained_back": True, "repeats": 1}),
        RecordModelStage(SID, "training", "S", {
            "how": "recording", "notes": "Listen for the budget question",
            "explained_back": True, "repeats": 0}),
        RecordModelStage(SID, "training", "D", {
            "role_play": "Asked budget in minute 3", "live": "Asked on the Acme call",
            "explained_back": True, "repeats": 0}),
        RecordModelStage(SID, "training", "R", {
            "self_assessment": "I asked too late on the second call",
            "positives": "You asked the budget question on the Acme call",
            "constructive": ["Ask budget before the demo", "Confirm the decision maker"],
            "decision": "move_on"}),
        CompleteModel(SID, "training", "move_on"),
    ]
    assert run.last.text == ("Field training with Sam on Opportunity qualification saved. "
                             "Sam has it: move on.")


@pytest.mark.parametrize(("decision", "then"), [
    ("repeat", "Next: the training again, when you next meet: /model @sam. The plan's "
               "review is on 2026-03-24: /review @sam."),
    ("coaching", "Next: sales coaching on Opportunity qualification: /model @sam. The plan's "
                 "review is on 2026-03-24: /review @sam."),
    ("move_on", "Sam has it: move on. The plan's review is on 2026-03-24: /review @sam."),
])
def test_the_decision_names_the_next_step_and_its_command(ctx: Context, decision: str,
                                                          then: str) -> None:
    start = training.start(ctx.playbook, ctx, {**data(), "review_date": "2026-03-24"})
    run = play(training.build(ctx.playbook), start, ctx, TELL, Choose("yes"), SHOW,
               Choose("yes"), DO, Choose("yes"), SELF, POSITIVES, CONSTRUCTIVE,
               Choose(decision))
    assert run.last.text.endswith(then)


def test_not_understood_repeats_the_stage_form_with_a_hint(ctx: Context) -> None:
    run = begin_run(ctx, TELL, Choose("no"))
    assert run.state.step == "tell"
    assert "smaller steps" in run.messages[-2].text
    assert run.messages[-1].form is not None
    assert not run.effects


@pytest.mark.parametrize("decision", ["repeat", "move_on", "coaching"])
def test_each_decision_completes_the_model(ctx: Context, decision: str) -> None:
    run = play(training.build(ctx.playbook), to_review(ctx).state, ctx,
               SELF, POSITIVES, CONSTRUCTIVE, Choose(decision))
    assert run.effects[-1] == CompleteModel(SID, "training", decision)


def test_positives_come_before_constructive_points(ctx: Context) -> None:
    run = play(training.build(ctx.playbook), to_review(ctx).state, ctx, SELF)
    assert run.state.step == "positives"
    # Constructive points typed now land in the positives step, never skip it.
    flow = training.build(ctx.playbook)
    refused = advance(flow, run.state, CONSTRUCTIVE, ctx)
    assert refused.state == run.state
    assert "no field point_1" in refused.messages[0].text


def test_constructive_step_without_positives_is_a_bug(ctx: Context) -> None:
    flow = training.build(ctx.playbook)
    forced = FlowState("training", "constructive", {**data(), "self_assessment": {}})
    with pytest.raises(FlowBug, match="positives"):
        advance(flow, forced, CONSTRUCTIVE, ctx)


def test_one_constructive_point_is_enough(ctx: Context) -> None:
    run = play(training.build(ctx.playbook), to_review(ctx).state, ctx, SELF, POSITIVES,
               Say("Ask budget before the demo"), Choose("repeat"))
    record = run.effects[-2]
    assert isinstance(record, RecordModelStage)
    assert record.values["constructive"] == ["Ask budget before the demo"]


@pytest.mark.parametrize(("step_input", "where"), [
    (Submit({"positives": "Honestly you're so lazy on calls"}), "What went well"),
    (Submit({"positives": "Good energy"}), None),
])
def test_character_words_in_positives(ctx: Context, step_input: Submit, where: str | None
                                      ) -> None:
    run = play(training.build(ctx.playbook), to_review(ctx).state, ctx, SELF, step_input)
    if where is None:
        assert run.state.step == "constructive"
    else:
        assert run.state.step == "positives"
        assert where in run.messages[-2].text
        assert "not what Sam did" in run.messages[-2].text


def test_character_words_in_constructive_points_are_rejected(ctx: Context) -> None:
    run = play(training.build(ctx.playbook), to_review(ctx).state, ctx, SELF, POSITIVES,
               Submit({"point_1": "Ask budget earlier", "point_2": "Don't be so CARELESS"}))
    assert run.state.step == "constructive"
    problem = run.messages[-2].text
    assert "Second point to improve" in problem and "“CARELESS”" in problem
    assert not [e for e in run.effects if isinstance(e, CompleteModel)]


def test_show_form_needs_a_listed_way_of_demonstrating(ctx: Context) -> None:
    run = begin_run(ctx, TELL, Choose("yes"), Submit({"how": "telepathy", "notes": "x"}))
    assert run.state.step == "show"
    assert "must be one of: Live, Recording" in run.messages[-2].text


def test_back_one_step_and_a_whole_stage(ctx: Context) -> None:
    flow = training.build(ctx.playbook)
    run = begin_run(ctx, TELL, Choose("yes"), SHOW)
    assert run.state.step == "show_check"
    one = back(flow, run.state, ctx)
    assert one.state.step == "show"
    assert one.messages[0].text == "Back to S — Show."
    stage = back(flow, run.state, ctx, whole_stage=True)
    assert stage.state.step == "tell"
    assert stage.state.trail == ()
    assert stage.state.data["tell"]["why"] == "Budget first saves time"
    first = back(flow, stage.state, ctx)
    assert first.state == stage.state
    assert "first question" in first.messages[0].text


def test_input_that_fits_nothing_keeps_the_state(ctx: Context) -> None:
    flow = training.build(ctx.playbook)
    run = begin_run(ctx, TELL)
    for nonsense in (Say("banana"), Choose("maybe"), Submit({"x": "y"})):
        out = advance(flow, run.state, nonsense, ctx)
        assert out.state == run.state
        assert out.messages[0].text.startswith("I didn't catch that. Please pick one of: 1) Yes")
        assert out.messages[-1].step == "tell_check"
        assert not out.effects
