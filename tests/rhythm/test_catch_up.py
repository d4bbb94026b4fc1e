"""No catch-up from before the rhythm served someone: a new install's first run sends no
digest about last week and asks no check-in whose Friday has passed; a person added later
gets nothing about a period before they arrived. After a downtime (the rhythm had run),
each item is still caught up once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.cli.demo_org import DOMAIN
from storage.models import DEFAULT_ORG, Organization, Person
from tests.rhythm.test_due import MAYA, at, scheduled, tick
from tests.support import make_app

WEDNESDAY = at("2027-03-03T15:00:00+00:00")  # the install: 10:00 New York


def digest_weeks(app: object, email: str) -> list[str]:
    return [r.idempotency_key.rsplit(":", 1)[1] for r in scheduled(app, "digest")  # type: ignore[arg-type]
            if r.target == email]


def add_person(app: object, local: str, role: str, manager: str, when: datetime) -> None:
    with app.sessions.begin() as db:  # type: ignore[attr-defined]
        boss = db.scalar(select(Person.id).where(Person.email == f"{manager}@{DOMAIN}"))
        db.add(Person(org_id=DEFAULT_ORG, email=f"{local}@{DOMAIN}", name=local.title(),
                      role=role, manager_id=boss, timezone="America/New_York",
                      created_at=when, updated_at=when))


def test_a_new_install_sends_no_digest_about_last_week(db_url: str) -> None:
    app = make_app(db_url, start=WEDNESDAY)
    first = tick(app, WEDNESDAY.isoformat())
    assert "digest" not in first.by_kind and first.checkins_started == 0
    with app.sessions() as db:
        org = db.get(Organization, DEFAULT_ORG)
        assert org is not None and org.rhythm_started_at == WEDNESDAY  # set once, here
    tick(app, "2027-03-05T20:00:00+00:00")  # the first Friday after: 15:00 New York, London
    assert {r.target for r in scheduled(app, "checkin")} == {
        f"{rep}@{DOMAIN}" for rep in ("alice", "dev", "erin")}
    tick(app, "2027-03-08T13:00:00+00:00")  # Monday 08:00 New York: the week of the install
    assert digest_weeks(app, MAYA) == ["2027-W09"]
    with app.sessions() as db:
        org = db.get(Organization, DEFAULT_ORG)
        assert org is not None and org.rhythm_started_at == WEDNESDAY  # not moved on
    app.close()


def test_someone_added_later_gets_nothing_from_before_they_came(db_url: str) -> None:
    app = make_app(db_url, start=WEDNESDAY)
    tick(app, WEDNESDAY.isoformat())
    # Saturday: a rep joins after the Friday check-in, a manager after Monday's digest
    saturday = at("2027-03-06T15:00:00+00:00")
    add_person(app, "nina", "manager", "lee", saturday)
    add_person(app, "ray", "rep", "nina", saturday)
    tick(app, saturday.isoformat())
    assert not [r for r in scheduled(app, "checkin") if r.target == f"ray@{DOMAIN}"]
    tick(app, "2027-03-08T13:00:00+00:00")
    assert digest_weeks(app, f"nina@{DOMAIN}") == ["2027-W09"]  # the week she came in
    tick(app, "2027-03-12T20:00:00+00:00")  # the next Friday: Ray's first check-in
    assert [r.target for r in scheduled(app, "checkin")].count(f"ray@{DOMAIN}") == 1
    app.close()


def test_after_a_downtime_the_missed_digest_is_caught_up_once(db_url: str) -> None:
    app = make_app(db_url, start=WEDNESDAY)
    tick(app, WEDNESDAY.isoformat())
    tick(app, "2027-03-08T13:00:00+00:00")
    # down from Monday 8 to Tuesday 16 March: Monday 15's digest comes late, once
    tick(app, "2027-03-16T14:00:00+00:00")
    tick(app, "2027-03-16T15:00:00+00:00")
    assert digest_weeks(app, MAYA) == ["2027-W09", "2027-W10"]
    app.close()
