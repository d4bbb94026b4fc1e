"""The metrics import streams: chunk by chunk, yet a rejected file stores nothing (even
once earlier chunks were written and the caller commits), a key repeated in a later chunk
is still caught, emails match in any case, and the progress bar reaches the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bot.cli import import_metrics as metrics_import
from bot.cli.import_files import ImportRejected, import_metrics
from storage.db import make_sessions
from storage.models import Metric
from tests.bot.test_imports import LATER, METRICS_HEADER, count, seed, write


def lines(n: int, start: int = 0) -> str:
    return "".join(f"{'RAY' if i % 2 else 'ray'}@acme.example,2026-{i % 12 + 1:02d}-01,"
                   f"2026-{i % 12 + 1:02d}-28,m{i},result,10,{i}\n" for i in range(start, n))


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with make_sessions(engine)() as session:
        yield session


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics_import, "CHUNK", 4)


def test_chunks_are_written_and_counted(db: Session, tmp_path: Path) -> None:
    seed(db)
    path = write(tmp_path, METRICS_HEADER + "\n" + lines(10))
    seen: list[tuple[int, int]] = []
    first = import_metrics(db, path, now=LATER, progress=lambda d, t: seen.append((d, t)))
    db.commit()
    assert (first.created, first.updated, first.unchanged, first.rows) == (10, 0, 0, 10)
    assert seen[-1] == (10, 10)
    again = import_metrics(db, path, now=LATER)
    db.commit()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 10)
    assert sorted(m.actual for m in db.scalars(select(Metric))) == list(range(10))


def test_a_bad_row_in_a_late_chunk_stores_nothing_though_the_caller_commits(
        db: Session, tmp_path: Path) -> None:
    seed(db)
    before = count(db, Metric)
    path = write(tmp_path, METRICS_HEADER + "\n" + lines(9)
                 + "ray@acme.example,2026-01-01,2026-01-28,m0,result,10,5\n")  # line 11 = line 2
    with pytest.raises(ImportRejected) as caught:
        import_metrics(db, path, now=LATER)
    db.commit()  # as bot/cli.py does, the rejection caught inside its transaction
    assert count(db, Metric) == before
    assert caught.value.report.bad == [(11, "same email, period and metric as line 2")]


def test_not_utf8_far_into_the_file_stores_nothing(db: Session, tmp_path: Path) -> None:
    seed(db)
    path = write(tmp_path, (METRICS_HEADER + "\n" + lines(9)).encode() + b"\xff,x\n")
    with pytest.raises(ImportRejected) as caught:
        import_metrics(db, path, now=LATER)
    db.commit()
    assert count(db, Metric) == 0
    assert caught.value.report.bad[0][0] == 11


def test_one_chunk_mixing_new_changed_and_identical_rows_is_counted_exactly(
        db: Session, tmp_path: Path) -> None:
    """The database decides what changed (the upsert skips identical rows and returns the
    ones it wrote): each chunk of four mixes the three cases, and a row stored by another
    source with the same values stays unchanged."""
    seed(db)
    import_metrics(db, write(tmp_path, METRICS_HEADER + "\n" + lines(6)), now=LATER)
    db.commit()
    db.execute(update(Metric).where(Metric.metric == "m1").values(source="demo"))
    db.commit()
    changed = lines(6).replace(",10,2\n", ",10,20\n").replace(",10,5\n", ",10,50\n")
    path = write(tmp_path, METRICS_HEADER + "\n" + changed + lines(10, start=6))
    report = import_metrics(db, path, now=LATER)
    db.commit()
    assert (report.created, report.updated, report.unchanged, report.skipped) == (4, 2, 4, 0)
    stored = {m.metric: (m.actual, m.source) for m in db.scalars(select(Metric))}
    assert stored["m2"] == (20, "import") and stored["m5"] == (50, "import")
    assert stored["m1"] == (1, "demo")
    again = import_metrics(db, path, now=LATER)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 10)


def test_awkward_metric_names_and_numbers_are_stored_exactly_and_then_unchanged(
        db: Session, tmp_path: Path) -> None:
    """PostgreSQL gets a chunk's column as one text split in SQL: names with the characters
    an array or CSV would quote, and floats that must round-trip, come back exactly."""
    seed(db)
    names = ['a,b', '{x}', 'say "hi"', "back\\slash", "NULL", "", "é ü", "x" * 200]
    numbers = ["0.30000000000000004", "1e-300", "-0", "123456789.123456789", "5", "1E5",
               "2.5", "-7.25"]
    rows = [f'ray@acme.example,2026-01-01,2026-01-31,"{name.replace(chr(34), chr(34) * 2)}'
            f'{i if not name else ""}",activity,{numbers[i]},{numbers[-1 - i]}'
            for i, name in enumerate(names)]
    path = write(tmp_path, METRICS_HEADER + "\n" + "\n".join(rows) + "\n")
    first = import_metrics(db, path, now=LATER)
    db.commit()
    assert (first.created, first.updated, first.unchanged) == (8, 0, 0)
    stored = {m.metric: (m.target, m.actual) for m in db.scalars(select(Metric))}
    assert stored == {(name or "5"): (float(numbers[i]), float(numbers[-1 - i]))
                      for i, name in enumerate(names)}
    again = import_metrics(db, path, now=LATER)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 8)
