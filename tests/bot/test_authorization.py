"""METHOD §9 on every turn: a conversation about a rep goes on only while the right to
coach that rep holds (issue: /resume completed a session after the rep changed manager)."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.cli.demo_org import DOMAIN
from storage import people
from storage.models import (
    ActionItem,
    CoachingSession,
    Conversation,
    Outbox,
    Person,
    PrivateNote,
    SessionStage,
    TransitionLog,
)
from tests.support import Console, last_step, make_app, texts

ALICE = f"alice@{DOMAIN}"


def _move(db: Session, email: str, manager_email: str) -> None:
    manager = db.scalars(select(Person).where(Person.email == manager_email)).one()
    db.execute(update(Person).where(Person.email == email).values(manager_id=manager.id))


def _to_private_note(console: Console) -> None:
    """A SLED session with Alice up to the REFER_PERSONAL private-note form."""
    console.say("/coach alice")
    console.submit(purpose="p", objectives="o", value_to_rep="v")
    console.choose("yes")
    console.choose("other")
    console.submit(gap_statement="Win rate 14% vs 25%", rep_view="r", manager_view="m")
    console.choose("prospecting")
    console.choose("yes")
    for answer in ("yes", "yes", "yes", "yes", "yes", "yes", "no"):
        console.choose(answer)
    replies = console.choose("yes")  # Q08_personal_problem → REFER_PERSONAL
    assert last_step(replies) == "private_note", texts(replies)


def test_resume_after_the_rep_moved_closes_the_session_and_sends_nothing(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    _to_private_note(console)
    console.say("/pause")
    with app.sessions.begin() as db:
        _move(db, ALICE, f"omar@{DOMAIN}")

    replies = console.say("/resume")

    assert "no longer in your reporting line" in texts(replies)
    assert all(r.get("step") != "private_note" for r in replies)
    # Answering the old form now reaches nothing: no conversation is active.
    replies = console.submit(note="Family illness, referred to EAP")
    assert "Nothing is in progress" in texts(replies)
    with app.sessions() as db:
        assert db.scalar(select(func.count()).select_from(PrivateNote)) == 0
        assert db.scalar(select(func.count()).select_from(ActionItem)) == 0
        assert db.scalar(select(func.count()).select_from(Outbox)) == 0
        session = db.scalars(select(CoachingSession)).one()
        assert session.status == "cancelled"
        kept = db.scalars(select(SessionStage.stage).where(
            SessionStage.session_id == session.id)).all()
        assert sorted(kept) == ["L", "S"]  # what was recorded before is kept
        conversation = db.scalars(select(Conversation)).one()
        assert conversation.status == "ended"
        events = db.scalars(select(TransitionLog.event)).all()
        assert "revoked" in events
    app.close()


def test_an_answer_after_the_rep_moved_is_refused_mid_flow(db_url: str) -> None:
    """No /resume needed: the very next answer of an active session is checked too."""
    app = make_app(db_url)
    console = Console(app)
    console.say("/coach alice")
    with app.sessions.begin() as db:
        _move(db, ALICE, f"omar@{DOMAIN}")

    replies = console.submit(purpose="p", objectives="o", value_to_rep="v")

    assert "no longer in your reporting line" in texts(replies)
    with app.sessions() as db:
        stages = db.scalars(select(CoachingSession)).one()
        assert stages.status == "cancelled"
        assert db.scalars(select(Conversation)).one().status == "ended"
    app.close()


def test_going_back_after_the_rep_moved_is_refused(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    console.say("/coach alice")
    console.submit(purpose="p", objectives="o", value_to_rep="v")
    with app.sessions.begin() as db:
        _move(db, ALICE, f"omar@{DOMAIN}")
    replies = console.say("/back")
    assert "no longer in your reporting line" in texts(replies)
    app.close()


def test_a_leader_keeps_a_session_when_the_rep_moves_inside_the_tree(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app, actor=f"lee@{DOMAIN}")
    console.say("/coach alice")
    with app.sessions.begin() as db:
        _move(db, ALICE, f"omar@{DOMAIN}")  # still below Lee
    replies = console.submit(purpose="p", objectives="o", value_to_rep="v")
    assert last_step(replies) == "rep_aligned"
    app.close()


def test_a_demoted_manager_loses_the_session(db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    console.say("/coach alice")
    with app.sessions.begin() as db:
        db.execute(update(Person).where(Person.email == f"maya@{DOMAIN}").values(role="rep"))
    replies = console.submit(purpose="p", objectives="o", value_to_rep="v")
    assert "no longer in your reporting line" in texts(replies)
    app.close()


def test_may_coach_follows_the_reporting_line(engine) -> None:  # type: ignore[no-untyped-def]
    app = make_app(engine.url.render_as_string(hide_password=False))
    with app.sessions.begin() as db:
        ids = {p.email.split("@")[0]: p.id for p in db.scalars(select(Person))}
    with app.engine.connect() as conn:
        assert people.may_coach(conn, ids["maya"], "manager", ids["alice"])
        assert not people.may_coach(conn, ids["omar"], "manager", ids["alice"])
        assert people.may_coach(conn, ids["lee"], "leader", ids["alice"])
        assert people.may_coach(conn, ids["lee"], "leader", ids["dev"])
        assert not people.may_coach(conn, ids["maya"], "leader", ids["dev"])
        assert not people.may_coach(conn, ids["alice"], "rep", ids["bob"])
    with app.sessions.begin() as db:
        db.execute(update(Person).where(Person.id == ids["alice"]).values(active=False))
    with app.engine.connect() as conn:
        assert not people.may_coach(conn, ids["maya"], "manager", ids["alice"])
        assert not people.may_coach(conn, ids["lee"], "leader", ids["alice"])
    app.close()
