"""``coach people import``: the org chart from a CSV, upserted by email.

Everything is checked before anything is written: cells, duplicates, platform
ids, managers (in the file or already stored), that whoever has reports is a
manager or a leader, and reporting-line loops, all over the org as it would be
after the import. People go into the default organisation; one import runs at a time.

The file streams: each row is parsed as it is read and staged, with the stored org, in a
temporary SQLite file (``people_staging``), where the whole-file checks are queries, so
memory does not grow with the file or the org. The writes are Core bulk statements in
chunks: new people inserted with their manager, top down in waves (a manager may come
after their reports in the file), then the stored people's changes as one executemany
per chunk.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import batched
from pathlib import Path
from typing import Any, NamedTuple, NoReturn, cast

from sqlalchemy import Connection, Table, bindparam, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.cli.import_table import (
    LOCK_WAIT,
    ImportRejected,
    ImportReport,
    Progress,
    Row,
    lock_imports,
    stream_rows,
    tick,
)
from bot.cli.people_staging import Bad, Staging
from storage.models import DEFAULT_ORG, Person

ROLES = ("rep", "manager", "leader", "admin")
REQUIRED = ("email", "name", "role", "manager_email", "timezone")
OPTIONAL = ("slack_user_id", "teams_user_id")
_LIMITS = {"email": 320, "name": 200, "slack_user_id": 64, "teams_user_id": 128}
_EMAIL = re.compile(
    r"^[^@\s\"(),:;<>\[\]\\.][^@\s\"(),:;<>\[\]\\]*@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}$"
)


CHUNK = 2000  # people written per bulk statement


class StoredPerson(NamedTuple):
    """A stored person as the checks and the writes need them (no ORM object)."""

    id: int
    email: str
    name: str
    role: str
    manager_id: int | None
    timezone: str
    slack_user_id: str | None
    teams_user_id: str | None


_person = cast(Table, Person.__table__)
_STORED = select(*(_person.c[f] for f in StoredPerson._fields)).where(
    _person.c.org_id == DEFAULT_ORG)
# New people get their ids before the insert (PostgreSQL: from the sequence; SQLite: past
# the largest, under the write lock every import holds), so nothing is read back: a batched
# RETURNING took five times as long per row, and reading the ids back by email met a
# planner with no statistics of the table being filled, which scanned it per look-up.
_CREATE = insert(_person)
_NEXT_IDS = text("SELECT nextval(pg_get_serial_sequence('person', 'id')) "
                 "FROM generate_series(1, :count)")
_LAST_ID = select(func.max(_person.c.id))
_COLUMNS = ("email", "name", "role", "timezone", "manager_id", "slack_user_id",
            "teams_user_id", "updated_at")
_CHANGE = (update(_person).where(_person.c.id == bindparam("person_id"))
           .values({column: bindparam(column) for column in _COLUMNS}))
_FREE = {column: update(_person).where(_person.c.id == bindparam("person_id"))
         .values({column: None}) for column in OPTIONAL}


@dataclass(frozen=True, slots=True)
class PersonRow:
    """One valid line of the people file."""

    line: int
    email: str
    name: str
    role: str
    manager_email: str | None
    timezone: str
    slack_user_id: str | None
    teams_user_id: str | None


def import_people(
    session: Session,
    path: str | Path,
    *,
    now: datetime,
    skip_bad: bool = False,
    progress: Progress | None = None,
    lock_wait: float = LOCK_WAIT,
) -> ImportReport:
    """Upsert the people in ``path``; the caller commits. See the module docstring."""
    now = aware_utc(now)
    report = ImportReport(str(path))
    zones = {zone.lower(): zone for zone in zoneinfo.available_timezones()}
    try:
        staging = Staging()
    except OSError as exc:
        _fail_staging(report, exc)
    with staging:
        try:
            _check_and_write(session, path, staging, zones, now, report, skip_bad, progress,
                             lock_wait)
        except sqlite3.Error as exc:  # the staging file, e.g. a full disk
            _fail_staging(report, exc)
    return report.in_file_order()


def _check_and_write(session: Session, path: str | Path, staging: Staging,
                     zones: Mapping[str, str], now: datetime, report: ImportReport,
                     skip_bad: bool, progress: Progress | None, lock_wait: float) -> None:
    for row in stream_rows(path, report, REQUIRED, OPTIONAL):
        staging.add_row(row.line, row.cells["email"].lower(), _parse(row, zones, report))
    lock_imports(session, report, lock_wait)
    conn = session.connection()
    for page in conn.execute(_STORED, execution_options={
            "stream_results": True, "yield_per": CHUNK}).partitions():
        staging.add_stored(page)
    check_file(staging, report)
    if report.bad and not skip_bad:
        raise ImportRejected(report)
    report.skipped = len(report.bad_lines)
    writing = session.begin_nested()  # a failure part way leaves nothing, caller commits
    try:
        _write(session.connection(), staging, now, report, progress)  # in the savepoint
    except IntegrityError:
        writing.rollback()
        report.add(None, "the stored people changed during the import (a Slack or Teams "
                         "id was linked meanwhile); nothing was imported: run it again")
        report.file_problem = True
        raise ImportRejected(report) from None
    except BaseException:
        writing.rollback()
        raise
    writing.commit()
    session.expire_all()  # written with Core: what the session holds is stale


def _fail_staging(report: ImportReport, problem: OSError | sqlite3.Error) -> NoReturn:
    report.add(None, "the import could not use its temporary file (it needs about 500 bytes "
                     "of disk a person, in TMPDIR or the system's temporary directory): "
                     f"{problem}; nothing was imported")
    report.file_problem = True
    raise ImportRejected(report) from None


def check_file(staging: Staging, report: ImportReport) -> None:
    """The whole-file checks, over the org as it would be after the import: duplicates,
    platform ids, then reporting lines; dropping a row can undo what another row relied
    on, so they repeat until nothing more is dropped."""
    staging.loaded()
    _drop(staging, staging.repeated_emails(), report)
    while True:
        kept = staging.good_count()
        for column in OPTIONAL:
            _drop(staging, staging.platform_ids_taken(column), report)
            _drop(staging, staging.platform_ids_repeated(column), report)
        _check_reporting_lines(staging, report)
        if staging.good_count() == kept:
            return


def _drop(staging: Staging, bad: Sequence[Bad], report: ImportReport) -> bool:
    for line, _, reason in bad:
        report.add(line, reason)
    staging.drop(bad)
    return bool(bad)


def _check_reporting_lines(staging: Staging, report: ImportReport) -> None:
    """Managers must exist, be managers or leaders, and reporting lines must not loop;
    repeat until stable, since dropping a bad row can strand its reports (its old
    stored line returns)."""
    while True:
        if _drop(staging, staging.managers_missing(), report):
            continue
        staging.build_org_after()
        if _drop(staging, _looping(staging), report):
            continue
        if not _drop(staging, staging.bosses_who_cannot_manage(), report):
            return


def _looping(staging: Staging) -> list[Bad]:
    """The file's rows in a reporting loop. Only the people who do not reach the top of
    the org are walked here (none, for a good file)."""
    managers: dict[str, str | None] = {}
    lines: dict[str, int] = {}
    for email, manager, line in staging.unrooted():
        managers[email] = manager
        if line is not None:
            lines[email] = line
    bad: dict[str, Bad] = {}
    for loop in _loops(managers):
        for i, email in enumerate(loop):
            if email in lines:
                bad[email] = Bad(lines[email], email, f"reporting line loops: "
                                                      f"{_loop_text(loop, i)}")
    return list(bad.values())


def aware_utc(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime (UTC)")
    return now.astimezone(UTC)


@functools.lru_cache(maxsize=4096)  # a manager's email comes back on each report's row
def is_email(value: str) -> bool:
    local = value.partition("@")[0]
    return bool(_EMAIL.match(value)) and len(local) <= 64 and ".." not in value


def _parse(row: Row, zones: Mapping[str, str], report: ImportReport) -> PersonRow | None:
    cells = row.cells
    problems: list[str] = []
    for column, limit in _LIMITS.items():
        if len(cells.get(column, "")) > limit:
            problems.append(f"{column} is longer than {limit} characters")
    email = _email(cells["email"], "email", problems)
    manager = _email(cells["manager_email"], "manager_email", problems) or None
    if not cells["name"]:
        problems.append("name is empty")
    role = cells["role"].lower()
    if role not in ROLES:
        got = f"{cells['role']!r}" if cells["role"] else "empty"
        problems.append(f"role is {got}; it must be one of {', '.join(ROLES)}")
    elif role == "rep" and not cells["manager_email"]:
        problems.append("a rep needs a manager_email")
    timezone = zones.get((cells["timezone"] or "UTC").lower())
    if timezone is None:
        problems.append(
            f"timezone {cells['timezone']!r} is not an IANA time zone"
            " (like Europe/Paris or America/New_York)"
        )
    for problem in problems:
        report.add(row.line, problem)
    if problems or timezone is None:
        return None
    return PersonRow(
        line=row.line,
        email=email,
        name=cells["name"],
        role=role,
        manager_email=manager,
        timezone=timezone,
        slack_user_id=cells.get("slack_user_id") or None,
        teams_user_id=cells.get("teams_user_id") or None,
    )


def _email(value: str, column: str, problems: list[str]) -> str:
    if not value:
        if column == "email":
            problems.append("email is empty")
        return ""
    if not is_email(value):
        problems.append(f"{column} {value!r} is not an email address")
    return value.lower()


def _loops(managers: Mapping[str, str | None]) -> list[list[str]]:
    """Every reporting loop once, its members in order; linear even for deep chains."""
    done: set[str] = set()
    loops: list[list[str]] = []
    for start in managers:
        trail: list[str] = []
        position: dict[str, int] = {}
        node: str | None = start
        while node is not None and node not in done and node not in position:
            position[node] = len(trail)
            trail.append(node)
            node = managers.get(node)
        if node is not None and node in position:
            loops.append(trail[position[node] :])
        done.update(trail)
    return loops


def _loop_text(loop: Sequence[str], start: int) -> str:
    """``a → b → a`` seen from ``loop[start]``; a long loop shows its ends only."""
    size = len(loop)
    shown = [loop[(start + k) % size] for k in range(size)] if size <= 8 else [
        *(loop[(start + k) % size] for k in range(3)),
        f"… ({size - 5} more)",
        *(loop[(start + k) % size] for k in range(size - 2, size)),
    ]
    return " → ".join([*shown, loop[start]])


def _write(conn: Connection, staging: Staging, now: datetime, report: ImportReport,
           progress: Progress | None) -> None:
    """Platform ids the file moves freed first; then the new people inserted with their
    manager in waves (those whose manager is stored or already inserted, in chunks: a
    person is written once, never inserted then updated); then the stored people's
    changes, a chunk per executemany."""
    for column in OPTIONAL:  # ids that swap or move would otherwise meet mid-way
        for people in staging.moved_platform_ids(column):
            conn.execute(_FREE[column], [{"person_id": person_id} for person_id in people])
    total = staging.good_count()
    staging.start_writing()
    done = 0
    while staging.next_wave():
        for page in staging.wave_pages():
            for chunk in batched(page, CHUNK):
                rows = [PersonRow(*row[:8]) for row in chunk]
                ids = _new_ids(conn, len(rows))
                conn.execute(_CREATE, [
                    {"id": person_id, "org_id": DEFAULT_ORG, **_columns(row, None),
                     "manager_id": written[8], "active": True, "created_at": now,
                     "updated_at": now}
                    for row, person_id, written in zip(rows, ids, chunk, strict=True)])
                staging.written([(row.email, person_id)
                                 for row, person_id in zip(rows, ids, strict=True)])
                report.created += len(rows)
                for _ in rows:
                    done += 1
                    tick(progress, done, total)
        _fresh_statistics(conn)
    if staging.waiting():  # the checks refuse reporting loops: never here
        raise RuntimeError("people import: a reporting loop passed the checks")
    for page in staging.stored_pages():
        for chunk in batched(page, CHUNK):
            changes = []
            for written in chunk:
                row, manager_id = PersonRow(*written[:8]), written[8]
                before = StoredPerson(*written[9:])
                if (values := _values(row, before.id, before, manager_id, now)) is not None:
                    report.updated += 1
                    changes.append(values)
                else:
                    report.unchanged += 1
                done += 1
                tick(progress, done, total)
            if changes:
                conn.execute(_CHANGE, changes)


def _new_ids(conn: Connection, count: int) -> list[int]:
    """``count`` unused person ids."""
    if conn.dialect.name == "postgresql":
        return list(conn.scalars(_NEXT_IDS, {"count": count}))
    last = conn.scalar(_LAST_ID) or 0
    return list(range(last + 1, last + 1 + count))


def _fresh_statistics(conn: Connection) -> None:
    """PostgreSQL: the table's statistics as it now is, before the next wave. A table that
    was nearly empty when the import began keeps plans made for it empty — the foreign key
    check of every inserted report read the whole of person (seconds per thousand rows)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE person")


def _values(row: PersonRow, person_id: int, before: StoredPerson,
            manager_id: int | None, now: datetime) -> dict[str, Any] | None:
    """A stored person's columns after the row (one shape for every executemany); None
    when nothing would change."""
    wanted = {**_columns(row, before), "manager_id": manager_id}
    if all(getattr(before, k) == v for k, v in wanted.items()):
        return None
    return {"person_id": person_id, **wanted, "updated_at": now}


def _columns(row: PersonRow, before: StoredPerson | None) -> dict[str, Any]:
    """The row's columns but the manager; an empty slack_user_id / teams_user_id keeps
    the stored one (linked by the bot)."""
    wanted: dict[str, Any] = {"email": row.email, "name": row.name, "role": row.role,
                              "timezone": row.timezone}
    for column in OPTIONAL:
        value = getattr(row, column)
        wanted[column] = value if value is not None or before is None else getattr(before,
                                                                                   column)
    return wanted
