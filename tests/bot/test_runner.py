"""The turn runner: one transaction per turn, stale versions, crashes mid-turn."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from flows.effects import CompleteSession
from storage import coaching
from storage.models import ActionItem, CoachingSession, Conversation, Review
from tests.support import Console, full_session, last_step, make_app, texts


def test_a_crash_while_storing_the_outcome_leaves_the_old_turn(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(db_url)
    console = Console(app)
    real_apply = coaching.apply

    def exploding_apply(db, effect, **kw):  # type: ignore[no-untyped-def]
        real_apply(db, effect, **kw)
        if isinstance(effect, CompleteSession):
            raise RuntimeError("disk on fire")

    monkeypatch.setattr(coaching, "apply", exploding_apply)
    replies = full_session(console)
    assert "nothing from that answer was saved" in texts(replies)
    assert "disk on fire" not in texts(replies)
    with app.sessions() as db:
        conv = db.scalars(select(Conversation)).one()
        assert conv.state["step"] == "committed"
        assert db.scalars(select(ActionItem)).all() == []
        assert db.scalars(select(Review)).all() == []
        assert db.scalars(select(CoachingSession)).one().status == "open"
    monkeypatch.setattr(coaching, "apply", real_apply)
    replies = console.choose("yes")
    assert last_step(replies) == "handoff"
    with app.sessions() as db:
        assert len(db.scalars(select(ActionItem)).all()) == 2
    app.close()


def test_a_stale_version_is_retried_not_merged(db_url: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Another turn bumps the version between our read and our write: we redo the turn."""
    from storage import conversations

    app = make_app(db_url)
    console = Console(app)
    console.say("/coach alice")
    real_save = conversations.save
    calls = {"n": 0}

    def racing_save(db, row, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:  # as if a competing turn wrote between our read and our write
            db.execute(update(Conversation).where(Conversation.id == row.id)
                       .values(version=Conversation.version + 1)
                       .execution_options(synchronize_session=False))
        return real_save(db, row, **kw)

    monkeypatch.setattr(conversations, "save", racing_save)
    replies = console.submit(purpose="p", objectives="o", value_to_rep="v")
    assert last_step(replies) == "rep_aligned"
    assert calls["n"] == 2
    app.close()


def test_a_button_for_an_earlier_question_does_not_advance_twice(db_url: str) -> None:
    from bot.cli.demo_org import MANAGER
    from bot.console.chat import who
    from flows.messages import Choose

    app = make_app(db_url)
    console = Console(app)
    console.say("/coach alice")
    console.submit(purpose="p", objectives="o", value_to_rep="v")
    first = app.runner.handle(who(MANAGER), Choose("yes"), expect_step="rep_aligned")
    second = app.runner.handle(who(MANAGER), Choose("yes"), expect_step="rep_aligned")
    assert first[-1].step == "gap"
    assert "earlier question" in second[0].text and second[-1].step == "gap"
    with app.sessions() as db:
        assert db.scalars(select(Conversation)).one().state["step"] == "gap"
    app.close()


def test_orm_objects_and_core_statements_share_the_turns_transaction(db_url: str) -> None:
    """storage.unit: what the ORM session holds is flushed before the next Core statement,
    and it commits or rolls back with the turn's connection."""
    from datetime import UTC, datetime

    from sqlalchemy import func

    from storage.models import Person
    from storage.unit import UnitOfWork

    app = make_app(db_url)
    now = datetime.now(UTC)

    def count(conn):  # type: ignore[no-untyped-def]
        return conn.execute(select(func.count(Person.id)).where(
            Person.email.like("unit-%"))).scalar_one()

    with app.engine.connect() as conn:
        with conn.begin() as tx:
            unit = UnitOfWork(conn)
            unit.db.add(Person(org_id=1, email="unit-a@example.com", name="A", role="rep",
                               timezone="UTC", created_at=now, updated_at=now))
            assert count(unit.conn) == 1  # flushed before the Core query ran
            unit.finish()
            tx.rollback()
        assert count(conn) == 0  # rolled back with the turn
        conn.rollback()
        with conn.begin():
            unit = UnitOfWork(conn)
            unit.db.add(Person(org_id=1, email="unit-b@example.com", name="B", role="rep",
                               timezone="UTC", created_at=now, updated_at=now))
            unit.finish()
    with app.engine.connect() as conn:
        assert count(conn) == 1  # committed with the turn
    app.close()


def test_the_next_context_card_shows_the_session_even_if_the_handoff_was_cancelled(
        db_url: str) -> None:
    app = make_app(db_url)
    console = Console(app)
    full_session(console)  # ends at the hand-off question
    console.say("/cancel yes")
    with app.sessions() as db:
        assert db.scalars(select(CoachingSession)).one().status == "completed"
    card = texts(console.say("/coach alice"))
    assert "Last session: 2026-12-01" in card
    assert "Open action items: 2" in card
    app.close()
