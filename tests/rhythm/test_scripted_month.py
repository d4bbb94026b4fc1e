"""A scripted month through ``coach chat --jsonl`` on the demo org: clock lines (one an
hour through March 2027, over both DST changes: the US on 14 March, the EU on 28 March)
and the few answers people give. Every scheduled message arrives once, after the clock
line that made it due, at the right local time for its recipient."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.cli.demo_org import DOMAIN
from storage.models import ActionItem, Checkin, CoachingSession, Person, Review
from tests.support import Console, make_app

START = datetime(2027, 2, 28, 12, tzinfo=UTC)
END = datetime(2027, 4, 1, 0, tzinfo=UTC)
ZONES = {"lee": "America/New_York", "maya": "America/New_York", "omar": "Europe/London",
         "alice": "America/New_York", "bob": "America/Chicago", "carmen": "America/Los_Angeles",
         "dev": "Europe/London", "erin": "Europe/Dublin"}
REPS = ("alice", "bob", "carmen", "dev", "erin")
FRIDAYS = (date(2027, 3, 5), date(2027, 3, 12), date(2027, 3, 19), date(2027, 3, 26))
MONDAYS = (date(2027, 3, 1), date(2027, 3, 8), date(2027, 3, 15), date(2027, 3, 22),
           date(2027, 3, 29))


def email(name: str) -> str:
    return f"{name}@{DOMAIN}"


def local(name: str, day: date, hour: int) -> str:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(ZONES[name])).isoformat()


def answer_checkin(console: Console, rep: str) -> None:
    console.send({"as": email(rep)})
    console.choose("answer")
    console.choose("in_progress")  # her one action item
    console.submit(calls="40", meetings="6", proposals="2")
    console.choose("yes")
    console.submit(blockers="none")
    assert console.choose("4")[0]["text"] == "Thanks, Alice: your check-in is saved."


def setup_plan(app: Any) -> None:
    """A plan made before the month: Alice's review on 16 March, her action due 10 March."""
    with app.sessions.begin() as db:
        ids = {p.email: p.id for p in db.scalars(select(Person))}
        session = CoachingSession(manager_id=ids[email("maya")], rep_id=ids[email("alice")],
                                  status="completed", started_at=START, ended_at=START,
                                  metric="win rate %", baseline=14, target=20,
                                  review_date=date(2027, 3, 16))
        db.add(session)
        db.flush()
        db.add_all([
            Review(session_id=session.id, due_date=date(2027, 3, 16), status="planned"),
            ActionItem(session_id=session.id, rep_id=ids[email("alice")],
                       owner_id=ids[email("alice")], description="Role-play discovery",
                       due_date=date(2027, 3, 10), status="open", created_at=START,
                       updated_at=START, shared=True)])


@pytest.mark.slow
def test_a_scripted_month(db_url: str) -> None:
    app = make_app(db_url, start=START)
    setup_plan(app)
    console = Console(app)
    seen: list[dict[str, Any]] = []
    clock = START
    while clock < END:
        replies = console.send({"clock": clock.isoformat()})
        assert replies[-1] == {"done": True}
        for line in replies[:-1]:
            assert {"kind", "at", "key", "to", "text"} <= set(line), line
            # never before it was due, and delivered at the first clock line after that
            at = datetime.fromisoformat(line["at"])
            assert at <= clock, line
            seen.append({**line, "clock": clock})
        if clock == datetime(2027, 3, 5, 20, tzinfo=UTC):  # Alice answers at once
            answer_checkin(console, "alice")
        if clock == datetime(2027, 3, 12, 21, tzinfo=UTC):  # Bob: "ask me again in 2 h"
            console.send({"as": email("bob")})
            assert console.choose("snooze")[0]["text"] == "Snoozed. I'll ask again in 2 hours."
        if clock == datetime(2027, 3, 13, 12, tzinfo=UTC):  # Erin is off till the 21st
            console.send({"as": email("erin")})
            console.say("/away 2027-03-21")
        if clock == datetime(2027, 3, 8, 15, tzinfo=UTC):  # Maya: the team meeting was held
            check = next(s for s in seen if s["kind"] == "meeting_check"
                         and s["to"] == email("maya") and "Team meeting" in s["text"])
            console.send({"as": email("maya")})
            assert "was held" in console.choose(check["choices"][0]["id"])[0]["text"]
        clock += timedelta(hours=1)

    keys = [s["key"] for s in seen]
    assert len(keys) == len(set(keys)), Counter(keys).most_common(3)  # each exactly once
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in seen:
        by_kind[s["kind"]].append(s)
        hour = datetime.fromisoformat(s["at"]).hour
        assert 8 <= hour < 20, s  # quiet hours: nothing at night, local time

    # The weekly digest: Monday 08:00 for each leader and manager, once a week.
    digests = {(s["to"], s["at"]) for s in by_kind["digest"]}
    expected = {(email(p), local(p, monday, 8)) for p in ("lee", "maya", "omar")
                for monday in MONDAYS}
    # the Monday before the month (22 Feb) came before the rhythm's first run (the first
    # clock line): it is not caught up
    assert digests == expected
    assert "2027-03-01T08:00:00-05:00" in {a for _, a in digests}  # New York before DST
    assert local("omar", date(2027, 3, 29), 8).endswith("+01:00")  # London after DST

    # Check-ins: Friday 15:00 in each rep's zone, except Erin's week away; the week's own
    # check-in (26 February) came before the first clock line (Sunday): not caught up.
    checkins = {(s["to"], s["at"]) for s in by_kind["checkin"] if ":again-" not in s["key"]}
    expected = {(email(r), local(r, friday, 15)) for r in REPS
                for friday in FRIDAYS if not (r == "erin" and friday == date(2027, 3, 19))}
    assert checkins == expected
    assert ("bob@demo.smos.example", "2027-03-12T17:00:00-06:00") in {
        (s["to"], s["at"]) for s in by_kind["checkin"] if ":again-" in s["key"]}

    # One reminder 20 hours later (not for Alice's answered week), then missed.
    reminders = {(s["to"], s["at"]) for s in by_kind["checkin_reminder"]}
    assert (email("alice"), local("alice", date(2027, 3, 6), 11)) not in reminders
    assert (email("alice"), local("alice", date(2027, 3, 13), 11)) in reminders
    assert (email("carmen"), local("carmen", date(2027, 3, 20), 11)) in reminders
    missed = Counter(s["to"] for s in by_kind["checkin_missed"])
    assert missed[email("alice")] == 3  # four weeks, one answered
    # Erin: away before her 12 March check-in was marked missed, and all the next week
    assert missed[email("erin")] == 2
    with app.sessions() as db:
        statuses = Counter(c.status for c in db.scalars(select(Checkin)))
    assert statuses["answered"] == 1 and statuses["out_of_office"] == 2
    assert statuses["missed"] == 4 * 5 - 3

    # The review on its day, to the manager, 09:00 her time; the action's reminders.
    (review,) = by_kind["review_due"]
    assert (review["to"], review["at"]) == (email("maya"), "2027-03-16T09:00:00-04:00")
    assert review["choices"][0]["id"] == f"/review {email('alice')}"
    assert [(s["to"], s["at"]) for s in by_kind["action_due"]] == [
        (email("alice"), "2027-03-10T09:00:00-05:00")]
    assert [(s["to"], s["at"]) for s in by_kind["action_overdue"]] == [
        (email("alice"), "2027-03-11T09:00:00-05:00")]

    # Meetings: a prep nudge before each (two hours, out of quiet hours) and the forecast
    # call twice in each of the quarter's last two weeks.
    forecast = sorted(s["at"] for s in by_kind["prep_nudge"]
                      if s["to"] == email("omar") and "Forecast call" in s["text"])
    assert [a[:10] for a in forecast] == ["2027-03-04", "2027-03-11", "2027-03-18",
                                          "2027-03-23", "2027-03-25", "2027-03-30"]
    assert all(a.endswith("14:00:00+00:00") or a.endswith("14:00:00+01:00") for a in forecast)
    held_check = [s for s in by_kind["meeting_check"] if s["to"] == email("maya")
                  and "Team meeting on Mon 8 Mar" in s["text"]]
    assert len(held_check) == 1
    app.close()
