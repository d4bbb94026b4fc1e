"""The week's check-in row created by two writers at once (the scheduler starting a rep's
check-in while the rep types /checkin): both end with the one row, neither turn fails
(issue 12's drills found a UniqueViolation on PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import select

from storage import coaching
from storage.models import Checkin, Person
from tests.support import make_app

WEEK = date(2026, 11, 23)


def test_two_writers_creating_the_same_week_share_one_row(db_url: str) -> None:
    app = make_app(db_url)
    try:
        with app.sessions() as db:
            rep_id = db.scalars(select(Person.id).where(Person.role == "rep")).first()
        assert rep_id is not None
        first_flushed, second_started = threading.Event(), threading.Event()
        ids: dict[str, int] = {}

        def first() -> None:
            with app.sessions.begin() as db:
                ids["first"] = coaching.checkin_of_period(db, rep_id, WEEK).id
                db.flush()
                first_flushed.set()
                second_started.wait(10)  # the other writer is trying while this one holds
                threading.Event().wait(0.3)

        def second() -> None:
            first_flushed.wait(10)
            second_started.set()
            with app.sessions.begin() as db:
                ids["second"] = coaching.checkin_of_period(db, rep_id, WEEK).id

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert ids["first"] == ids["second"]
        with app.sessions() as db:
            rows = db.scalars(select(Checkin).where(Checkin.person_id == rep_id)).all()
        assert [(r.period_start, r.status) for r in rows] == [(WEEK, "open")]
    finally:
        app.close()
