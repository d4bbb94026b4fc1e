"""After the session: the hand-off model, the review loop and the rep's check-in, stored."""

from __future__ import annotations

from sqlalchemy import select

from bot.cli.demo_org import DOMAIN
from storage.models import ActionItem, Checkin, ModelRun, Review, SessionStage
from tests.support import Console, full_session, last_step, make_app, texts

ALICE = f"alice@{DOMAIN}"


def test_coaching_model_runs_with_its_guards_and_is_stored(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    full_session(console)
    console.choose("later")
    assert last_step(console.say("/model alice")) == "engage"
    console.submit(rep_view="I rush discovery", goal="Ask 5 questions",
                   behaviour="Open questions first")
    console.choose("yes")
    console.submit(role_play="Two rounds", rep_critique="Better the second time")
    console.choose("granted")
    console.submit(manager_notes="Good pauses")
    console.choose("yes")
    console.submit(observed="Asked 6 questions on the Acme call")
    console.choose("yes")
    console.choose("now")
    replies = console.submit(self_assessment="I listened more")
    assert last_step(replies) == "permission"
    replies = console.choose("granted")
    assert last_step(replies) == "feedback"
    replies = console.submit(feedback="You are so lazy")
    assert last_step(replies) == "feedback" and "behaviour" in texts(replies)
    console.submit(feedback="You summarised the pain before pitching")
    console.submit(value="17")
    with app.sessions() as db:
        run = db.scalars(select(ModelRun)).one()
        assert (run.model, run.status) == ("coaching", "completed")
        stages = {s.stage for s in db.scalars(select(SessionStage)
                                              .where(SessionStage.model == "coaching"))}
        assert stages == {"E", "P", "D", "R"}
    assert "no field training or coaching planned" in texts(console.say("/model alice"))
    app.close()


def test_review_with_an_action_not_done_leads_to_the_accountability_talk(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    full_session(console)
    console.choose("later")
    assert last_step(console.say("/review alice")) == "metric_now"
    console.submit(value="15")
    console.choose("not_done")  # the rep's role-play
    replies = console.choose("not_done")  # the manager's recordings: theirs to reschedule
    assert last_step(replies) == "reschedule"
    replies = console.submit(due="2026-12-07")
    assert last_step(replies) == "accountability"
    assert "Role-play discovery with Maya" in texts(replies)
    assert "Share top-rep call recordings" not in replies[-2]["text"]
    replies = console.submit(problem="No practice partner", alternatives="Pair with Bob",
                             agreed_action="Two role-plays with Bob", due="2026-12-08",
                             follow_up="2026-12-10")
    assert "/review alice@" in texts(replies)
    with app.sessions() as db:
        reviews = db.scalars(select(Review).order_by(Review.id)).all()
        assert (reviews[0].status, reviews[0].outcome) == ("done", "not_done")
        assert reviews[0].leaf == "COACHING_DISCUSSION"
        assert reviews[1].due_date.isoformat() == "2026-12-10"
        assert reviews[1].status == "planned"
        items = db.scalars(select(ActionItem).order_by(ActionItem.id)).all()
        assert [(a.description, a.status, a.due_date.isoformat()) for a in items] == [
            ("Role-play discovery with Maya", "open", "2026-12-08"),
            ("Share top-rep call recordings", "open", "2026-12-07"),  # rescheduled
            ("Two role-plays with Bob", "open", "2026-12-08"),  # the commitment
        ]
        assert items[2].owner_id == items[0].owner_id  # the rep's
    app.close()


def test_rep_checkin_updates_actions_and_is_stored_once_a_week(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    full_session(console)
    console.choose("later")
    console.send({"as": ALICE})
    assert last_step(console.say("/checkin")) == "start"
    console.choose("answer")
    console.choose("blocked")
    console.submit(note="No practice partner yet")
    console.submit(calls="41", meetings="6", proposals="2")
    console.choose("yes")
    console.submit(blockers="none")
    console.choose("4")
    with app.sessions() as db:
        row = db.scalars(select(Checkin)).one()
        assert (row.status, row.got_coaching, row.confidence) == ("answered", True, 4)
        assert row.activity == {"calls": 41, "meetings": 6, "proposals": 2}
        items = db.scalars(select(ActionItem).order_by(ActionItem.id)).all()
        # the rep reports on their own actions only; the manager's stays open
        assert [a.status for a in items] == ["blocked", "open"]
        assert items[0].note == "No practice partner yet"
    assert "already answered" in texts(console.say("/checkin"))
    app.close()
