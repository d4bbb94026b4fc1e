"""storage.digest: the digest costs the same fixed number of statements whatever the size
of the org (a tree ten times larger, more history), for a VP, a leader and a manager, and
each is planned for the scope it is given."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from sqlalchemy import text

from bench.history import NOW, Scale, add_history, build_people, fix_sequences
from bot.services import digest
from storage import digest as figures
from storage.models import Person
from tests.storage.test_overviews import statements
from tests.support import make_app


def test_the_digest_queries_do_not_grow_with_the_org(db_url: str) -> None:
    counts = []
    monday = NOW.date() - timedelta(days=NOW.weekday() + 7)
    for reps, first_id, history in ((8, 1000, 2), (160, 5000, 6)):
        app = make_app(db_url, demo=False, start=NOW)
        with app.engine.begin() as conn:
            built = build_people(conn, reps, first_id)
            add_history(conn, built, Scale(reps=reps, sessions=history, actions=3 * history,
                                           checkins=2 * history, months=history), 0.0, 1.0)
            fix_sequences(conn)
        with app.sessions() as db:
            people = [db.get(Person, pid) for pid in
                      (built.manager_of(0), built.leader_of(0), built.vp)]
            counts.append([statements(app.engine, partial(
                digest.build, db, p, monday, app.playbook, NOW)) for p in people])
            vp = digest.build(db, people[2], monday, app.playbook, NOW)
            assert vp.reps == reps  # the whole tree was counted
        app.close()
    assert counts[0] == counts[1] == [[figures.STATEMENTS] * 3][0]


def test_the_digest_is_planned_for_its_scope_every_time(db_url: str) -> None:
    """Built again and again on one connection, the digest counts the same; on PostgreSQL
    none of its statements is prepared (after five runs psycopg would, and the server would
    then plan them once for any scope: ten ids guessed for a VP's thousands), and the
    connection prepares the app's other statements as before."""
    app = make_app(db_url, demo=False, start=NOW)
    monday = NOW.date() - timedelta(days=NOW.weekday() + 7)
    with app.engine.begin() as conn:
        built = build_people(conn, 8, 1000)
        add_history(conn, built, Scale(reps=8, sessions=2, actions=6, checkins=4, months=2),
                    0.0, 1.0)
        fix_sequences(conn)
    with app.sessions() as db:
        vp = db.get(Person, built.vp)
        assert vp is not None
        first = digest.build(db, vp, monday, app.playbook, NOW)
        assert all(digest.build(db, vp, monday, app.playbook, NOW) == first for _ in range(9))
        if app.engine.dialect.name == "postgresql":
            driver = db.connection().connection.driver_connection
            assert driver.prepare_threshold == 5  # type: ignore[union-attr]
            prepared = db.execute(text("SELECT statement FROM pg_prepared_statements"))
            assert [row for row in prepared if "unnest" in row.statement] == []
    app.close()
