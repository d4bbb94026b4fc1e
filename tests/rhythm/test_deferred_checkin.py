"""A check-in never interrupts a conversation in progress: while the rep's last turn in an
active conversation is recent, the check-in is deferred (its week recorded as waiting) and
asked at the first run after the conversation ended or went quiet; its reminder and missed
mark count from when it was asked. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.bootstrap import App
from bot.channels.who import Who
from bot.rhythm.checkins import IN_PROGRESS
from flows.messages import Choose, Input, Say, Submit
from storage.models import Checkin, Conversation
from tests.rhythm.test_due import ALICE, at, person_id, scheduled, started, tick

WEEK = date(2027, 3, 8)


def alice_says(app: App, when: str, given: Input) -> list[str]:
    app.clock.set(at(when))  # type: ignore[attr-defined]
    return [m.text for m in app.runner.handle(Who("console", "local", ALICE), given)]


def alices(app: App, kind: str) -> list[tuple[str, str]]:
    return [(r.idempotency_key, r.payload["scheduled"]["at"]) for r in scheduled(app, kind)
            if r.target == ALICE]


def week_row(app: App) -> Checkin:
    with app.sessions() as db:
        row = db.scalar(select(Checkin).where(Checkin.person_id == person_id(app, ALICE),
                                              Checkin.period_start == WEEK))
        assert row is not None
        return row


def test_a_checkin_waits_for_the_conversation_in_progress(db_url: str) -> None:
    app = started(db_url)
    # Friday 12 March, 14:50 New York: Alice opens her check-in herself and starts on it
    alice_says(app, "2027-03-12T19:50:00+00:00", Say("/checkin"))
    alice_says(app, "2027-03-12T19:55:00+00:00", Choose("answer"))
    report = tick(app, "2027-03-12T20:00:00+00:00")  # her 15:00: she is in the middle of it
    assert report.checkins_deferred == 1 and alices(app, "checkin") == []
    row = week_row(app)
    assert (row.status, row.asked_at) == ("open", None)  # waiting, counted
    assert tick(app, "2027-03-12T20:20:00+00:00").checkins_deferred == 1  # still recent
    with app.sessions() as db:  # nothing was paused or restarted
        (talk,) = db.scalars(select(Conversation).where(
            Conversation.person_id == person_id(app, ALICE)))
        assert talk.status == "active" and talk.version == 2
    # she went quiet at 14:55: half an hour later the check-in reaches her (her question)
    quiet = at("2027-03-12T19:55:00+00:00") + IN_PROGRESS
    report = tick(app, quiet.isoformat())
    assert report.checkins_started == 1 and report.checkins_deferred == 0
    texts = [r.payload["message"]["text"] for r in scheduled(app, "checkin")
             if r.target == ALICE]  # her open check-in, where she left it
    assert texts == ["Welcome back. We're at Your week with you.",
                     "How many of these did you do this week?"]
    assert [k for k, _ in alices(app, "checkin")] == [
        f"checkin:{person_id(app, ALICE)}:2027-03-12:{n}" for n in (0, 1)]
    assert week_row(app).asked_at == quiet
    # the reminder counts from when it was asked (15:25), not from 15:00
    tick(app, "2027-03-13T16:10:00+00:00")
    assert alices(app, "checkin_reminder") == []
    tick(app, "2027-03-13T16:30:00+00:00")
    assert alices(app, "checkin_reminder") == [
        (f"checkin_reminder:{person_id(app, ALICE)}:2027-03-08",
         "2027-03-13T11:25:00-05:00")]
    tick(app, "2027-03-14T12:20:00+00:00")  # 39 h 55 min after it was asked
    assert alices(app, "checkin_missed") == []
    tick(app, "2027-03-14T12:30:00+00:00")
    assert [a for _, a in alices(app, "checkin_missed")] == ["2027-03-14T08:25:00-04:00"]
    assert week_row(app).status == "missed"
    app.close()


def test_a_checkin_finished_while_deferred_is_never_asked(db_url: str) -> None:
    app = started(db_url)
    alice_says(app, "2027-03-12T19:50:00+00:00", Say("/checkin"))
    alice_says(app, "2027-03-12T19:58:00+00:00", Choose("answer"))
    assert tick(app, "2027-03-12T20:00:00+00:00").checkins_deferred == 1
    alice_says(app, "2027-03-12T20:02:00+00:00",
               Submit({"calls": "5", "meetings": "1", "proposals": "0"}))
    alice_says(app, "2027-03-12T20:03:00+00:00", Choose("no"))
    alice_says(app, "2027-03-12T20:04:00+00:00", Submit({"blockers": "none"}))
    assert alice_says(app, "2027-03-12T20:05:00+00:00", Choose("4"))[0].startswith("Thanks")
    report = tick(app, "2027-03-12T20:10:00+00:00")
    assert report.checkins_deferred == 0 and report.checkins_started == 0
    tick(app, "2027-03-13T20:00:00+00:00")
    tick(app, "2027-03-14T14:00:00+00:00")
    assert alices(app, "checkin") == alices(app, "checkin_reminder") == []
    assert alices(app, "checkin_missed") == [] and week_row(app).status == "answered"
    app.close()
