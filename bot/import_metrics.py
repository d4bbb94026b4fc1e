"""``coach metrics import``: results and activity per person and period, upserted.

A row is keyed by (person, period_start, period_end, metric); the person must
already be stored (import people first).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.import_people import aware_utc
from bot.import_table import (
    LOCK_WAIT,
    ImportRejected,
    ImportReport,
    Progress,
    Row,
    lock_imports,
    read_rows,
    tick,
)
from storage.models import DEFAULT_ORG, Metric, Person

KINDS = ("result", "activity")
REQUIRED = ("email", "period_start", "period_end", "metric", "kind", "target", "actual")
MAX_METRIC = 200
_CHUNK = 500  # ids per IN (...) query, well under SQLite's bound-parameter limit

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

    ``now`` is checked but not stored: the metric table keeps no timestamps.
    """
    aware_utc(now)
    report = ImportReport(str(path))
    rows = read_rows(path, report, REQUIRED)
    parsed = [p for row in rows if (p := _parse(row, report)) is not None]
    lock_imports(session, report, lock_wait)
    people = _person_ids(session, {row.email for row in parsed})
    good: dict[Key, MetricRow] = {}
    for row in parsed:
        person_id = people.get(row.email)
        if person_id is None:
            report.add(row.line, f"unknown person email {row.email} (import people first)")
            continue
        key = (person_id, row.period_start, row.period_end, row.metric)
        first = good.setdefault(key, row)
        if first is not row:
            report.add(row.line, f"same email, period and metric as line {first.line}")
    if report.bad and not skip_bad:
        raise ImportRejected(report)
    report.skipped = len(report.bad_lines)
    _write(session, good, report, progress)
    return report.in_file_order()


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


def _person_ids(session: Session, emails: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(emails)):
        query = select(Person.id, Person.email).where(
            Person.org_id == DEFAULT_ORG, func.lower(Person.email).in_(chunk))
        found.update({email.lower(): person_id for person_id, email in session.execute(query)})
    return found


def _write(
    session: Session,
    good: Mapping[Key, MetricRow],
    report: ImportReport,
    progress: Progress | None,
) -> None:
    stored = _stored(session, good)
    rows = sorted(good.items(), key=lambda item: item[1].line)
    for done, (key, row) in enumerate(rows, start=1):
        metric = stored.get(key)
        if metric is None:
            session.add(
                Metric(
                    person_id=key[0],
                    period_start=row.period_start,
                    period_end=row.period_end,
                    metric=row.metric,
                    kind=row.kind,
                    target=row.target,
                    actual=row.actual,
                    source="import",
                )
            )
            report.created += 1
        elif (metric.kind, metric.target, metric.actual) != (row.kind, row.target, row.actual):
            metric.kind, metric.target, metric.actual = row.kind, row.target, row.actual
            metric.source = "import"
            report.updated += 1
        else:
            report.unchanged += 1
        tick(progress, done, len(rows))
    session.flush()


def _stored(session: Session, good: Mapping[Key, MetricRow]) -> dict[Key, Metric]:
    """The stored metrics the file's keys may hit, fetched per chunk of people."""
    if not good:
        return {}
    first = min(key[1] for key in good)
    last = max(key[1] for key in good)
    stored: dict[Key, Metric] = {}
    for chunk in _chunks(sorted({key[0] for key in good})):
        query = select(Metric).where(
            Metric.person_id.in_(chunk), Metric.period_start.between(first, last)
        )
        for metric in session.scalars(query):
            stored[(metric.person_id, metric.period_start, metric.period_end, metric.metric)] = (
                metric
            )
    return stored


def _chunks[T](items: Sequence[T]) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]
