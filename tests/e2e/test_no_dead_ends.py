"""Forgiving input and no dead ends, through ``coach chat --jsonl`` (issue 8 §4)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from bot.cli.demo_org import DOMAIN
from storage.models import ActionItem, CoachingSession, Conversation
from tests.support import Console, last_step, make_app, texts

ALICE, BOB = f"alice@{DOMAIN}", f"bob@{DOMAIN}"
SET_STAGE = {"purpose": "Improve win rate", "objectives": "Agree one behaviour",
             "agenda": "ROAM, chart, plan", "value_to_rep": "Higher commission"}
RAW_ID = re.compile(r"\b[A-Z]{2,}_[A-Z_]+\b")  # COACHING_DISCUSSION, NO_ACTION, ...


def to_actions(console: Console) -> None:
    """A session with Alice up to the first action item (leaf COACHING)."""
    console.say("/coach alice")
    console.submit(**SET_STAGE)
    console.choose("yes")
    console.choose("metric:win rate %")
    console.submit(gap_statement="Win rate 14% vs 25%", rep_view="late-stage losses",
                   manager_view="thin discovery")
    console.choose("opportunity_qualification")
    console.choose("yes")
    for answer in ("yes", "yes", "yes", "yes", "yes", "yes", "no", "no", "no", "yes", "yes"):
        console.choose(answer)
    console.submit(behaviour="Open questions first", goal="Ask 5 discovery questions")


def form_of(replies: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    form = next(r["form"] for r in reversed(replies) if r.get("form"))
    return {f["id"]: f for f in form["fields"]}


def test_dates_numbers_choices_and_owners_as_people_type_them(db_url: str) -> None:
    app = make_app(db_url)  # Tuesday 1 December 2026, 10:00 in Maya's New York
    console = Console(app)
    to_actions(console)
    replies = console.submit(description="Role-play discovery", owner="Alice",
                             due="next friday")
    assert "Due date: Friday 4 December 2026." in texts(replies)
    assert last_step(replies) == "more_actions"
    console.say("add")  # a unique prefix of "Add another action"
    console.submit(description="Share recordings", owner=f"maya@{DOMAIN}", due="Dec 15")
    console.say("that's the plan")
    replies = console.submit(metric="win rate %", baseline="14%", target="62k",
                             review_date="in 2 weeks")
    assert "Next review date: Tuesday 15 December 2026." in texts(replies)
    assert last_step(replies) == "next_model"
    console.say("sales")  # "Sales coaching (suggested)"
    done = texts(console.say("yes"))
    assert "from 14 to 62,000" in done and "14.0" not in done
    with app.sessions() as db:
        actions = db.scalars(select(ActionItem).order_by(ActionItem.id)).all()
        assert [(a.due_date.isoformat(), a.owner_id == a.rep_id) for a in actions] == [
            ("2026-12-04", True), ("2026-12-15", False)]
        session = db.scalars(select(CoachingSession)).one()
        assert (session.baseline, session.target, session.next_model) == (14, 62000,
                                                                          "coaching")
        assert session.review_date.isoformat() == "2026-12-15"
    app.close()


def test_tomorrow_is_the_person_s_tomorrow(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    to_actions(console)
    console.send({"clock": "2026-12-01T23:30:00-05:00"})  # already Wednesday in UTC
    replies = console.submit(description="Call", owner="rep", due="tomorrow")
    assert "Due date: Wednesday 2 December 2026." in texts(replies)
    app.close()


def test_a_unicode_digit_is_a_retry_not_a_crash(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    console.say("/coach alice")
    console.submit(**SET_STAGE)
    for typed in ("²", "①", "9" * 5000):
        replies = console.say(typed)
        assert "something went wrong" not in texts(replies)
        assert last_step(replies) == "rep_aligned"
    app.close()


def test_cancel_asks_first_after_a_few_answers(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    console.say("/coach alice")
    console.submit(**SET_STAGE)
    assert "Cancelled" in texts(console.say("/cancel"))  # one answer: no question asked
    console.say("/coach alice")
    console.submit(**SET_STAGE)
    console.choose("yes")
    console.choose("metric:win rate %")
    console.submit(gap_statement="g", rep_view="r", manager_view="m")
    asked = console.say("/cancel")
    assert "You have answered 4 questions" in texts(asked)
    assert [c["id"] for c in asked[-2]["choices"]] == ["/cancel yes", "/cancel no"]
    going_on = console.choose("/cancel no")
    assert last_step(going_on) == "focus"
    assert "Cancelled" in texts(console.choose("/cancel yes"))
    with app.sessions() as db:
        statuses = db.scalars(select(CoachingSession.status).order_by(CoachingSession.id))
        assert list(statuses) == ["cancelled", "cancelled"]
    app.close()


def test_back_shows_the_form_filled_in(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    console.say("/coach alice")
    console.submit(**SET_STAGE)
    replies = console.say("/back")
    assert last_step(replies) == "set_stage"
    fields = form_of(replies)
    assert {k: f.get("value") for k, f in fields.items()} == SET_STAGE
    assert set(fields["purpose"]) == {"id", "label", "kind", "required", "options", "value"}
    again = console.submit(**{k: f["value"] for k, f in fields.items()})  # kept as it is
    assert last_step(again) == "rep_aligned"
    app.close()


def test_a_form_sent_back_to_be_fixed_keeps_what_was_typed(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    to_actions(console)
    replies = console.submit(description="Role-play", owner="rep", due="someday")
    fields = form_of(replies)
    assert fields["description"]["value"] == "Role-play" and fields["owner"]["value"] == "rep"
    assert "Due date must be a date" in texts(replies)
    app.close()


def test_coaching_another_rep_pauses_the_first_and_answers_go_to_the_one_in_view(
        db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    console.say("/coach alice")
    console.submit(**SET_STAGE)  # Alice: at rep_aligned
    console.send({"clock": "2026-11-30T09:00:00-05:00"})  # the clock goes back a day
    replies = console.say("/coach bob")
    assert ("Paused your session with Alice Adams (Coaching session (SLED)). Nothing is "
            f"lost: /coach {ALICE} or /resume picks it up.") in texts(replies)
    assert "Coaching Bob Brown" in texts(replies)
    replies = console.submit(**SET_STAGE)  # must go to Bob, the session in view
    assert last_step(replies) == "rep_aligned" and "Bob Brown" in texts(replies)
    with app.sessions() as db:
        rows = {c.subject: c for c in db.scalars(select(Conversation))}
        active = [c for c in rows.values() if c.status == "active"]
        assert len(active) == 1 and active[0].state["data"]["rep_name"] == "Bob Brown"
        assert active[0].state["data"]["set_stage"]["purpose"] == "Improve win rate"
    app.close()


def test_resume_lists_several_paused_conversations_to_pick_from(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    console.say("/coach alice")
    console.say("/coach bob")
    also = console.say("/resume")  # Bob's in progress: shown again, Alice named as paused
    assert "Also paused: 1) Coaching session (SLED) with Alice Adams" in texts(also)
    assert "We're at S — Set the stage with Bob Brown" in texts(also)
    console.say("/pause")
    listed = console.say("/resume")
    assert "Paused conversations:\n1) Coaching session (SLED) with Bob Brown\n" \
           "2) Coaching session (SLED) with Alice Adams" in texts(listed)
    assert [c["id"] for c in listed[-2]["choices"]] == ["/resume 1", "/resume 2"]
    picked = console.choose("/resume 2")
    assert "We're at S — Set the stage with Alice Adams" in texts(picked)
    assert "Alice" in texts(console.say("/resume alice"))
    app.close()


def test_help_shows_what_the_role_can_do_and_names_an_unknown_command(db_url: str) -> None:
    app = make_app(db_url)
    manager = texts(Console(app).say("/help"))
    assert "/coach <rep>" in manager and "/checkin" not in manager
    assert "team add" not in manager  # a Slack-only command
    rep = Console(app, ALICE).say("/frobnicate")
    assert rep[0]["text"] == "Unknown command /frobnicate. Here is what you can do:"
    assert "/checkin" in texts(rep) and "/coach" not in texts(rep)
    app.close()


def test_the_pause_note_names_the_command_that_resumes_a_model(db_url: str) -> None:
    from tests.support import full_session

    app = make_app(db_url)
    console = Console(app)
    full_session(console)
    console.choose("later")
    started = console.say("/model alice")
    assert started[-2]["flow"] == "coaching"
    console.submit(**{f: "x" for f in form_of(started)})
    step = last_step(console.say("/resume"))
    note = texts(console.say("/pause"))
    assert f"/model {ALICE} or /resume picks it up" in note
    resumed = console.say("/model alice")
    assert "Welcome back" in texts(resumed) and last_step(resumed) == step
    app.close()


def test_no_raw_ids_in_what_people_read(db_url: str) -> None:
    from tests.support import full_session

    app = make_app(db_url)
    console = Console(app)
    said: list[dict[str, Any]] = []
    console.send = _recording(console.send, said)  # type: ignore[method-assign]
    full_session(console)
    console.choose("later")
    console.say("/coach alice")
    assert any(r.get("leaf") == "COACHING" for r in said)
    assert "Solution chart: Sales coaching." in texts(said)
    assert not RAW_ID.findall(texts(said))
    app.close()


def _recording(send: Any, into: list[dict[str, Any]]) -> Any:
    def recorded(obj: Any) -> list[dict[str, Any]]:
        replies: list[dict[str, Any]] = send(obj)
        into.extend(replies)
        return replies

    return recorded
