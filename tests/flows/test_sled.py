"""SLED end to end through ``advance``: stages, chart leaves, escalation and privacy."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from flows import roam, sled
from flows.chart import Chart
from flows.effects import (
    ActionDraft,
    CompleteSession,
    KeepPrivateNote,
    RaiseEscalation,
    RecordStage,
    StartFlow,
)
from flows.engine import END, Context, Outcome, back
from flows.messages import Choose, Input, Say, Submit
from tests.flows.driver import Run, play, texts
from tests.flows.test_chart import LEAVES

SID = 41
ROWS = [
    roam.MetricRow("bookings", "result", date(2026, 3, 1), date(2026, 3, 31), 200, 150),
    roam.MetricRow("calls", "activity", date(2026, 3, 1), date(2026, 3, 31), 100, 60),
]
SET_STAGE = Submit({"purpose": "Lift bookings", "objectives": "Find the cause",
                    "value_to_rep": "Hit plan"})
VIEWS = Submit({"gap_statement": "150 of 200 bookings", "rep_view": "Fewer calls",
                "manager_view": "Calls are short"})
ACTION = Submit({"description": "Block 2h a day for calls", "owner": "rep", "due": "2026-03-20"})
SUCCESS = Submit({"metric": "bookings", "baseline": "150", "target": "200",
                  "review_date": "2026-04-07"})
PRIVATE_NOTE = "Going through a divorce; asked for flexible hours"


def data() -> dict[str, Any]:
    return {"session_id": SID, "rep_id": 2, "rep_name": "Sam", "rep_ref": "@sam",
            "brief": {"roam": roam.snapshot(ROWS, date(2026, 3, 10)), "open_actions": [],
                      "checkins": []}}


def to_leaf(chart: Chart, leaf: str) -> list[Input]:
    """The yes/no choices that walk the chart from its start to ``leaf``."""

    def search(node: str) -> list[Input] | None:
        if chart.is_leaf(node):
            return [] if node == leaf else None
        for answer in ("yes", "no"):
            rest = search(chart.questions[node].branch(answer == "yes"))
            if rest is not None:
                return [Choose(answer), *rest]
        return None

    found = search(chart.start)
    assert found is not None
    return found


def through_l(ctx: Context) -> tuple[Outcome, list[Input]]:
    start = sled.start(ctx.playbook, ctx, data())
    return start, [SET_STAGE, Choose("yes"), Choose("metric:bookings"), VIEWS,
                   Choose("prospecting"), Choose("yes")]


def session(ctx: Context, leaf: str, *after_leaf: Input) -> Run:
    start, inputs = through_l(ctx)
    flow = sled.build(ctx.playbook)
    return play(flow, start, ctx, *inputs, *to_leaf(ctx.playbook.chart, leaf), *after_leaf)


def test_start_shows_the_context_card_and_asks_to_set_the_stage(ctx: Context) -> None:
    out = sled.start(ctx.playbook, ctx, data())
    assert out.messages[0].step == "context"
    assert "Coaching Sam" in out.messages[0].text
    assert "bookings: 150 of 200" in out.messages[0].text
    assert out.messages[1].step == "set_stage"
    assert out.state.step == "set_stage"


COACHING_STEP = Submit({"behaviour": "The opener", "goal": "Practice the opener",
                        "options": "Scripts"})
COACHING_SOLUTION = "Sales coaching on The opener; goal: Practice the opener."


def test_full_session_s_l_e_d(ctx: Context) -> None:
    run = session(ctx, "COACHING", COACHING_STEP,
                  ACTION, Choose("done"), SUCCESS, Choose("coaching"), Choose("yes"),
                  Choose("now"))
    assert run.state.status == "ended"
    assert [e.stage for e in run.of(RecordStage)] == ["S", "L", "E", "D"]
    records = {e.stage: e.values for e in run.of(RecordStage)}
    assert records["S"]["purpose"] == "Lift bookings"
    assert records["S"]["rep_aligned"] is True
    assert records["L"]["focus_area"] == "prospecting"
    assert records["L"]["gap"] == "metric:bookings"
    assert records["E"]["leaf"] == "COACHING"
    assert records["E"]["agreed_solution"] == COACHING_SOLUTION
    assert records["E"]["options"] == "Scripts"
    (complete,) = run.of(CompleteSession)
    assert complete == CompleteSession(
        SID, "completed", leaf="COACHING", category="coaching",
        agreed_solution=COACHING_SOLUTION,
        actions=(ActionDraft("Block 2h a day for calls", "rep", date(2026, 3, 20), True),),
        metric="bookings", baseline=150.0, target=200.0, review_date=date(2026, 4, 7),
        next_model="coaching", rep_committed=True,
    )
    assert run.effects[-1] == StartFlow("coaching", SID)
    assert ctx.subject is not None
    summary = [m for m in run.messages if m.to == ctx.subject.email]
    assert len(summary) == 1
    assert "Block 2h a day for calls" in summary[0].text


def test_no_model_ends_without_handoff(ctx: Context) -> None:
    run = session(ctx, "SET_PRIORITIES",
                  Submit({"priorities": "1. Renewals 2. New logos", "time_blocks": "Mornings"}),
                  ACTION, Choose("done"), SUCCESS, Choose("none"), Choose("yes"))
    assert run.state.status == "ended"
    assert not run.of(StartFlow)


def test_define_gap_goes_back_to_the_gap_step(ctx: Context) -> None:
    run = session(ctx, "DEFINE_GAP")
    assert run.state.step == "gap"
    assert run.state.data["leaf"] == "DEFINE_GAP"
    assert any(m.leaf == "DEFINE_GAP" for m in run.messages)
    flow = sled.build(ctx.playbook)
    again = play(flow, run.state, ctx, Choose("other"), VIEWS, Choose("prospecting"),
                 Choose("yes"))
    assert again.state.step == "Q01_gap_specific"


def test_no_action_ends_the_session(ctx: Context) -> None:
    run = session(ctx, "NO_ACTION", Say("Quarter end, revisit in April"))
    assert run.state.status == "ended"
    (complete,) = run.of(CompleteSession)
    assert complete.status == "no_action"
    assert complete.leaf == "NO_ACTION"
    assert complete.agreed_solution == "Quarter end, revisit in April"
    assert "no action" in run.last.text.lower()


@pytest.mark.parametrize("leaf", ["SYSTEMIC_REDESIGN", "ESCALATE_SYSTEMIC"])
def test_systemic_leaf_raises_an_escalation(ctx: Context, leaf: str) -> None:
    run = session(ctx, leaf,
                  Submit({"owner": "Sales ops", "impact": "Whole team short of leads",
                          "evidence": "CRM report"}))
    assert run.state.step == "action"
    (raised,) = run.of(RaiseEscalation)
    assert (raised.session_id, raised.leaf, raised.impact, raised.evidence, raised.fix_owner) == (
        SID, leaf, "Whole team short of leads", "CRM report", "Sales ops")
    assert "Maya Manager" in raised.notice and "Whole team short of leads" in raised.notice


@pytest.mark.parametrize(("leaf", "kind"), [("REFER_PERSONAL", "personal"),
                                            ("JOB_FIT", "job_fit")])
def test_private_leaf_keeps_a_private_note_out_of_the_rep_summary(
    ctx: Context, leaf: str, kind: str
) -> None:
    run = session(ctx, leaf, Submit({"note": PRIVATE_NOTE}),
                  Submit({"description": "Check in on Friday", "owner": "manager",
                          "due": "2026-03-13"}),
                  Choose("done"), SUCCESS, Choose("yes"))
    assert run.of(KeepPrivateNote) == [KeepPrivateNote(SID, kind, PRIVATE_NOTE)]
    assert run.state.status == "ended"
    assert ctx.subject is not None
    assert [m for m in run.messages if m.to == ctx.subject.email] == []  # nothing at all
    (complete,) = run.of(CompleteSession)
    assert complete.next_model == "none"
    assert [a.shared for a in complete.actions] == [False]
    for effect in run.effects:
        if not isinstance(effect, KeepPrivateNote):
            assert PRIVATE_NOTE not in repr(effect)


def test_action_due_in_the_past_is_rejected(ctx: Context) -> None:
    run = session(ctx, "TRAINING", Submit({"skill": "Demo", "good_looks_like": "Crisp"}),
                  Submit({"description": "Read the guide", "owner": "rep",
                          "due": "2026-03-09"}))
    assert run.state.step == "action"
    assert "Monday 9 March 2026 is in the past" in run.messages[-2].text


def test_rep_not_aligned_revises_the_purpose(ctx: Context) -> None:
    start, _ = through_l(ctx)
    run = play(sled.build(ctx.playbook), start, ctx, SET_STAGE, Choose("revise"))
    assert run.state.step == "set_stage"
    assert not run.of(RecordStage)


def test_back_through_the_chart_and_a_whole_stage(ctx: Context) -> None:
    flow = sled.build(ctx.playbook)
    start, inputs = through_l(ctx)
    run = play(flow, start, ctx, *inputs, Choose("yes"))
    assert run.state.step == "Q02_worth_pursuing"
    one = back(flow, run.state, ctx)
    assert one.state.step == "Q01_gap_specific"
    stage = back(flow, run.state, ctx, whole_stage=True)
    assert stage.state.step == "gap"
    assert stage.messages[0].text == "Back to L — Lead the performance analysis."
    assert stage.state.data["views"]["rep_view"] == "Fewer calls"


def test_cancel_completes_the_session_as_cancelled(ctx: Context) -> None:
    flow = sled.build(ctx.playbook)
    out = sled.start(ctx.playbook, ctx, data())
    assert flow.on_cancel(out.state) == (CompleteSession(SID, "cancelled"),)
    assert END not in flow.steps


def test_cancel_at_the_handoff_keeps_the_completed_session(ctx: Context) -> None:
    """After the rep committed, the session is complete; leaving the hand-off question
    must not turn it into a cancelled one."""
    run = session(ctx, "COACHING", COACHING_STEP,
                  ACTION, Choose("done"), SUCCESS, Choose("coaching"), Choose("yes"))
    assert run.state.step == "handoff"
    assert run.of(CompleteSession)[0].status == "completed"
    assert sled.build(ctx.playbook).on_cancel(run.state) == ()


@pytest.mark.parametrize(("owner", "stored"), [
    ("rep", "rep"), ("Sam", "rep"), ("sam@example.com", "rep"), ("sam (the rep)", "rep"),
    ("Sam Rep", "rep"),
    ("manager", "manager"), ("me", "manager"), ("Maya Manager", "manager"),
    ("MAYA@EXAMPLE.COM", "manager")])
def test_an_action_owner_is_named_by_role_name_or_email(ctx: Context, owner: str,
                                                        stored: str) -> None:
    run = session(ctx, "TRAINING", Submit({"skill": "Discovery", "good_looks_like": "5 questions"}),
                  Submit({"description": "Read the guide", "owner": owner,
                          "due": "next friday"}))
    assert run.state.step == "more_actions"
    assert run.state.data["actions"][-1] == {"description": "Read the guide", "owner": stored,
                                             "due": "2026-03-13", "shared": stored == "rep"}
    assert "Due date: Friday 13 March 2026." in texts(run.messages)


def test_back_shows_the_form_again_filled_with_the_earlier_answers(ctx: Context) -> None:
    flow = sled.build(ctx.playbook)
    start, inputs = through_l(ctx)
    run = play(flow, start, ctx, *inputs[:4])
    assert run.state.step == "focus"
    views = back(flow, run.state, ctx)
    assert views.state.step == "views"
    shown = {f.id: f.value for f in views.messages[-1].form.fields}  # type: ignore[union-attr]
    assert shown == dict(run.state.data["views"])
    fresh = sled.start(ctx.playbook, ctx, data()).messages[-1]
    assert all(not f.value for f in fresh.form.fields)  # type: ignore[union-attr]


@pytest.mark.parametrize("leaf_id", sorted(LEAVES))
def test_the_chart_result_names_the_leaf_by_its_label(ctx: Context, leaf_id: str) -> None:
    run = session(ctx, leaf_id)
    (said,) = [m for m in run.messages if m.leaf]
    leaf = ctx.playbook.chart.leaves[leaf_id]
    assert said.leaf == leaf_id
    assert said.text == f"Solution chart: {leaf.label}. {leaf.next}"
    assert leaf_id not in texts(run.messages) and f"({leaf.category})" not in said.text


def test_the_session_a_sled_starts_from_is_typed_and_stored_as_plain_data(ctx: Context) -> None:
    from flows.sled_session import SledSession

    session = SledSession.of({**data(), "planned_focus": "discovery"})
    assert (session.session_id, session.rep_id, session.rep_ref) == (SID, 2, "@sam")
    assert SledSession.of(session.as_data()) == session
    started = sled.start(ctx.playbook, ctx, session.as_data())
    kept = SledSession.of(started.state.data)
    assert kept.brief == {"roam": session.brief["roam"]}  # the card is shown, not kept
    assert kept.planned_focus == "discovery"
    with pytest.raises(KeyError):
        SledSession.of({"rep_name": "Sam"})
