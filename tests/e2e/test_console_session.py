"""A whole SLED session through the console protocol, stored on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from bot.cli.demo_org import DOMAIN
from storage.models import (
    ActionItem,
    CoachingSession,
    Person,
    Review,
    SessionStage,
    TransitionLog,
)
from tests.support import Console, full_session, last_step, make_app, texts

ALICE = f"alice@{DOMAIN}"


def test_full_session_stores_the_action_plan(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    replies = full_session(console)
    assert replies[-1] == {"done": True}
    to_alice = [r for r in replies if r.get("to") == ALICE]
    assert to_alice and "Role-play discovery" in to_alice[0]["text"]
    assert last_step(replies) == "handoff"
    with app.sessions() as db:
        session = db.scalars(select(CoachingSession)).one()
        assert (session.status, session.leaf, session.category) == ("completed", "COACHING",
                                                                    "coaching")
        assert session.focus_area == "opportunity_qualification"
        assert session.rep_aligned and session.problem_agreed and session.rep_committed
        assert (session.metric, session.baseline, session.target) == ("win rate %", 14, 20)
        assert session.chart_answers["Q11_used_often"] is True
        assert session.roam_snapshot["verdict"] == "methodology"
        stages = {s.stage for s in db.scalars(select(SessionStage))}
        assert stages == {"S", "L", "E", "D"}
        actions = db.scalars(select(ActionItem).order_by(ActionItem.id)).all()
        owners = [db.get(Person, a.owner_id).email for a in actions]
        assert owners == [ALICE, f"maya@{DOMAIN}"]
        assert [a.due_date.isoformat() for a in actions] == ["2026-12-08", "2026-12-04"]
        review = db.scalars(select(Review)).one()
        assert review.due_date.isoformat() == "2026-12-15" and review.status == "planned"
        assert db.scalar(select(func.count(TransitionLog.id))) >= 25
    app.close()


def test_chart_messages_carry_question_ids_and_the_leaf(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    console.say("/coach bob")
    console.submit(purpose="p", objectives="o", value_to_rep="v")
    console.choose("yes")
    console.choose("other")
    console.submit(gap_statement="g", rep_view="r", manager_view="m")
    console.choose("prospecting")
    replies = console.choose("yes")
    question = replies[-2]
    assert question["step"] == "Q01_gap_specific"
    assert [c["id"] for c in question["choices"]] == ["yes", "no"]
    replies = console.choose("no")  # → DEFINE_GAP, back to the gap step
    leaf = next(r for r in replies if r.get("leaf"))
    assert leaf["leaf"] == "DEFINE_GAP"
    assert last_step(replies) == "gap"
    app.close()


def test_handoff_starts_the_coaching_model(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    full_session(console)
    replies = console.choose("now")
    assert replies[-2]["flow"] == "coaching"
    app.close()


def test_pause_and_resume_keep_every_answer(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    console.say("/coach alice")
    console.submit(purpose="Improve win rate", objectives="o", value_to_rep="v")
    assert "Paused" in texts(console.say("/pause"))
    assert "Nothing is in progress" in texts(console.choose("yes"))
    replies = console.say("/coach alice")
    assert "Welcome back" in texts(replies) and last_step(replies) == "rep_aligned"
    replies = console.say("/back")
    assert last_step(replies) == "set_stage"
    console.submit(purpose="Improve win rate again", objectives="o", value_to_rep="v")
    assert last_step(console.choose("yes")) == "gap"
    app.close()


def test_cancel_marks_the_session_cancelled(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    console.say("/coach alice")
    assert "Cancelled" in texts(console.say("/cancel"))
    with app.sessions() as db:
        assert db.scalars(select(CoachingSession)).one().status == "cancelled"
    app.close()


def test_manager_may_coach_only_their_reports_and_refusals_are_logged(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    replies = console.say("/coach dev")
    assert "only coach your own reports" in texts(replies)
    assert console.send({"as": f"alice@{DOMAIN}"}) == [{"done": True}]
    assert "for managers and leaders" in texts(console.say("/coach bob"))
    console.send({"as": f"lee@{DOMAIN}"})
    assert last_step(console.say("/coach dev")) == "set_stage"
    with app.sessions() as db:
        refused = db.scalars(select(TransitionLog).where(TransitionLog.event == "refused")).all()
        assert len(refused) == 2
    app.close()


def test_bad_input_gets_a_clear_message_and_nothing_is_stored(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    assert "not valid JSON" in console.send("{oops")[-1]["error"]
    assert "exactly one key" in console.send('{"say": "a", "choose": "b"}')[-1]["error"]
    assert "clock" in console.send('{"clock": "tomorrow"}')[-1]["error"]
    console.say("/coach alice")
    replies = console.submit(purpose="x" * 10_240, objectives="", value_to_rep="v")
    text = texts(replies)
    assert "10,240 characters" in text and "Objectives is required" in text
    assert last_step(replies) == "set_stage"
    replies = console.submit(purpose="Caf\u0065\u0301 \u200b\U0001f600", objectives="o",
                             value_to_rep="v\x07")
    assert last_step(replies) == "rep_aligned"
    replies = console.choose("maybe")
    assert "I didn't catch that" in texts(replies) and last_step(replies) == "rep_aligned"
    with app.sessions() as db:
        stage = db.scalars(select(SessionStage)).all()
        assert stage == []  # S is stored only once the stage completes
    console.choose("yes")
    with app.sessions() as db:
        s = db.scalars(select(SessionStage)).one()
        assert s.values["purpose"] == "Café \U0001f600"
        assert s.values["value_to_rep"] == "v"
    app.close()


def test_due_date_in_the_past_is_refused(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    replies = full_session_until_action(console)
    assert last_step(replies) == "leaf_step"
    replies = console.submit(obstacle="CRM access", remover="manager", by="2026-11-01")
    assert "By when Sunday 1 November 2026 is in the past" in texts(replies)
    assert last_step(replies) == "leaf_step"
    replies = console.submit(obstacle="CRM access", remover="manager", by="2026-12-03")
    assert last_step(replies) == "more_actions" and "1 so far" in texts(replies)
    replies = console.choose("add")
    assert "the owner is usually you" in replies[-2]["text"]  # REMOVE_OBSTACLE: manager-owned
    replies = console.submit(description="d", owner="rep", due="2026-11-01")
    assert "in the past" in texts(replies) and last_step(replies) == "action"
    replies = console.submit(description="d", owner="nobody", due="2026-12-10")
    assert "Owner must be one of" in texts(replies)
    app.close()


def full_session_until_action(console: Console) -> list[dict[str, object]]:
    console.say("/coach carmen")
    console.submit(purpose="p", objectives="o", value_to_rep="v")
    console.choose("yes")
    console.choose("other")  # Carmen is on target: a gap she has despite that
    console.submit(gap_statement="g", rep_view="r", manager_view="m")
    console.choose("prospecting")
    console.choose("yes")
    for answer in ["yes", "yes", "yes", "yes", "yes", "yes", "yes"]:
        console.choose(answer)
    replies = console.choose("yes")  # Q07a → REMOVE_OBSTACLE
    assert json.dumps(replies).count("REMOVE_OBSTACLE") >= 1
    return replies


def _to_chart(console: Console, rep: str) -> None:
    console.say(f"/coach {rep}")
    console.submit(purpose="p", objectives="o", value_to_rep="v")
    console.choose("yes")
    console.choose("other")
    console.submit(gap_statement="g", rep_view="r", manager_view="m")
    console.choose("prospecting")
    console.choose("yes")


def test_personal_leaf_keeps_the_note_private(db_url: str) -> None:
    from storage.models import PrivateNote

    app = make_app(db_url)
    console = Console(app)
    _to_chart(console, "bob")
    for answer in ["yes", "yes", "yes", "yes", "yes", "yes", "no"]:
        console.choose(answer)
    replies = console.choose("yes")  # Q08 personal problem → REFER_PERSONAL
    assert any(r.get("leaf") == "REFER_PERSONAL" for r in replies)
    console.submit(note="Caring for a parent; referred to the EAP")
    console.submit(description="Check in on workload", owner="manager", due="2026-12-09")
    console.choose("done")
    replies = console.submit(metric="calls", baseline="120", target="150",
                             review_date="2026-12-20")
    assert last_step(replies) == "committed"  # no model after a private leaf
    replies = console.choose("yes")
    assert [r for r in replies if r.get("to") == f"bob@{DOMAIN}"] == []
    with app.sessions() as db:
        note = db.scalars(select(PrivateNote)).one()
        assert note.kind == "personal" and "EAP" in note.text
        session = db.scalars(select(CoachingSession)).one()
        assert "Caring" not in (session.agreed_solution or "")
    app.close()


def test_systemic_leaf_raises_an_escalation_owned_by_the_leader(db_url: str) -> None:
    from storage.models import Escalation

    app = make_app(db_url)
    console = Console(app)
    _to_chart(console, "alice")
    console.choose("yes")
    console.choose("yes")
    replies = console.choose("no")  # Q03 → SYSTEMIC_REDESIGN
    assert any(r.get("leaf") == "SYSTEMIC_REDESIGN" for r in replies)
    replies = console.submit(owner="Sales ops", impact="Nobody hits 25% win rate",
                             evidence="Team avg 19% for 3 quarters")
    assert last_step(replies) == "action"
    told = [r for r in replies if r.get("to") == f"lee@{DOMAIN}"]
    assert len(told) == 1 and "Nobody hits 25% win rate" in told[0]["text"]
    assert "Sales ops" in told[0]["text"] and "Maya Manager" in told[0]["text"]
    with app.sessions() as db:
        escalation = db.scalars(select(Escalation)).one()
        owner = db.get(Person, escalation.owner_id)
        assert owner is not None and owner.email == f"lee@{DOMAIN}"  # above Maya
        assert escalation.leaf == "SYSTEMIC_REDESIGN"
        assert escalation.fix_owner == "Sales ops"
    app.close()
