"""Through the console: the data is used instead of asked for again (issue 8, part 3)."""

from __future__ import annotations

from sqlalchemy import select

from bot.cli.demo_org import DOMAIN
from storage.models import CoachingSession, SessionStage
from tests.support import Console, full_session, last_step, make_app, texts

ALICE = f"alice@{DOMAIN}"


def _to_the_chart(console: Console) -> list[dict[str, object]]:
    replies = console.say("/coach alice")
    replies += console.submit(purpose="Improve win rate", objectives="One behaviour",
                              value_to_rep="Higher commission")
    replies += console.choose("yes")
    replies += console.choose("metric:win rate %")
    replies += console.submit(rep_view="Losing late-stage deals", manager_view="Thin discovery")
    replies += console.choose("opportunity_qualification")
    replies += console.choose("yes")
    return replies


def test_the_gap_is_picked_once_and_q01_q03_are_suggested_from_the_data(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    replies = _to_the_chart(console)
    assert texts(replies).count("ROAM for") == 1
    views = next(r for r in replies if r.get("step") == "views")
    gap_field = views["form"]["fields"][0]
    assert (gap_field["id"], gap_field["required"]) == ("gap_statement", False)
    q01 = replies[-2]
    assert q01["step"] == "Q01_gap_specific"
    assert "Suggested: Yes — the gap is in numbers: win rate %: 14 of 25" in q01["text"]
    assert q01["choices"][0] == {"id": "yes", "label": "Yes (suggested)"}
    console.say("1")
    replies = console.choose("yes")  # Q02
    q03 = replies[-2]
    assert q03["step"] == "Q03_standard_achievable"
    # Carmen (29 of 25) met it; Bob (24 of 25) did not.
    assert ("Suggested: Yes — 1 of 2 teammates reached their win rate % target in the "
            "same period") in q03["text"]
    console.say("1")
    with app.sessions() as db:
        stage = db.scalars(select(SessionStage).where(SessionStage.stage == "L")).one()
        assert stage.values["gap_statement"] == "win rate %: 14 of 25, gap -11 (-44%)"
        assert stage.values["gap_numbers"]["actual"] == 14
    app.close()


def test_a_rep_on_target_sets_a_stretch_goal_without_the_chart(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    console.say("/coach carmen")
    console.submit(purpose="Grow", objectives="A stretch goal", value_to_rep="Promotion")
    replies = console.choose("yes")
    # Results on target (calls 190 of 200 is activity): a stretch goal is offered.
    assert [c["id"] for c in replies[-2]["choices"]] == ["metric:calls", "stretch", "other"]
    assert last_step(console.choose("stretch")) == "stretch_goal"
    console.submit(goal="Land two enterprise logos this quarter")
    replies = console.choose("account_management")
    assert last_step(replies) == "action"
    console.submit(description="Map three enterprise accounts", owner="rep", due="2026-12-10")
    console.choose("done")
    console.submit(metric="enterprise logos", baseline="0", target="2",
                   review_date="2026-12-20")
    console.choose("coaching")
    replies = console.choose("yes")
    assert "Q0" not in "".join(str(r.get("step")) for r in replies)
    with app.sessions() as db:
        session = db.scalars(select(CoachingSession)).one()
        assert session.status == "completed" and session.rep_committed
        assert session.agreed_solution == "Land two enterprise logos this quarter"
        assert session.leaf is None and session.chart_answers is None
        assert session.focus_area == "account_management"
    app.close()


def test_check_ins_feed_roam_and_the_card_shows_plans_and_blockers(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    full_session(console)
    console.choose("later")
    console.send({"clock": "2026-12-11T20:00:00+00:00"})  # Friday, in December's period
    console.send({"as": ALICE})
    console.say("/checkin")
    console.choose("answer")
    console.choose("blocked")  # the rep's own action: role-play discovery
    console.submit(note="Maya's calendar is full")
    console.submit(calls="55", meetings="6", proposals="4")
    console.choose("no")
    console.submit(blockers="Pricing approvals take a week")
    console.choose("3")
    console.send({"as": f"maya@{DOMAIN}"})
    card = console.say("/coach alice")[0]["text"]
    assert "Next review planned: 2026-12-15." in card
    assert f"Planned, not yet run: sales coaching (Engage, Practice, Do, Review) " \
           f"(agreed 2026-12-01); run it with /model {ALICE}." in card
    assert "(blocked: Maya's calendar is full)" in card
    assert "Blockers from check-ins:\n  • 2026-12-07: Pricing approvals take a week" in card
    assert "  • Proposals sent: 4 (from 1 check-in, no target)" in card
    assert "calls: 210 of 200" in card  # imported: the check-in's 55 calls do not replace it
    assert "Calls made" not in card and "Customer meetings held" not in card
    app.close()


def test_the_review_offers_the_imported_metric_and_the_earlier_chart_answers(
        db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    full_session(console)
    console.choose("later")
    replies = console.say("/review alice")
    ask = replies[-2]
    assert ask["step"] == "metric_now"
    assert "The imported data says 14 for 2026-12-01 to 2026-12-31" in ask["text"]
    replies = console.say("")  # a blank confirms the imported 14
    assert last_step(replies) == "action_status"
    console.choose("done")
    replies = console.choose("done")  # 14 from 14 toward 20: no change, the chart again
    q01 = replies[-2]
    assert q01["step"] == "Q01_gap_specific"
    assert "Suggested: Yes — your answer on 2026-12-01" in q01["text"]
    app.close()
