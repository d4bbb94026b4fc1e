"""People imports that move platform ids, change roles, or run two at once (issue 7,
item 8): row errors or a clear refusal, never a crash on the unique index."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session

from bot.cli.import_files import ImportRejected, import_people
from storage.db import make_engine, make_sessions
from storage.locks import IMPORTS_KEY
from storage.models import Person
from tests.bot.test_imports import FIXTURES, LATER, NOW, PEOPLE_HEADER, people, write

SLACK_HEADER = f"{PEOPLE_HEADER},slack_user_id"


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with make_sessions(engine)() as session:
        import_people(session, FIXTURES / "people.csv", now=NOW)  # mia U0MIA, lee U0LEE
        session.commit()
        yield session


def test_swapped_slack_ids_are_imported(db: Session, tmp_path: Path) -> None:
    path = write(tmp_path, (
        f"{SLACK_HEADER}\n"
        "mia@acme.example,Mia Manager,manager,lee@acme.example,America/Chicago,U0LEE\n"
        "lee@acme.example,Lee Leader,leader,,America/New_York,U0MIA\n"
    ))
    report = import_people(db, path, now=LATER)
    db.commit()
    assert report.updated == 2
    org = people(db)
    assert (org["mia@acme.example"].slack_user_id, org["lee@acme.example"].slack_user_id) == (
        "U0LEE", "U0MIA")


def test_a_slack_id_moved_to_someone_listed_first(db: Session, tmp_path: Path) -> None:
    path = write(tmp_path, (
        f"{SLACK_HEADER}\n"
        "ray@acme.example,Ray Rep,rep,mia@acme.example,America/Chicago,U0MIA\n"
        "mia@acme.example,Mia Manager,manager,lee@acme.example,America/Chicago,U0MIA2\n"
    ))
    import_people(db, path, now=LATER)
    db.commit()
    org = people(db)
    assert (org["ray@acme.example"].slack_user_id, org["mia@acme.example"].slack_user_id) == (
        "U0MIA", "U0MIA2")


def test_a_slack_id_kept_by_a_skipped_row_is_not_taken(db: Session, tmp_path: Path) -> None:
    # mia's row is bad (unknown manager), so mia keeps U0MIA: ray cannot take it.
    path = write(tmp_path, (
        f"{SLACK_HEADER}\n"
        "ray@acme.example,Ray Rep,rep,mia@acme.example,America/Chicago,U0MIA\n"
        "mia@acme.example,Mia Manager,manager,ghost@acme.example,America/Chicago,U0NEW\n"
    ))
    report = import_people(db, path, now=LATER, skip_bad=True)
    db.commit()
    assert report.bad == [
        (2, "slack_user_id U0MIA already belongs to mia@acme.example"),
        (3, "unknown manager email ghost@acme.example (not in this file nor stored)"),
    ]
    assert people(db)["mia@acme.example"].slack_user_id == "U0MIA"


def test_demoting_a_manager_who_still_has_reports_is_refused(db: Session,
                                                             tmp_path: Path) -> None:
    path = write(tmp_path, f"{PEOPLE_HEADER}\n"
                           "mia@acme.example,Mia Manager,rep,lee@acme.example,UTC\n")
    with pytest.raises(ImportRejected) as caught:
        import_people(db, path, now=LATER)
    assert caught.value.report.bad == [(2, (
        "mia@acme.example still has 2 reports (ray@acme.example, rita@acme.example): "
        "give them another manager before making mia@acme.example a rep"))]


def test_demoting_a_manager_whose_reports_move_in_the_same_file(db: Session,
                                                                tmp_path: Path) -> None:
    path = write(tmp_path, (
        f"{PEOPLE_HEADER}\n"
        "mia@acme.example,Mia Manager,rep,lee@acme.example,UTC\n"
        "ray@acme.example,Ray Rep,rep,lee@acme.example,UTC\n"
        "rita@acme.example,Rita Rep,rep,lee@acme.example,UTC\n"
    ))
    assert import_people(db, path, now=LATER).updated == 3


def test_a_manager_reporting_to_a_rep_is_refused(db: Session, tmp_path: Path) -> None:
    path = write(tmp_path, (
        f"{PEOPLE_HEADER}\n"
        "new@acme.example,New Rep,rep,ray@acme.example,UTC\n"
        "sam@acme.example,Sam Manager,manager,ray@acme.example,UTC\n"
        "ada@acme.example,Ada Admin,admin,,Europe/London\n"
        "kim@acme.example,Kim Manager,manager,ada@acme.example,UTC\n"
    ))
    with pytest.raises(ImportRejected) as caught:
        import_people(db, path, now=LATER)
    assert caught.value.report.bad == [
        (2, "manager ray@acme.example is a rep; a manager must be a manager or a leader"),
        (3, "manager ray@acme.example is a rep; a manager must be a manager or a leader"),
        (5, "manager ada@acme.example is a admin; a manager must be a manager or a leader"),
    ]


# --- two imports at once ------------------------------------------------------------------


def _hold_import_lock(engine: Engine) -> tuple[object, object]:
    """Another import in progress: its transaction holds the import lock."""
    conn = engine.connect()
    transaction = conn.begin()  # SQLite: BEGIN IMMEDIATE, the write lock
    if engine.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": IMPORTS_KEY})
    return conn, transaction


def test_an_import_while_another_runs_is_refused_after_the_wait(db_url: str,
                                                                tmp_path: Path) -> None:
    holder_engine, waiter_engine = make_engine(db_url), make_engine(db_url)
    if waiter_engine.dialect.name == "sqlite":  # wait 0.1 s for the write lock, not 30 s
        event.listen(waiter_engine, "connect",
                     lambda dbapi, _: dbapi.execute("PRAGMA busy_timeout=100"))
    conn, transaction = _hold_import_lock(holder_engine)
    try:
        with make_sessions(waiter_engine)() as session, pytest.raises(ImportRejected) as caught:
            import_people(session, FIXTURES / "people.csv", now=NOW, lock_wait=0.1)
        assert caught.value.report.bad == [
            (None, "another import is running; try again when it has finished")]
        assert caught.value.report.file_problem
    finally:
        transaction.rollback()  # type: ignore[attr-defined]
        conn.close()  # type: ignore[attr-defined]
        holder_engine.dispose()
        waiter_engine.dispose()


def test_two_imports_at_once_run_one_after_the_other(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    sessions = make_sessions(engine)
    first_inside, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def first_progress(done: int, total: int) -> None:
        first_inside.set()  # rows are written but not committed: hold them there
        assert release.wait(30)

    def run(name: str, progress: object) -> None:
        try:
            with sessions.begin() as session:
                results[name] = import_people(session, FIXTURES / "people.csv", now=NOW,
                                              progress=progress)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - the test reports whatever went wrong
            results[name] = exc

    first = threading.Thread(target=run, args=("first", first_progress))
    first.start()
    assert first_inside.wait(30)
    second = threading.Thread(target=run, args=("second", None))
    second.start()
    if engine.dialect.name == "postgresql":  # let the second reach the lock before going on
        _wait_for_a_waiting_lock(engine)
    release.set()
    first.join(30)
    second.join(30)
    engine.dispose()
    created = [getattr(results[n], "created", results[n]) for n in ("first", "second")]
    assert created == [5, 0], results
    assert getattr(results["second"], "unchanged", None) == 5


def _wait_for_a_waiting_lock(engine: Engine) -> None:
    """Until PostgreSQL shows a session waiting for the advisory lock (a condition, not
    a time: the loop ends as soon as the second import is queued behind the first)."""
    query = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    for _ in range(10_000):
        with engine.connect() as conn:
            if conn.execute(query).scalar():
                return
    raise AssertionError("the second import never waited for the lock")


def test_import_reads_only_the_default_org(db: Session) -> None:
    assert {p.org_id for p in db.scalars(select(Person))} == {1}
