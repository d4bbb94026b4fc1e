"""What each prep nudge says, word for word: a 1:1 the rep's open actions, planned review
and latest numbers; a pipeline review what changed since the last one held (actions
opened and done, sessions, check-ins, each metric against the period before); a forecast
call the team's numbers. On SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import select

from bot.bootstrap import App
from bot.cli.demo_org import DOMAIN
from bot.rhythm.due import Rhythm, run_due
from storage.models import ActionItem, Checkin, CoachingSession, Metric, Person, Review
from tests.rhythm.test_due import MAYA, at, person_id, say, scheduled
from tests.support import make_app

MONDAY = at("2027-03-01T11:00:00+00:00")  # 06:00 New York: the demo's metrics are March's
LAST_REVIEW = at("2027-03-02T15:00:00+00:00")  # Tuesday 10:00 New York: a pipeline review
ALICE, BOB = f"alice@{DOMAIN}", f"bob@{DOMAIN}"
FEBRUARY = (date(2027, 2, 1), date(2027, 2, 28))


def run(app: App, when: str, rhythm: Rhythm | None = None) -> None:
    app.clock.set(at(when))  # type: ignore[attr-defined]
    run_due(rhythm or Rhythm(app.sessions, app.playbook, app.runner), app.clock.now())


def nudges(app: App, about: str) -> list[str]:
    return [r.payload["message"]["text"] for r in scheduled(app, "prep_nudge")
            if r.target == MAYA and about in r.payload["message"]["text"]]


def add_alices_weeks(app: App) -> None:
    """Since the last pipeline review (2 March): one action opened, one done, one overdue
    still open, a session finished, a check-in answered; and February's numbers. Older
    records that must not count."""
    alice, maya = person_id(app, ALICE), person_id(app, MAYA)
    with app.sessions.begin() as db:
        def action(text: str, due: date, created: str, updated: str, status: str) -> None:
            db.add(ActionItem(rep_id=alice, owner_id=alice, description=text, due_date=due,
                              status=status, created_at=at(created), updated_at=at(updated),
                              shared=True))

        action("Old, done long ago", date(2027, 2, 10), "2027-02-01T12:00:00+00:00",
               "2027-02-10T12:00:00+00:00", "done")
        action("Done this week", date(2027, 3, 4), "2027-02-20T12:00:00+00:00",
               "2027-03-04T12:00:00+00:00", "done")
        action("Overdue", date(2027, 3, 5), "2027-02-20T12:00:00+00:00",
               "2027-02-20T12:00:00+00:00", "open")
        action("New this week", date(2027, 3, 20), "2027-03-03T12:00:00+00:00",
               "2027-03-03T12:00:00+00:00", "in_progress")
        for ended in ("2027-02-20T12:00:00+00:00", "2027-03-04T16:00:00+00:00"):
            db.add(CoachingSession(manager_id=maya, rep_id=alice, status="completed",
                                   started_at=at(ended), ended_at=at(ended)))
        db.add_all([
            Checkin(person_id=alice, period_start=date(2027, 2, 22), status="answered",
                    answered_at=at("2027-02-26T21:00:00+00:00"),
                    activity={"calls": 99, "meetings": 9, "proposals": 9}),
            Checkin(person_id=alice, period_start=date(2027, 3, 1), status="answered",
                    answered_at=at("2027-03-05T21:00:00+00:00"),
                    activity={"calls": 40, "meetings": 6, "proposals": 2})])
        for metric, kind, target, actual in (("bookings", "result", 100000, 50000),
                                             ("win rate %", "result", 25, 14),
                                             ("calls", "activity", 200, 180)):
            db.add(Metric(person_id=alice, period_start=FEBRUARY[0], period_end=FEBRUARY[1],
                          metric=metric, kind=kind, target=target, actual=actual))


def hold_the_last_pipeline_review(app: App) -> None:
    run(app, "2027-03-02T16:30:00+00:00")  # its "did it happen?" came
    (check,) = [r for r in scheduled(app, "meeting_check")
                if r.target == MAYA and "Pipeline review with Alice" in
                r.payload["message"]["text"]]
    occurrence = check.idempotency_key.rsplit("occ-", 1)[1]
    assert "was held" in say(app, MAYA, f"/meetings {occurrence} held")[0]


def test_a_pipeline_review_shows_what_changed_since_the_last_one(db_url: str) -> None:
    app = make_app(db_url, start=MONDAY)
    run(app, MONDAY.isoformat())
    hold_the_last_pipeline_review(app)
    add_alices_weeks(app)
    run(app, "2027-03-09T13:00:00+00:00")  # Tuesday 08:00 New York: two hours before
    assert nudges(app, "Pipeline review with Alice") == ["\n".join([
        "Coming up at Tue 9 Mar 10:00: Pipeline review with Alice Adams.",
        "Since the last one (Tue 2 Mar):",
        "  • Actions: 1 opened, 1 done; 2 open (1 overdue).",
        "  • Coaching sessions finished: 1.",
        "  • Check-ins answered: 1 (calls made 40, customer meetings held 6, "
        "proposals sent 2).",
        "Numbers, latest period against the one before:",
        "  • bookings: 62,000 of 100,000 (62%), was 50,000 (+12,000)",
        "  • calls: 210 of 200 (105%), was 180 (+30)",
        "  • meetings: 21 of 20 (105%), no period before",
        "  • win rate %: 14 of 25 (56%), was 14 (no change)"])]
    # Bob's last one was not marked held: counted from its time by the cadence's rule
    assert nudges(app, "Pipeline review with Bob") == ["\n".join([
        "Coming up at Tue 9 Mar 10:00: Pipeline review with Bob Brown.",
        "Since Tue 2 Mar (no earlier Pipeline review was marked held):",
        "  • Actions: 0 opened, 0 done; 0 open (0 overdue).",
        "  • Coaching sessions finished: 0.",
        "  • Check-ins answered: 0.",
        "Numbers, latest period against the one before:",
        "  • bookings: 71,000 of 100,000 (71%), no period before",
        "  • calls: 120 of 200 (60%), no period before",
        "  • meetings: 9 of 20 (45%), no period before",
        "  • win rate %: 24 of 25 (96%), no period before"])]
    app.close()


def test_a_one_on_one_shows_the_reps_actions_review_and_numbers(db_url: str) -> None:
    app = make_app(db_url, start=MONDAY)
    run(app, MONDAY.isoformat())
    add_alices_weeks(app)
    with app.sessions.begin() as db:
        session = db.scalars(select(CoachingSession).order_by(CoachingSession.id)).first()
        assert session is not None
        db.add(Review(session_id=session.id, due_date=date(2027, 3, 16), status="planned"))
    run(app, "2027-03-09T17:00:00+00:00")  # 12:00 New York: the 1:1 is at 14:00
    assert nudges(app, "coaching session (1:1) with Alice") == ["\n".join([
        "Coming up at Tue 9 Mar 14:00: Field training or coaching session (1:1) with "
        "Alice Adams.",
        "Open actions:",
        "  • Overdue (due 2027-03-05)",
        "  • New this week (due 2027-03-20)",
        "Planned review: 2027-03-16.",
        "Latest numbers:",
        "  • bookings: 62,000 of 100,000 (62%)",
        "  • win rate %: 14 of 25 (56%)"])]
    app.close()


def test_a_forecast_call_shows_the_teams_numbers(db_url: str) -> None:
    app = make_app(db_url, start=MONDAY)
    run(app, MONDAY.isoformat())
    run(app, "2027-03-04T19:00:00+00:00")  # Thursday 14:00 New York: the call is at 16:00
    assert nudges(app, "Forecast call") == ["\n".join([
        "Coming up at Thu 4 Mar 16:00: Forecast call with your team.",
        "Latest numbers:",
        "  • Alice Adams, bookings: 62,000 of 100,000 (62%)",
        "  • Alice Adams, win rate %: 14 of 25 (56%)",
        "  • Bob Brown, bookings: 71,000 of 100,000 (71%)",
        "  • Bob Brown, win rate %: 24 of 25 (96%)",
        "  • Carmen Cruz, bookings: 108,000 of 100,000 (108%)",
        "  • Carmen Cruz, win rate %: 29 of 25 (116%)"])]
    app.close()


def test_a_team_meeting_may_show_what_changed_for_the_whole_team(db_url: str) -> None:
    """``prep: changes`` on a team meeting: the same figures over the manager's reps, each
    metric named with its rep."""
    app = make_app(db_url, start=MONDAY)
    meetings = tuple(replace(m, prep="changes") if m.id == "forecast_call" else m
                     for m in app.playbook.meetings)
    rhythm = Rhythm(app.sessions, replace(app.playbook, meetings=meetings), app.runner)
    run(app, MONDAY.isoformat(), rhythm)
    add_alices_weeks(app)
    with app.sessions.begin() as db:  # Carmen left the team: not counted any more
        carmen = db.scalar(select(Person).where(Person.email == f"carmen@{DOMAIN}"))
        assert carmen is not None
        carmen.active = False
    run(app, "2027-03-11T19:00:00+00:00", rhythm)  # Thursday 14:00 New York
    assert nudges(app, "Forecast call") == ["\n".join([
        "Coming up at Thu 11 Mar 16:00: Forecast call with your team.",
        "Since Thu 4 Mar (no earlier Forecast call was marked held):",  # 16:00 that day
        "  • Actions: 0 opened, 0 done; 2 open (1 overdue).",
        "  • Coaching sessions finished: 0.",
        "  • Check-ins answered: 1 (calls made 40, customer meetings held 6, "
        "proposals sent 2).",
        "Numbers, latest period against the one before:",
        "  • Alice Adams, bookings: 62,000 of 100,000 (62%), was 50,000 (+12,000)",
        "  • Alice Adams, calls: 210 of 200 (105%), was 180 (+30)",
        "  • Alice Adams, meetings: 21 of 20 (105%), no period before",
        "  • Alice Adams, win rate %: 14 of 25 (56%), was 14 (no change)",
        "  • Bob Brown, bookings: 71,000 of 100,000 (71%), no period before",
        "  • Bob Brown, calls: 120 of 200 (60%), no period before",
        "  • Bob Brown, meetings: 9 of 20 (45%), no period before",
        "  • Bob Brown, win rate %: 24 of 25 (96%), no period before"])]
    app.close()


def test_a_nudge_already_queued_is_not_built_again(db_url: str) -> None:
    """The prep window is two hours of ticks: the nudge's figures are read once."""
    from tests.storage.test_explain import captured

    app = make_app(db_url, start=MONDAY)
    run(app, MONDAY.isoformat())
    run(app, "2027-03-09T13:00:00+00:00")
    with captured(app.engine) as seen:
        run(app, "2027-03-09T13:05:00+00:00")
    assert not [s for s, _ in seen if "metric" in s and "FROM metric" in s]
    assert len(nudges(app, "Pipeline review with Alice")) == 1
    app.close()


def test_what_changed_is_read_by_index_not_from_the_whole_history(db_url: str) -> None:
    """Over an org with months of history, the prep nudges of a Tuesday's pipeline reviews
    (one of them held the week before) read every growing table by an index."""
    from datetime import timedelta

    from storage import rhythm as stored
    from storage.models import Cadence, CadenceOccurrence
    from tests.storage.test_explain import NOW, captured, full_scans, org_with_history

    app, _org = org_with_history(db_url)
    rhythm = Rhythm(app.sessions, app.playbook, app.runner)
    run_due(rhythm, NOW)  # the rhythm starts (with the people): meetings planned
    tuesday = NOW + timedelta(days=6, hours=19)  # 2026-12-08 10:00 UTC: pipeline reviews
    with app.sessions.begin() as db:  # one of last Tuesday's was held
        cadence = db.scalars(select(Cadence.id).where(
            Cadence.meeting_type == "pipeline_review").order_by(Cadence.id)).first()
        assert cadence is not None
        stored.add_occurrences(db.connection(), cadence, [tuesday - timedelta(days=7)])
        held = db.scalar(select(CadenceOccurrence.id).where(
            CadenceOccurrence.cadence_id == cadence,
            CadenceOccurrence.scheduled_for == tuesday - timedelta(days=7)))
        assert held is not None
        stored.set_occurrence(db, held, "held", tuesday - timedelta(days=7))
    with captured(app.engine) as seen:
        report = run_due(rhythm, tuesday - timedelta(hours=2))
    assert report.by_kind["prep_nudge"] > 0
    assert [s for s, _ in seen if "FROM metric" in s]  # the changes were read
    problems = [p for statement, params in seen
                for p in full_scans(app.engine, statement, params)]
    app.close()
    assert problems == []
