"""``coach metrics import``: results and activity per person and period, upserted in
chunks through Core bulk statements (the file streams: memory does not grow with it).

A row is keyed by (person, period_start, period_end, metric); the person must
already be stored (import people first).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import batched
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    Connection,
    Date,
    Float,
    Integer,
    String,
    Table,
    Text,
    and_,
    bindparam,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.cli.import_people import aware_utc
from bot.cli.import_table import (
    LOCK_WAIT,
    ImportRejected,
    ImportReport,
    Progress,
    Row,
    count_lines,
    lock_imports,
    stream_rows,
    tick,
)
from storage.models import DEFAULT_ORG, Metric, Person

KINDS = ("result", "activity")
REQUIRED = ("email", "period_start", "period_end", "metric", "kind", "target", "actual")
MAX_METRIC = 200
CHUNK = 5000  # rows read, checked and written at a time
_LOOKUP = 500  # emails per IN (...) query, well under SQLite's bound-parameter limit

Key = tuple[int, date, date, str]


@dataclass(frozen=True, slots=True)
class MetricRow:
    """One valid line of the metrics file."""

    line: int
    email: str
    period_start: date
    period_end: date
    metric: str
    kind: str
    target: float
    actual: float


def import_metrics(
    session: Session,
    path: str | Path,
    *,
    now: datetime,
    skip_bad: bool = False,
    progress: Progress | None = None,
    lock_wait: float = LOCK_WAIT,
) -> ImportReport:
    """Upsert the metrics of the default organisation's people; the caller commits.

    The file streams through in chunks (read, check, write), so memory does not grow with
    its size; the rows are written under a savepoint that is rolled back when the file is
    rejected, so a rejected file still stores nothing. ``now`` is checked but not stored:
    the metric table keeps no timestamps.
    """
    aware_utc(now)
    report = ImportReport(str(path))
    rows = stream_rows(path, report, REQUIRED)
    total = max(count_lines(path) - 1, 0)
    lock_imports(session, report, lock_wait)
    people = _People(session)
    seen: dict[int, int] = {}  # a digest of each key -> its first line
    writing = session.begin_nested()
    try:
        done = 0
        for chunk in batched(rows, CHUNK):
            good = _checked(chunk, people, seen, report)
            if skip_bad or not report.bad:
                _write(session.connection(), good, report)
            done += len(chunk)
            tick(progress, done, total)
    except ImportRejected:
        writing.rollback()
        raise
    if report.bad and not skip_bad:
        writing.rollback()
        raise ImportRejected(report)
    writing.commit()
    if progress is not None:
        progress(total, total)
    report.skipped = len(report.bad_lines)
    return report.in_file_order()


def _checked(chunk: Sequence[Row], people: _People, seen: dict[int, int],
             report: ImportReport) -> dict[Key, MetricRow]:
    """The chunk's valid rows by key; the others reported (unknown person, a key that an
    earlier line of the file already had)."""
    parsed = [p for row in chunk if (p := _parse(row, report)) is not None]
    ids = people.ids({row.email for row in parsed})
    good: dict[Key, MetricRow] = {}
    for row in parsed:
        person_id = ids.get(row.email)
        if person_id is None:
            report.add(row.line, f"unknown person email {row.email} (import people first)")
            continue
        key = (person_id, row.period_start, row.period_end, row.metric)
        first = seen.setdefault(_digest(key), row.line)
        if first != row.line:
            report.add(row.line, f"same email, period and metric as line {first}")
            continue
        good[key] = row
    return good


def _digest(key: Key) -> int:
    """A 64-bit hash per key seen, not the key: what keeps a million-row file's memory
    small (a million different keys share one with a chance of about 1 in 30 million;
    Python's string hashes are seeded per process, so no file can aim at one)."""
    return hash(key)


def _parse(row: Row, report: ImportReport) -> MetricRow | None:
    cells = row.cells
    problems: list[str] = []
    email = cells["email"].lower()
    if not email:
        problems.append("email is empty")
    start = _date(cells, "period_start", problems)
    end = _date(cells, "period_end", problems)
    if start and end and end < start:
        problems.append(f"period_end {end} is before period_start {start}")
    metric = cells["metric"]
    if not metric:
        problems.append("metric is empty")
    elif len(metric) > MAX_METRIC:
        problems.append(f"metric is longer than {MAX_METRIC} characters")
    kind = cells["kind"].lower()
    if kind not in KINDS:
        got = f"{cells['kind']!r}" if cells["kind"] else "empty"
        problems.append(f"kind is {got}; it must be one of {', '.join(KINDS)}")
    target = _number(cells, "target", problems)
    actual = _number(cells, "actual", problems)
    for problem in problems:
        report.add(row.line, problem)
    if problems or start is None or end is None or target is None or actual is None:
        return None
    return MetricRow(row.line, email, start, end, metric, kind, target, actual)


def _date(cells: Mapping[str, str], column: str, problems: list[str]) -> date | None:
    value = cells[column]
    try:
        return date.fromisoformat(value)
    except ValueError:
        got = f"{value!r} is" if value else "is empty,"
        problems.append(f"{column} {got} not a date like 2026-03-31")
        return None


def _number(cells: Mapping[str, str], column: str, problems: list[str]) -> float | None:
    value = cells[column]
    try:
        number = float(value)
    except ValueError:
        hint = " (use a dot for decimals, no thousands separator)" if "," in value else ""
        got = f"{value!r} is" if value else "is empty,"
        problems.append(f"{column} {got} not a number{hint}")
        return None
    if not math.isfinite(number):
        problems.append(f"{column} {value!r} is not a finite number")
        return None
    return number


class _People:
    """Person ids by email, looked up per chunk by the (org_id, email) index (emails are
    stored lowercased) and remembered: an org's people, not the file's rows."""

    def __init__(self, session: Session) -> None:
        self.conn = session.connection()
        self.known: dict[str, int | None] = {}

    def ids(self, emails: set[str]) -> dict[str, int | None]:
        missing = sorted(emails - self.known.keys())
        for start in range(0, len(missing), _LOOKUP):
            chunk = missing[start:start + _LOOKUP]
            self.known.update(dict.fromkeys(chunk))
            self.known.update((email, person_id) for email, person_id in
                              self.conn.execute(_BY_EMAIL, {"emails": chunk}))
        return {email: self.known[email] for email in emails}


_metric = cast(Table, Metric.__table__)
_BY_EMAIL = select(Person.email, Person.id).where(Person.org_id == DEFAULT_ORG,
                                                   Person.email.in_(bindparam("emails")))
_LAST_ID = select(func.max(_metric.c.id))


def _write(conn: Connection, good: Mapping[Key, MetricRow], report: ImportReport) -> None:
    """One chunk in one bulk upsert (insert ... on conflict do update) that leaves identical
    stored rows alone and returns only the rows it wrote, so the chunk is counted without
    reading it back. PostgreSQL: the chunk goes as one array per column (one statement,
    identical rows dropped by a join on the unique index before the insert, so not even
    locked), and says whether each written row was inserted. SQLite: an executemany whose
    conflict clause skips identical rows, returning ids (new ids are past the largest)."""
    if not good:
        return
    values = [{"person_id": key[0], "period_start": row.period_start,
               "period_end": row.period_end, "metric": row.metric, "kind": row.kind,
               "target": row.target, "actual": row.actual} for key, row in good.items()]
    if conn.dialect.name == "postgresql":
        inserted = conn.scalars(_UPSERT_ARRAYS, {column: _SEPARATOR.join(map(_text, (
            v[column] for v in values))) for column in _COLUMNS}).all()
        created, written = sum(inserted), len(inserted)
    else:
        last_id = conn.scalar(_LAST_ID) or 0
        ids = conn.scalars(_UPSERT_ROWS, [{**v, "source": "import"} for v in values]).all()
        created, written = sum(i > last_id for i in ids), len(ids)
    report.created += created
    report.updated += written - created
    report.unchanged += len(good) - written


_COLUMNS = {"person_id": Integer, "period_start": Date, "period_end": Date, "metric": String,
            "kind": String, "target": Float, "actual": Float}
_KEY = ("person_id", "period_start", "period_end", "metric")
# PostgreSQL gets a column of the chunk as one text, its values joined by the unit
# separator, a control character that no cell may hold: sending lists made psycopg quote
# every element in Python (a third of a re-import's time); floats as repr, which round-trips.
_SEPARATOR = "\x1f"


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)
_VALUES = ("kind", "target", "actual")


def _upsert_rows() -> Any:
    """SQLite: insert ... on conflict do update where a value differs, returning the id."""
    statement = sqlite.insert(_metric)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=list(_KEY),
        set_={column: excluded[column] for column in (*_VALUES, "source")},
        where=or_(*(_metric.c[column].is_distinct_from(excluded[column])
                    for column in _VALUES))).returning(_metric.c.id)


def _upsert_arrays() -> Any:
    """PostgreSQL: insert ... select from unnest(one array per column, each sent as one
    text), only the rows that
    are new or differ from the stored one; returns xmax = 0 (inserted) per written row."""
    file = func.unnest(*(sql_cast(func.string_to_array(bindparam(name, type_=Text), _SEPARATOR),
                              ARRAY(kind)) for name, kind in _COLUMNS.items())
                       ).table_valued(*(column(name, kind) for name, kind in _COLUMNS.items())
                                      ).render_derived(name="file")
    stored = _metric.alias("stored")
    chosen = select(*(file.c[name] for name in _COLUMNS), literal("import").label("source")
                    ).select_from(file.outerjoin(stored, and_(
                        *(stored.c[name] == file.c[name] for name in _KEY)))
                    ).where(or_(stored.c.id.is_(None),
                                *(stored.c[name].is_distinct_from(file.c[name])
                                  for name in _VALUES)))
    statement = postgresql.insert(_metric).from_select([*_COLUMNS, "source"], chosen)
    return statement.on_conflict_do_update(  # only a concurrent writer gets here
        index_elements=list(_KEY),
        set_={name: statement.excluded[name] for name in (*_VALUES, "source")},
    ).returning(literal_column("xmax = 0"))  # no deleting transaction yet: inserted


_UPSERT_ROWS = _upsert_rows()
_UPSERT_ARRAYS = _upsert_arrays()
