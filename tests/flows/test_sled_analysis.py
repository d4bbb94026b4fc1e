"""SLED uses the data it has: the gap picked once, suggested chart answers, the stretch path
and the context card's plans and blockers."""

from __future__ import annotations

from datetime import date
from typing import Any

from flows import roam, sled
from flows.chart_steps import suggestions
from flows.effects import CompleteSession, RecordStage
from flows.engine import Context, back
from flows.messages import Choose, Say, Submit
from tests.flows.driver import Run, play
from tests.flows.test_sled import ACTION, SET_STAGE, SID, SUCCESS, to_leaf

MAR = (date(2026, 3, 1), date(2026, 3, 31))
TODAY = date(2026, 3, 10)


def row(metric: str, kind: str, target: float, actual: float) -> roam.MetricRow:
    return roam.MetricRow(metric, kind, MAR[0], MAR[1], target, actual)


MINE = [row("bookings", "result", 200, 150), row("calls", "activity", 100, 60)]
VIEWS = Submit({"rep_view": "Fewer calls", "manager_view": "Calls are short"})


def data(mine: list[roam.MetricRow] = MINE, team: list[roam.MetricRow] | None = None,
         **brief: Any) -> dict[str, Any]:
    snap = roam.snapshot(mine, TODAY, team or [])
    return {"session_id": SID, "rep_id": 2, "rep_name": "Sam", "rep_ref": "@sam",
            "brief": {"roam": snap, "open_actions": [], "checkins": [], **brief}}


def run(ctx: Context, start: dict[str, Any], *inputs: Any) -> Run:
    return play(sled.build(ctx.playbook), sled.start(ctx.playbook, ctx, start), ctx,
                SET_STAGE, Choose("yes"), *inputs)


def test_the_roam_card_is_printed_once(ctx: Context) -> None:
    out = run(ctx, data())
    printed = [m for m in out.messages if "ROAM for" in m.text]
    assert [m.step for m in printed] == ["context"]
    gap = out.last
    assert gap.step == "gap"
    assert gap.choices[0].label == "bookings: 150 of 200, gap -50 (-25%)"


def test_a_gap_picked_from_the_data_is_not_typed_again(ctx: Context) -> None:
    out = run(ctx, data(), Choose("metric:bookings"))
    views = out.last
    assert "The gap: bookings: 150 of 200, gap -50 (-25%)" in views.text
    assert views.form is not None
    given = views.form.fields[0]
    assert (given.id, given.required) == ("gap_statement", False)
    assert "bookings: 150 of 200" in given.hint
    out = play(sled.build(ctx.playbook), out.state, ctx, VIEWS, Choose("prospecting"),
               Choose("yes"))
    (record,) = [e for e in out.effects if isinstance(e, RecordStage)]
    assert record.values["gap_statement"] == "bookings: 150 of 200, gap -50 (-25%)"
    assert record.values["gap_numbers"]["gap"] == -50
    assert record.values["gap_numbers"]["target"] == 200


def test_the_manager_may_still_restate_the_gap(ctx: Context) -> None:
    out = run(ctx, data(), Choose("metric:bookings"),
              Submit({"gap_statement": "150 of 200 bookings, 3 deals slipped",
                      "rep_view": "r", "manager_view": "m"}))
    assert out.state.data["views"]["gap_statement"] == "150 of 200 bookings, 3 deals slipped"


def test_q01_is_suggested_from_the_gap_and_changeable(ctx: Context) -> None:
    out = run(ctx, data(), Choose("metric:bookings"), VIEWS, Choose("prospecting"),
              Choose("yes"))
    q01 = out.last
    assert q01.step == "Q01_gap_specific"
    assert "Suggested: Yes — the gap is in numbers: bookings: 150 of 200" in q01.text
    assert [(c.id, c.label) for c in q01.choices] == [("yes", "Yes (suggested)"),
                                                      ("no", "No")]
    flow = sled.build(ctx.playbook)
    confirmed = play(flow, out.state, ctx, Say("1"))  # one answer confirms it
    assert confirmed.state.step == "Q02_worth_pursuing"
    assert confirmed.state.data["chart"] == {"Q01_gap_specific": True}
    changed = play(flow, out.state, ctx, Choose("no"))
    assert changed.state.data["leaf"] == "DEFINE_GAP"


def test_q03_is_suggested_yes_when_a_teammate_met_the_standard(ctx: Context) -> None:
    team = [row("bookings", "result", 200, 210), row("bookings", "result", 180, 100)]
    out = run(ctx, data(team=team), Choose("metric:bookings"), VIEWS, Choose("prospecting"),
              Choose("yes"), Choose("yes"), Choose("yes"))
    q03 = out.last
    assert q03.step == "Q03_standard_achievable"
    assert ("Suggested: Yes — 1 of 2 teammates reached their bookings target in the same "
            "period") in q03.text
    assert q03.choices[0].id == "yes"


def test_q03_is_suggested_no_when_nobody_met_it_and_the_answer_stored_is_the_one_given(
        ctx: Context) -> None:
    team = [row("bookings", "result", 200, 120), row("bookings", "result", 200, 180)]
    out = run(ctx, data(team=team), Choose("metric:bookings"), VIEWS, Choose("prospecting"),
              Choose("yes"), Choose("yes"), Choose("yes"))
    q03 = out.last
    assert ("Suggested: No — none of 2 teammates reached their bookings target in the same "
            "period (team avg 150)") in q03.text
    assert [(c.id, c.label) for c in q03.choices] == [("no", "No (suggested)"), ("yes", "Yes")]
    flow = sled.build(ctx.playbook)
    confirmed = play(flow, out.state, ctx, Say("1"))
    assert confirmed.state.data["leaf"] == "SYSTEMIC_REDESIGN"
    assert confirmed.state.data["chart"]["Q03_standard_achievable"] is False
    overruled = play(flow, out.state, ctx, Choose("yes"))
    assert overruled.state.step == "Q04_knows_gap"
    assert overruled.state.data["chart"]["Q03_standard_achievable"] is True


def test_no_team_numbers_no_q03_suggestion(ctx: Context) -> None:
    out = run(ctx, data(), Choose("metric:bookings"))
    assert set(suggestions(out.state)) == {"Q01_gap_specific"}


def test_another_gap_has_no_suggestions_even_after_going_back(ctx: Context) -> None:
    out = run(ctx, data(), Choose("metric:bookings"))
    flow = sled.build(ctx.playbook)
    again = back(flow, out.state, ctx)
    assert again.state.step == "gap"
    out = play(flow, again.state, ctx, Choose("other"),
               Submit({"gap_statement": "Late to demos", "rep_view": "r", "manager_view": "m"}),
               Choose("prospecting"), Choose("yes"))
    assert suggestions(out.state) == {}
    assert out.last.step == "Q01_gap_specific"
    assert "Suggested" not in out.last.text
    assert [c.label for c in out.last.choices] == ["Yes", "No"]
    assert out.state.data["views"]["gap_statement"] == "Late to demos"


def test_a_rep_on_target_gets_a_stretch_goal_not_the_corrective_chart(ctx: Context) -> None:
    on_target = [row("bookings", "result", 200, 230), row("calls", "activity", 100, 110)]
    out = run(ctx, data(on_target))
    assert [c.id for c in out.last.choices] == ["stretch", "other"]
    goal = "Open two enterprise accounts this quarter"
    out = play(sled.build(ctx.playbook), out.state, ctx, Choose("stretch"),
               Submit({"goal": goal, "rep_view": "Wants bigger deals"}),
               Choose("account_management"))
    assert out.last.step == "action"
    chart_steps = set(ctx.playbook.chart.questions)
    assert not any(m.step in chart_steps for m in out.messages)
    (record,) = [e for e in out.effects if isinstance(e, RecordStage)]
    assert record.stage == "L"
    assert record.values["stretch_goal"] == goal
    assert record.values["focus_area"] == "account_management"
    done = play(sled.build(ctx.playbook), out.state, ctx, ACTION, Choose("done"), SUCCESS,
                Choose("coaching"), Choose("yes"))
    (complete,) = [e for e in done.effects if isinstance(e, CompleteSession)]
    assert complete.agreed_solution == goal
    assert complete.leaf is None and complete.next_model == "coaching"


def test_the_card_shows_the_planned_review_a_model_not_run_and_blockers(ctx: Context) -> None:
    brief = {
        "review_due": "2026-03-17",
        "pending_model": {"model": "coaching", "date": "2026-03-03"},
        "open_actions": [{"description": "Send proposals", "owner": "rep",
                          "due": "2026-03-12", "status": "blocked",
                          "note": "Waiting on pricing"},
                         {"description": "Book ride-along", "owner": "manager",
                          "due": "2026-03-13", "status": "open", "note": None}],
        "checkins": [{"week": "2026-03-02", "summary": "coached: no, confidence 3/5",
                      "blockers": "CRM down since Tuesday"},
                     {"week": "2026-02-23", "summary": "coached: yes, confidence 4/5",
                      "blockers": None}],
    }
    card = sled.start(ctx.playbook, ctx, data(**brief)).messages[0].text
    assert "Next review planned: 2026-03-17." in card
    assert ("Planned, not yet run: sales coaching (Engage, Practice, Do, Review) "
            "(agreed 2026-03-03); run it with /model @sam.") in card
    assert "Send proposals — rep, due 2026-03-12 (blocked: Waiting on pricing)" in card
    assert "Book ride-along — manager, due 2026-03-13 (open)" in card
    assert "Blockers from check-ins:\n  • 2026-03-02: CRM down since Tuesday" in card
    assert card.count("2026-02-23") == 1  # only in the check-in list: it had no blockers


def test_the_card_without_plans_or_blockers_says_nothing_of_them(ctx: Context) -> None:
    card = sled.start(ctx.playbook, ctx, data()).messages[0].text
    assert "Next review" not in card and "not yet run" not in card
    assert "Blockers" not in card


def test_the_success_metric_comes_from_the_gap_so_only_the_review_date_is_typed(
        ctx: Context) -> None:
    flow = sled.build(ctx.playbook)
    out = run(ctx, data(), Choose("metric:bookings"), VIEWS, Choose("prospecting"),
              Choose("yes"), *to_leaf(ctx.playbook.chart, "COACHING"),
              Submit({"behaviour": "Open questions", "goal": "5 per call"}), ACTION,
              Choose("done"))
    success = out.last
    assert success.step == "success" and success.form is not None
    shown = {f.id: f.value for f in success.form.fields}
    assert shown == {"metric": "bookings", "baseline": "150", "target": "200",
                     "review_date": ""}
    out = play(flow, out.state, ctx, Say("2026-04-07"), Choose("coaching"), Choose("yes"))
    (complete,) = [e for e in out.effects if isinstance(e, CompleteSession)]
    assert (complete.metric, complete.baseline, complete.target, complete.review_date) == (
        "bookings", 150.0, 200.0, date(2026, 4, 7))


def test_a_prefilled_success_field_can_still_be_changed(ctx: Context) -> None:
    flow = sled.build(ctx.playbook)
    out = run(ctx, data(), Choose("metric:bookings"), VIEWS, Choose("prospecting"),
              Choose("yes"), *to_leaf(ctx.playbook.chart, "COACHING"),
              Submit({"behaviour": "Open questions", "goal": "5 per call"}), ACTION,
              Choose("done"))
    out = play(flow, out.state, ctx, Submit({"target": "180", "review_date": "2026-04-07"}),
               Choose("coaching"), Choose("yes"))
    (complete,) = [e for e in out.effects if isinstance(e, CompleteSession)]
    assert (complete.baseline, complete.target) == (150.0, 180.0)
