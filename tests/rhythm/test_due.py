"""run_due on SQLite and PostgreSQL: idempotent, one catch-up per item after downtime,
guards checked at send time, snooze and away really reschedule and skip."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, select

from bot.bootstrap import App
from bot.channels.local import deliver
from bot.channels.who import Who
from bot.cli.demo_org import DOMAIN
from bot.clock import ManualClock
from bot.rhythm.due import Rhythm, run_due
from flows.messages import Choose, Say
from storage.models import (
    ActionItem,
    CadenceOccurrence,
    Checkin,
    CoachingSession,
    Outbox,
    Person,
    Review,
)
from tests.fuzz import count, fuzz
from tests.support import make_app

START = datetime.fromisoformat("2027-03-01T12:00:00+00:00")
SUNDAY = datetime.fromisoformat("2027-02-28T12:00:00+00:00")  # nothing falls due then
MONDAY_EARLY = datetime.fromisoformat("2027-03-08T11:00:00+00:00")  # 06:00 New York
ALICE, MAYA = f"alice@{DOMAIN}", f"maya@{DOMAIN}"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def rhythm(app: App) -> Rhythm:
    return Rhythm(app.sessions, app.playbook, app.runner)


def started(db_url: str, start: datetime = SUNDAY) -> App:
    """The app, its rhythm running since ``start`` (the first run of the due work: what
    falls due from then on is sent; nothing before is caught up)."""
    app = make_app(db_url, start=start)
    run_due(rhythm(app), start)
    return app


def tick(app: App, when: str) -> Any:
    assert isinstance(app.clock, ManualClock)
    app.clock.set(at(when))
    return run_due(rhythm(app), app.clock.now())


def rows(app: App) -> list[Outbox]:
    with app.sessions() as db:
        return list(db.scalars(select(Outbox).order_by(Outbox.id)))


def scheduled(app: App, kind: str | None = None) -> list[Outbox]:
    return [r for r in rows(app) if "scheduled" in r.payload
            and (kind is None or r.payload["scheduled"]["kind"] == kind)]


def send_console(app: App) -> list[tuple[str, str, dict[str, str] | None]]:
    sent: list[tuple[str, str, dict[str, str] | None]] = []
    deliver(app.sessions, app.clock, "console",
            lambda tenant, to, message, info: sent.append((to, message.text, info)))
    return sent


def person_id(app: App, email: str) -> int:
    with app.sessions() as db:
        found = db.scalar(select(Person.id).where(Person.email == email))
        assert found is not None
        return found


def say(app: App, email: str, text: str) -> list[str]:
    return [m.text for m in app.runner.handle(Who("console", "local", email), Say(text))]


def test_running_twice_queues_nothing_twice(db_url: str) -> None:
    app = started(db_url)
    first = tick(app, "2027-03-05T20:00:00+00:00")
    # 15:00 in New York (Alice) and London (Dev, Erin)
    assert first.queued > 0 and first.checkins_started == 3
    count = len(rows(app))
    again = run_due(rhythm(app), app.clock.now())
    assert again.queued == 0 and again.checkins_started == 0
    assert len(rows(app)) == count
    keys = [r.idempotency_key for r in rows(app)]
    assert len(keys) == len(set(keys))
    app.close()


def test_after_ten_days_down_one_catch_up_per_item(db_url: str) -> None:
    app = started(db_url)
    tick(app, "2027-03-01T12:00:00+00:00")
    before = {r.idempotency_key for r in rows(app)}
    report = tick(app, "2027-03-13T00:30:00+00:00")  # after every rep's Friday 15:00
    new = [r for r in scheduled(app) if r.idempotency_key not in before]
    kinds = Counter(r.payload["scheduled"]["kind"] for r in new)
    # one "did it happen?" per cadence (the latest occurrence), not one per missed meeting
    with app.sessions() as db:
        cadence_of = {o.id: o.cadence_id for o in db.scalars(select(CadenceOccurrence))}
    checked = [cadence_of[int(r.idempotency_key.rsplit("occ-", 1)[1])]
               for r in new if r.payload["scheduled"]["kind"] == "meeting_check"]
    assert checked and len(checked) == len(set(checked))
    # one digest per manager and leader: the latest week's
    digests = [r.idempotency_key for r in new if r.payload["scheduled"]["kind"] == "digest"]
    assert sorted(k.rsplit(":", 1)[1] for k in digests) == ["2027-W09"] * 3
    # this week's check-in once per rep; nothing about last week's
    assert report.checkins_started == 5
    assert kinds["checkin_missed"] == 0 and kinds["checkin_reminder"] == 0
    app.close()


def test_an_answered_checkin_drops_its_queued_reminder(db_url: str) -> None:
    app = started(db_url)
    tick(app, "2027-03-05T20:00:00+00:00")  # Alice is asked at 15:00 New York
    send_console(app)
    tick(app, "2027-03-06T16:30:00+00:00")  # 20 hours later: the reminder is queued
    (reminder,) = scheduled(app, "checkin_reminder")
    assert reminder.status == "pending" and reminder.target == ALICE
    assert reminder.payload["scheduled"]["at"] == "2027-03-06T11:00:00-05:00"
    alice = Who("console", "local", ALICE)
    app.runner.handle(alice, Choose("answer"))
    app.runner.handle(alice, app_submit({"calls": "5", "meetings": "1", "proposals": "0"}))
    app.runner.handle(alice, Choose("no"))
    app.runner.handle(alice, app_submit({"blockers": "none"}))
    app.runner.handle(alice, Choose("4"))
    assert all(to != ALICE or "reminder" not in text for to, text, _ in send_console(app))
    (reminder,) = scheduled(app, "checkin_reminder")
    assert reminder.status == "dropped"
    tick(app, "2027-03-07T16:30:00+00:00")  # answered: never recorded as missed
    assert not scheduled(app, "checkin_missed") or all(
        r.target != ALICE for r in scheduled(app, "checkin_missed"))
    app.close()


def app_submit(values: dict[str, str]) -> Any:
    from flows.messages import Submit

    return Submit(values)


def test_unanswered_checkin_gets_one_reminder_then_is_missed(db_url: str) -> None:
    app = started(db_url)
    tick(app, "2027-03-05T20:00:00+00:00")
    tick(app, "2027-03-06T16:30:00+00:00")
    tick(app, "2027-03-06T18:30:00+00:00")
    tick(app, "2027-03-07T13:00:00+00:00")  # 40 hours after the question
    alice = [r for r in scheduled(app) if r.target == ALICE]
    assert [r.payload["scheduled"]["kind"] for r in alice] == [
        "checkin", "checkin_reminder", "checkin_missed"]
    with app.sessions() as db:
        row = db.scalar(select(Checkin).where(Checkin.person_id == person_id(app, ALICE)))
        assert row is not None and row.status == "missed"
    app.close()


def test_a_snooze_asks_again_at_its_time(db_url: str) -> None:
    app = started(db_url)
    tick(app, "2027-03-05T20:00:00+00:00")
    app.clock.set(at("2027-03-05T20:05:00+00:00"))  # type: ignore[attr-defined]
    replies = app.runner.handle(Who("console", "local", ALICE), Choose("snooze"))
    assert replies[-1].text == "Snoozed. I'll ask again in 2 hours."
    tick(app, "2027-03-05T22:00:00+00:00")  # Bob's 15:00 in Chicago; Alice not yet
    assert not [r for r in scheduled(app, "checkin") if ":again-" in r.idempotency_key]
    report = tick(app, "2027-03-05T22:10:00+00:00")
    assert report.checkins_started == 1
    again = [r for r in scheduled(app, "checkin") if ":again-" in r.idempotency_key]
    assert again and again[0].idempotency_key.startswith(
        f"checkin:{person_id(app, ALICE)}:2027-03-01:again-20270305T2205")
    with app.sessions() as db:
        row = db.scalar(select(Checkin).where(Checkin.person_id == person_id(app, ALICE)))
        assert row is not None and row.status == "open" and row.ask_again_at is None
    app.close()


def test_away_skips_the_checkin_and_the_nudges(db_url: str) -> None:
    app = started(db_url)
    app.clock.set(at("2027-03-04T15:00:00+00:00"))  # type: ignore[attr-defined]
    assert "Out of office through Wednesday 10 March 2027" in say(app, ALICE,
                                                                   "/away 2027-03-10")[0]
    report = tick(app, "2027-03-06T00:00:00+00:00")
    assert report.skipped_away == 1
    assert not [r for r in scheduled(app) if r.target == ALICE]
    with app.sessions() as db:
        row = db.scalar(select(Checkin).where(Checkin.person_id == person_id(app, ALICE)))
        assert row is not None and row.status == "out_of_office"
    assert "Welcome back" in say(app, ALICE, "/away off")[0]
    app.close()


def test_a_moved_meeting_drops_its_prep_nudge_and_is_planned_anew(db_url: str) -> None:
    app = started(db_url, MONDAY_EARLY)
    tick(app, "2027-03-08T12:30:00+00:00")  # 07:30 New York: the team meeting is at 09:00
    (nudge,) = [r for r in scheduled(app, "prep_nudge") if r.target == MAYA]
    assert nudge.payload["scheduled"]["at"] == "2027-03-08T08:00:00-05:00"  # quiet hours
    occurrence = int(nudge.idempotency_key.rsplit("occ-", 1)[1])
    reply = say(app, MAYA, f"/meetings {occurrence} move thursday 15:00")
    assert reply == ["Moved: Team meeting is now Thu 11 Mar 15:00."]
    tick(app, "2027-03-08T13:00:00+00:00")
    sent = send_console(app)  # Maya's digest goes at 08:00; the nudge does not
    assert [info.kind for to, _, info in sent if to == MAYA and info] == ["digest"]
    assert [r.status for r in scheduled(app, "prep_nudge") if r.target == MAYA] == ["dropped"]
    with app.sessions() as db:
        moved = db.get(CadenceOccurrence, occurrence)
        assert moved is not None and moved.status == "moved"
        new = db.scalar(select(CadenceOccurrence).where(
            CadenceOccurrence.cadence_id == moved.cadence_id,
            CadenceOccurrence.scheduled_for == at("2027-03-11T20:00:00+00:00")))
        assert new is not None and new.status == "planned"
    app.close()


def test_did_it_happen_records_adherence(db_url: str) -> None:
    app = started(db_url, MONDAY_EARLY)
    tick(app, "2027-03-08T12:30:00+00:00")
    tick(app, "2027-03-08T15:30:00+00:00")  # 10:30 New York: an hour after the meeting
    (check,) = [r for r in scheduled(app, "meeting_check") if r.target == MAYA]
    choices = [c["id"] for c in check.payload["message"]["choices"]]
    assert [c.rsplit(" ", 1)[1] for c in choices] == ["held", "moved", "skipped"]
    replies = app.runner.handle(Who("console", "local", MAYA), Choose(choices[0]))
    assert replies[0].text.startswith("Noted: Team meeting on Mon 8 Mar 09:00 was held")
    occurrence = int(choices[0].split()[1])
    with app.sessions() as db:
        row = db.get(CadenceOccurrence, occurrence)
        assert row is not None and row.status == "held" and row.held_at is not None
    assert "already marked held" in say(app, MAYA, f"/meetings {occurrence} skip")[0]
    assert say(app, f"bob@{DOMAIN}", f"/meetings {occurrence} skip") == [
        "That is not one of your meetings. Say /meetings to see yours."]
    app.close()


def plan(app: App, review_due: date, action_due: date) -> tuple[int, int]:
    now = START
    with app.sessions.begin() as db:
        alice, maya = person_id(app, ALICE), person_id(app, MAYA)
        session = CoachingSession(manager_id=maya, rep_id=alice, status="completed",
                                  started_at=now, ended_at=now, metric="win rate %",
                                  baseline=14, target=20, review_date=review_due)
        db.add(session)
        db.flush()
        review = Review(session_id=session.id, due_date=review_due, status="planned")
        action = ActionItem(session_id=session.id, rep_id=alice, owner_id=alice,
                            description="Role-play discovery", due_date=action_due,
                            status="open", created_at=now, updated_at=now, shared=True)
        db.add_all([review, action])
        db.flush()
        return review.id, action.id


def test_review_day_prompts_the_manager_and_one_click_starts_it(db_url: str) -> None:
    app = started(db_url)
    review_id, _ = plan(app, date(2027, 3, 9), date(2027, 3, 20))
    tick(app, "2027-03-09T13:30:00+00:00")  # 08:30 New York: not yet
    assert not scheduled(app, "review_due")
    tick(app, "2027-03-09T14:30:00+00:00")
    (prompt,) = scheduled(app, "review_due")
    assert prompt.idempotency_key == f"review_due:{person_id(app, MAYA)}:review-{review_id}"
    assert prompt.payload["scheduled"]["at"] == "2027-03-09T09:00:00-05:00"
    (choice,) = prompt.payload["message"]["choices"]
    assert choice["id"] == f"/review {ALICE}"
    replies = app.runner.handle(Who("console", "local", MAYA), Choose(choice["id"]))
    assert replies[-1].flow == "review"
    app.close()


def test_action_reminders_on_the_due_day_and_once_overdue(db_url: str) -> None:
    app = started(db_url)
    _, action_id = plan(app, date(2027, 4, 30), date(2027, 3, 9))
    for day in ("09", "10", "11", "12"):
        tick(app, f"2027-03-{day}T14:30:00+00:00")
    mine = [r for r in scheduled(app) if r.target == ALICE
            and r.payload["scheduled"]["kind"].startswith("action")]
    assert [r.idempotency_key for r in mine] == [
        f"action_due:{person_id(app, ALICE)}:action-{action_id}:2027-03-09",
        f"action_overdue:{person_id(app, ALICE)}:action-{action_id}:2027-03-10"]
    app.close()


@pytest.mark.slow
@fuzz(0.03)
@given(text=st.text(max_size=120))
def test_meetings_and_away_take_any_text(db_url: str, text: str) -> None:
    count("/meetings and /away text")
    app = _fuzz_app(db_url)
    for who, command in ((MAYA, "/meetings"), (MAYA, "/meetings 1 move"), (ALICE, "/away")):
        result = app.runner.run_turn(Who("console", "local", who), Say(f"{command} {text}"))
        assert result.status == "ok" and result.messages


_APPS: dict[str, App] = {}


def _fuzz_app(db_url: str) -> App:
    """One app per database for the property test's cases (made once, reused)."""
    if db_url not in _APPS:
        app = started(db_url)
        tick(app, "2027-03-01T12:00:00+00:00")
        _APPS[db_url] = app
    return _APPS[db_url]


def test_the_app_home_lists_the_next_meetings(db_url: str) -> None:
    from bot.services import home

    app = started(db_url)
    tick(app, "2027-03-01T12:00:00+00:00")
    with app.sessions() as db:
        maya = db.scalar(select(Person).where(Person.email == MAYA))
        assert maya is not None
        data = home.load(db, maya, app.clock.now(), app.playbook)
    assert [(m.meeting_type, m.subject) for m in data.meetings[:2]] == [
        ("team_meeting", None), ("pipeline_review", "Alice Adams")]
    assert data.meetings[0].at == at("2027-03-01T14:00:00+00:00")  # 09:00 New York
    app.close()


def test_the_readable_chat_shows_what_came_due_at_start(db_url: str) -> None:
    import io

    from bot.console.chat import Terminal

    app = started(db_url, at("2027-03-05T19:00:00+00:00"))  # then closed at 14:00 New York
    app.clock.set(at("2027-03-05T20:30:00+00:00"))  # type: ignore[attr-defined]
    out = io.StringIO()
    answers = iter(["/quit"])
    Terminal(app, ALICE, read=lambda prompt: next(answers), out=out).run()
    shown = out.getvalue()
    assert "[checkin · 2027-03-05T15:00:00-05:00]" in shown
    assert "Hi Alice, time for your weekly check-in." in shown
    app.close()


def test_the_readable_chat_at_start_counts_what_went_to_others(db_url: str) -> None:
    """A first start opens with the speaker's own messages only; the reps' check-ins that
    came due meanwhile are counted in one line, not shown one by one."""
    import io

    from bot.console.chat import ConsoleText, Terminal

    app = started(db_url, at("2027-03-05T19:00:00+00:00"))
    app.clock.set(at("2027-03-05T20:30:00+00:00"))  # type: ignore[attr-defined]
    out = io.StringIO()
    answers = iter(["/quit"])
    Terminal(app, MAYA, read=lambda prompt: next(answers), out=out).run()
    shown = out.getvalue()
    assert "Hi Alice, time for your weekly check-in." not in shown
    assert "[sent to" not in shown
    others = ConsoleText.others_at_start.split("{count}")[1]
    assert others in shown
    app.close()


def test_no_one_on_one_nudges_weekly_until_a_meeting_is_held(db_url: str) -> None:
    app = started(db_url, at("2027-02-01T12:00:00+00:00"))  # the reps arrive
    tick(app, "2027-03-01T12:00:00+00:00")
    tick(app, "2027-03-01T14:30:00+00:00")  # Monday 09:30 New York
    nudges = [r.idempotency_key for r in scheduled(app, "no_one_on_one") if r.target == MAYA]
    maya = person_id(app, MAYA)
    alice = person_id(app, ALICE)
    assert f"no_one_on_one:{maya}:rep-{alice}:2027-W09" in nudges and len(nudges) == 3
    tick(app, "2027-03-03T14:30:00+00:00")  # the same week: nothing new
    assert len([r for r in scheduled(app, "no_one_on_one") if r.target == MAYA]) == 3
    with app.sessions.begin() as db:  # Maya's pipeline review with Alice is held
        from bot.rhythm.meetings import rhythm as stored

        occ = next(o for o in stored.owned_planned(db, maya, at("2027-03-02T00:00:00+00:00"),
                                                   at("2027-03-03T00:00:00+00:00"))
                   if o.subject_id == alice)
        stored.set_occurrence(db, occ.id, "held", at("2027-03-02T16:00:00+00:00"))
    tick(app, "2027-03-08T14:30:00+00:00")  # next week: Bob and Carmen only
    week10 = [r.idempotency_key for r in scheduled(app, "no_one_on_one")
              if r.target == MAYA and r.idempotency_key.endswith("2027-W10")]
    assert len(week10) == 2 and not any(f"rep-{alice}:" in k for k in week10)
    app.close()


def test_a_manager_away_gets_no_prep_nudge(db_url: str) -> None:
    app = started(db_url)
    app.clock.set(at("2027-03-05T15:00:00+00:00"))  # type: ignore[attr-defined]
    say(app, MAYA, "/away 2027-03-08")
    tick(app, "2027-03-08T12:30:00+00:00")  # 07:30 New York, Monday: her team meeting at 9
    assert not [r for r in scheduled(app, "prep_nudge") if r.target == MAYA]
    tick(app, "2027-03-15T12:30:00+00:00")  # back: the next Monday's nudge comes
    assert [r for r in scheduled(app, "prep_nudge") if r.target == MAYA]
    app.close()


def test_the_outbox_worker_drops_a_row_whose_guard_failed(db_url: str) -> None:
    """The network senders lease rows through the same check (storage.outbox.due)."""
    from bot.rhythm import guards
    from storage import deliveries, outbox

    app = started(db_url)
    _, action_id = plan(app, date(2027, 4, 30), date(2027, 3, 9))
    now = at("2027-03-09T15:00:00+00:00")
    with app.sessions.begin() as db:
        for key, guard in (("kept", guards.action_still_open(action_id)),
                           ("gone", guards.meeting_still_planned(10**6))):
            outbox.enqueue(db.connection(), key=key, kind="slack", target=ALICE, now=now,
                           payload={"tenant": "T1", "message": {"text": key}, "guard": guard})
    with app.sessions.begin() as db:
        leased = deliveries.lease_due(db, channel="slack", now=now, lease_seconds=60)
    assert [lease.row.idempotency_key for lease in leased] == ["kept"]
    assert {r.idempotency_key: r.status for r in rows(app)} == {"kept": "pending",
                                                                "gone": "dropped"}
    app.close()


def test_a_lease_checks_every_kind_of_guard_at_once_and_a_garbled_one_holds(db_url: str) -> None:
    """The guards of a leased batch are read with one query per kind (not per row); a
    guard this code cannot read (hand-edited, from an older version) holds: the message
    goes rather than being lost, and the lease does not fail on it."""
    from bot.rhythm import guards
    from storage import deliveries, outbox

    app = started(db_url)
    _, action_id = plan(app, date(2027, 4, 30), date(2027, 3, 9))
    now = at("2027-03-09T15:00:00+00:00")
    cases = {"open action": guards.action_still_open(action_id),
             "gone action": guards.action_still_open(10**6),
             "gone meeting": guards.meeting_still_planned(10**6),
             "gone review": guards.review_still_planned(10**6),
             "begun meeting": guards.meeting_still_planned(10**6, now - timedelta(hours=1)),
             "garbled id": {"occurrence": "not a number"},
             "garbled period": {"checkin_person": 1, "period": "soon"},
             "garbled until": {"until": "later", "action": action_id},
             "unknown kind": {"weather": "sunny"}}
    with app.sessions.begin() as db:
        for key, guard in cases.items():
            outbox.enqueue(db.connection(), key=key, kind="slack", target=ALICE, now=now,
                           payload={"tenant": "T1", "message": {"text": key}, "guard": guard})
    statements: list[str] = []

    def keep(*args: Any) -> None:
        statements.append(args[2])

    event.listen(app.engine, "before_cursor_execute", keep)
    with app.sessions.begin() as db:
        leased = deliveries.lease_due(db, channel="slack", now=now, lease_seconds=60)
    event.remove(app.engine, "before_cursor_execute", keep)
    assert {lease.row.idempotency_key for lease in leased} == {
        "open action", "garbled id", "garbled period", "garbled until", "unknown kind"}
    assert {r.idempotency_key for r in rows(app) if r.status == "dropped"} == {
        "gone action", "gone meeting", "gone review", "begun meeting"}
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # the due rows (on PostgreSQL read by the lease's UPDATE itself), then actions,
    # meetings, reviews: one query each
    assert len(reads) == (3 if db_url.startswith("postgresql") else 4), reads
    app.close()
