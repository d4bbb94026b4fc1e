"""The people import's whole-file checks run in a temporary SQLite file: memory does not
grow with the file, the file is removed whatever happens, and the checks that walk the org
(reporting loops, deep chains) still hold, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import tempfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.cli import import_people as people_import
from bot.cli import people_staging
from bot.cli.import_files import ImportRejected, import_people
from storage.db import make_sessions
from tests.bot.test_imports import LATER, NOW, PEOPLE_HEADER, people, rejected, write


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with make_sessions(engine)() as session:
        yield session


def org_file(tmp_path: Path, name: str, reps: int) -> Path:
    """A leader, a manager per ten reps, the reps first (before their managers)."""
    managers = -(-reps // 10)
    lines = [f"{name}-r{i}@x.example,Rep {i},rep,{name}-m{i // 10}@x.example,UTC"
             for i in range(reps)]
    lines += [f"{name}-m{i}@x.example,Manager {i},manager,{name}-lead@x.example,UTC"
              for i in range(managers)]
    lines.append(f"{name}-lead@x.example,Lead,leader,,UTC")
    return write(tmp_path, "\n".join([PEOPLE_HEADER, *lines]), f"{name}.csv")


def peak_of_import(db: Session, path: Path) -> int:
    tracemalloc.start()
    try:
        import_people(db, path, now=NOW)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        db.commit()


def test_memory_does_not_grow_with_the_file_or_the_org(
        db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Python's own peak (the staging file's pages are SQLite's, outside it) for 500 and
    then 2,500 new people, the second import also over the 500 stored: the whole-file
    state of the old code added 1.3 MB here (this code: under 10 KB)."""
    monkeypatch.setattr(people_import, "CHUNK", 50)
    monkeypatch.setattr(people_staging, "PAGE", 50)
    import_people(db, org_file(tmp_path, "warm", 5), now=NOW)  # caches filled once
    db.commit()
    small = peak_of_import(db, org_file(tmp_path, "small", 450))
    large = peak_of_import(db, org_file(tmp_path, "large", 2270))
    assert len(people(db)) == 7 + 496 + 2498
    assert large - small < 500_000, (small, large)


def test_the_staging_file_is_removed_after_an_import_and_after_a_rejection(
        db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    report = import_people(db, org_file(tmp_path, "a", 3), now=NOW)
    assert report.created == 5
    assert list(scratch.iterdir()) == []
    bad = write(tmp_path, f"{PEOPLE_HEADER}\nx@x.example,X,rep,nobody@x.example,UTC\n")
    assert rejected(db, bad).bad == [
        (2, "unknown manager email nobody@x.example (not in this file nor stored)")]
    assert list(scratch.iterdir()) == []


def test_a_deep_chain_imports_and_closing_it_into_a_loop_is_refused(
        db: Session, tmp_path: Path) -> None:
    """300 leaders each under the next, listed bottom up (the org is rooted a level at a
    time: 300 levels); then a file that puts the top under the bottom: the loop runs
    through the stored chain and only the file's row is named, with the loop's ends."""
    chain = [f"l{i}@x.example,Lead {i},leader,l{i + 1}@x.example,UTC" for i in range(299)]
    chain.append("l299@x.example,Lead 299,leader,,UTC")
    report = import_people(db, write(tmp_path, "\n".join([PEOPLE_HEADER, *chain])), now=NOW)
    db.commit()
    assert report.created == 300
    loop = write(tmp_path, f"{PEOPLE_HEADER}\nl299@x.example,Lead 299,leader,l0@x.example,UTC\n",
                 "loop.csv")
    assert rejected(db, loop).bad == [(2, (
        "reporting line loops: l299@x.example → l0@x.example → l1@x.example → … (295 more)"
        " → l297@x.example → l298@x.example → l299@x.example"))]
    again = import_people(db, write(tmp_path, "\n".join([PEOPLE_HEADER, *chain]), "again.csv"),
                          now=LATER)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 300)


def test_no_usable_temporary_directory_is_a_kind_rejection(
        db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    report = rejected(db, org_file(tmp_path, "a", 3))
    assert report.file_problem
    [(line, reason)] = report.bad
    assert line is None
    assert reason.startswith("the import could not use its temporary file (it needs about "
                             "500 bytes of disk a person, in TMPDIR")
    assert reason.endswith("; nothing was imported")


def test_a_staging_failure_part_way_through_the_writes_leaves_nothing(
        db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The staging file fails (as on a full disk) after some people were written: the
    savepoint is rolled back, so the caller's commit stores none of them."""
    monkeypatch.setattr(people_import, "CHUNK", 2)
    monkeypatch.setattr(people_staging, "PAGE", 2)
    calls = 0
    written = people_staging.Staging.written

    def failing(self: people_staging.Staging, ids: list[tuple[str, int]]) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise sqlite3.OperationalError("database or disk is full")
        written(self, ids)

    monkeypatch.setattr(people_staging.Staging, "written", failing)
    with pytest.raises(ImportRejected) as caught:
        import_people(db, org_file(tmp_path, "a", 20), now=NOW)
    db.commit()
    assert people(db) == {}
    assert caught.value.report.bad[0][1].endswith(
        "database or disk is full; nothing was imported")
