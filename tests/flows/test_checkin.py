"""The rep's weekly check-in (METHOD §7) through ``advance``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from flows import checkin
from flows.effects import RecordCheckin
from flows.engine import Context, advance, back
from flows.messages import Choose, Input, Say, Submit
from tests.flows.driver import Run, play

ACTIONS = [{"id": 11, "description": "Call 20 leads a day"},
           {"id": 12, "description": "Update the CRM"},
           {"id": 13, "description": "Book a demo with Acme"}]
COUNTS = Submit({"calls": "84", "meetings": "6", "proposals": "2"})


def data(**extra: Any) -> dict[str, Any]:
    return {"checkin_id": 5, "actions": ACTIONS, **extra}


def run_checkin(ctx: Context, *inputs: Input, **extra: Any) -> Run:
    return play(checkin.build(ctx.playbook), checkin.start(ctx.playbook, ctx, data(**extra)),
                ctx, *inputs)


def test_start_greets_the_rep(rep_ctx: Context) -> None:
    out = checkin.start(rep_ctx.playbook, rep_ctx, data())
    assert out.messages[-1].text.startswith("Hi Sam,")
    assert [c.id for c in out.messages[-1].choices] == ["answer", "snooze",
                                                         "snooze_tomorrow", "out_of_office"]


def test_snooze_ends_at_once(rep_ctx: Context) -> None:
    run = run_checkin(rep_ctx, Choose("snooze"))
    assert run.state.status == "ended"
    assert run.effects == [RecordCheckin(5, "snoozed",
                                         ask_again_at=rep_ctx.now + timedelta(hours=2))]
    assert run.last.text == "Snoozed. I'll ask again in 2 hours."


def test_snooze_until_tomorrow_keeps_the_local_time(rep_ctx: Context) -> None:
    run = run_checkin(rep_ctx, Choose("snooze_tomorrow"))
    (effect,) = run.effects
    assert isinstance(effect, RecordCheckin) and effect.ask_again_at is not None
    local_now, again = rep_ctx.now.astimezone(rep_ctx.zone), effect.ask_again_at.astimezone(
        rep_ctx.zone)
    assert (again.date() - local_now.date()).days == 1
    assert (again.hour, again.minute) == (local_now.hour, local_now.minute)


def test_checkin_data_round_trips() -> None:
    typed = checkin.CheckinData.of(data())
    assert typed.checkin_id == 5 and typed.actions[0] == checkin.CheckinAction(
        "11", "Call 20 leads a day")
    assert checkin.CheckinData.of(typed.as_data()) == typed


def test_out_of_office_skips_the_week(rep_ctx: Context) -> None:
    run = run_checkin(rep_ctx, Say("4"))
    assert run.state.status == "ended"
    assert run.effects == [RecordCheckin(5, "out_of_office")]


def test_full_check_in(rep_ctx: Context) -> None:
    run = run_checkin(rep_ctx, Choose("answer"), Choose("done"), Choose("blocked"),
                      Say("Waiting for CRM access"), Choose("in_progress"), COUNTS,
                      Choose("yes"), Say("Pricing approvals are slow"), Choose("4"))
    assert run.state.status == "ended"
    assert run.effects == [RecordCheckin(
        5, "answered",
        action_updates={"11": {"status": "done", "note": ""},
                        "12": {"status": "blocked", "note": "Waiting for CRM access"},
                        "13": {"status": "in_progress", "note": ""}},
        activity={"calls": 84, "meetings": 6, "proposals": 2},
        got_coaching=True, blockers="Pricing approvals are slow", confidence=4,
    )]
    assert run.last.text == "Thanks, Sam: your check-in is saved."


def test_prompts_walk_each_open_action(rep_ctx: Context) -> None:
    run = run_checkin(rep_ctx, Choose("answer"))
    assert run.last.text.startswith("Action 1 of 3: Call 20 leads a day")
    run = play(checkin.build(rep_ctx.playbook), run.state, rep_ctx, Choose("blocked"))
    assert run.last.text == "What is blocking “Call 20 leads a day”?"
    run = play(checkin.build(rep_ctx.playbook), run.state, rep_ctx, Say("No leads"))
    assert run.last.text.startswith("Action 2 of 3: Update the CRM")


def test_no_open_actions_goes_straight_to_activity(rep_ctx: Context) -> None:
    run = run_checkin(rep_ctx, Choose("answer"), COUNTS, Choose("no"), Submit({}),
                      Say("2"), actions=[])
    (effect,) = run.effects
    assert isinstance(effect, RecordCheckin)
    assert effect.action_updates == {}
    assert effect.got_coaching is False
    assert effect.blockers is None
    assert effect.confidence == 2


def test_activity_form_comes_from_the_playbook(rep_ctx: Context) -> None:
    form = checkin.activity_form(rep_ctx.playbook)
    assert [(f.id, f.label, f.kind, f.required) for f in form.fields] == [
        ("calls", "Calls made", "integer", True),
        ("meetings", "Customer meetings held", "integer", True),
        ("proposals", "Proposals sent", "integer", True),
    ]


@pytest.mark.parametrize(("values", "problem"), [
    ({"calls": "84", "meetings": "6"}, "Proposals sent is required"),
    ({"calls": "84.5", "meetings": "6", "proposals": "2"}, "Calls made must be a whole number"),
    ({"calls": "-1", "meetings": "6", "proposals": "2"}, "Calls made must be a whole number"),
    ({"calls": "lots", "meetings": "6", "proposals": "2"}, "Calls made must be a number"),
])
def test_activity_counts_are_required_whole_numbers(
    rep_ctx: Context, values: dict[str, str], problem: str
) -> None:
    run = run_checkin(rep_ctx, Choose("answer"), Choose("done"), Choose("done"),
                      Choose("done"), Submit(values))
    assert run.state.step == "activity"
    assert problem in run.messages[-2].text


def test_activity_counts_accept_thousands_separators(rep_ctx: Context) -> None:
    run = run_checkin(rep_ctx, Choose("answer"), Choose("done"), Choose("done"),
                      Choose("done"), Submit({"calls": "1,200", "meetings": "6",
                                              "proposals": "0"}))
    assert run.state.data["activity"] == {"calls": 1200, "meetings": 6, "proposals": 0}


@pytest.mark.parametrize(("said", "stored"), [("none", None), ("N/A", None),
                                              ("Legal review is slow", "Legal review is slow")])
def test_blockers_are_optional(rep_ctx: Context, said: str, stored: str | None) -> None:
    run = run_checkin(rep_ctx, Choose("answer"), COUNTS, Choose("no"), Say(said),
                      actions=[])
    assert run.state.step == "confidence"
    assert run.state.data["blockers"] == stored


def test_back_from_the_second_action_returns_to_the_first(rep_ctx: Context) -> None:
    flow = checkin.build(rep_ctx.playbook)
    run = run_checkin(rep_ctx, Choose("answer"), Choose("blocked"), Say("No leads"))
    note = back(flow, run.state, rep_ctx)
    assert note.state.step == "blocker_note"
    assert note.messages[-1].text == "What is blocking “Call 20 leads a day”?"
    first = back(flow, note.state, rep_ctx)
    assert first.messages[-1].text.startswith("Action 1 of 3")
    redo = play(flow, first.state, rep_ctx, Choose("done"))
    assert redo.last.text.startswith("Action 2 of 3")
    assert redo.state.data["action_updates"]["11"] == {"status": "done", "note": ""}


def test_back_whole_stage_from_the_week_returns_to_the_actions(rep_ctx: Context) -> None:
    flow = checkin.build(rep_ctx.playbook)
    run = run_checkin(rep_ctx, Choose("answer"), Choose("done"), Choose("done"),
                      Choose("done"), COUNTS)
    assert run.state.step == "got_coaching"
    out = back(flow, run.state, rep_ctx, whole_stage=True)
    assert out.state.step == "action_progress"
    assert out.messages[-1].text.startswith("Action 1 of 3")


def test_confidence_is_one_to_five(rep_ctx: Context) -> None:
    flow = checkin.build(rep_ctx.playbook)
    run = run_checkin(rep_ctx, Choose("answer"), COUNTS, Choose("yes"), Say("none"),
                      actions=[])
    assert [c.id for c in run.last.choices] == ["1", "2", "3", "4", "5"]
    for bad in (Choose("6"), Say("0"), Say("very")):
        out = advance(flow, run.state, bad, rep_ctx)
        assert out.state == run.state
        assert out.messages[0].text.startswith("I didn't catch that")
