"""The playbook's retention: the due work clears check-in free text and notes past their
days (the figures stay), records it in the audit log, and reads only what expired, by index.
On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.history import NOW
from bot.cli.demo_org import DOMAIN
from bot.rhythm.due import Rhythm, run_due
from flows.playbook import RetentionSettings
from storage import audit, retention
from storage.models import (
    ActionItem,
    Checkin,
    CheckinBlocker,
    Conversation,
    PrivateNote,
    TransitionLog,
)
from tests.storage import test_explain
from tests.storage.test_explain import captured, full_scans, org_with_history
from tests.support import START, Console, blocked_checkin, full_session, make_app

ALICE = f"alice@{DOMAIN}"


def playbook_file(tmp_path: Path, checkin_days: int, notes_days: int) -> str:
    path = tmp_path / "playbook.yaml"
    path.write_text(f"retention:\n  checkin_text_days: {checkin_days}\n"
                    f"  notes_days: {notes_days}\n")
    return str(path)


def test_free_text_goes_when_its_days_are_over(db_url: str, tmp_path: Path) -> None:
    app = make_app(db_url, coach_playbook=playbook_file(tmp_path, 7, 30))
    assert app.playbook.retention == RetentionSettings(7, 30)
    console = Console(app)
    full_session(console)
    console.choose("later")
    blocked_checkin(console, ALICE, "waiting on a demo account")
    with app.sessions.begin() as db:
        session_id = db.scalar(select(func.min(ActionItem.session_id)))
        db.add(PrivateNote(session_id=session_id, author_id=2, kind="note",
                           text="caring for a parent", created_at=START))
        checkin_id = db.scalar(select(func.min(Checkin.id)))
        db.add(CheckinBlocker(checkin_id=checkin_id, tag="tools",
                              quote="waiting on a demo account"))
    rhythm = Rhythm(app.sessions, app.playbook, app.runner)

    def state() -> tuple[object, ...]:
        """Alice's check-in, the notes, and the ended conversations' flows."""
        with app.sessions() as db:
            checkin = db.scalars(select(Checkin).order_by(Checkin.id).limit(1)).one()
            return (checkin.status, checkin.got_coaching, checkin.confidence,
                    checkin.blockers, checkin.action_updates,
                    db.scalar(select(func.count()).select_from(PrivateNote)),
                    sorted(n for n in db.scalars(select(ActionItem.note)) if n),
                    sorted(db.scalars(select(Conversation.flow).where(
                        Conversation.status == "ended"))))

    assert state()[3:] == ("waiting on a demo account", {"1": {"status": "blocked",
                           "note": "No practice partner yet"}}, 1, ["No practice partner yet"],
                           ["checkin", "sled"])
    run_due(rhythm, START + timedelta(days=6))
    assert state()[3] == "waiting on a demo account"  # not yet
    report = run_due(rhythm, START + timedelta(days=8))
    assert report.expired == {"checkin": 1, "checkin_blocker": 1, "conversation": 1}
    assert state() == ("answered", True, 4, None, None, 1, ["No practice partner yet"],
                       ["sled"])
    with app.sessions() as db:  # the tag stays for the digest, the rep's words go
        assert [(b.tag, b.quote) for b in db.scalars(select(CheckinBlocker))] == [("tools", "")]
    report = run_due(rhythm, START + timedelta(days=31))
    assert report.expired == {"private_note": 1, "action_item": 1, "conversation": 1}
    assert state() == ("answered", True, 4, None, None, 0, [], [])
    assert run_due(rhythm, START + timedelta(days=32)).expired == {}
    with app.sessions() as db:
        logs = db.scalar(select(func.count()).select_from(TransitionLog))
        entries = audit.recent(db, 10)
    assert logs > 20  # the transition logs stay (no longer pointing at a conversation)
    assert [(e.actor, e.action, e.detail) for e in entries] == [
        ("scheduler", "retention.apply",
         {"action_item": 1, "conversation": 1, "private_note": 1}),
        ("scheduler", "retention.apply", {"checkin": 1, "checkin_blocker": 1, "conversation": 1})]
    app.close()


def test_nothing_goes_by_default(db_url: str) -> None:
    app = make_app(db_url)
    assert app.playbook.retention == RetentionSettings(None, None)
    with app.engine.begin() as conn:
        assert retention.apply(conn, app.playbook.retention, START + timedelta(days=9999)) \
            == {}
    app.close()


def test_retention_reads_no_growing_table_whole(db_url: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(test_explain, "GROWING", test_explain.GROWING | {"private_note"})
    app, _org = org_with_history(db_url)
    with captured(app.engine) as seen, app.engine.begin() as conn:
        retention.apply(conn, RetentionSettings(30, 90), NOW)
    assert len(seen) >= 6
    problems = [p for statement, params in seen
                for p in full_scans(app.engine, statement, params)]
    app.close()
    assert problems == []
