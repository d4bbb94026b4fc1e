"""``coach people import``: the org chart from a CSV, upserted by email.

Everything is checked before anything is written: cells, duplicates, platform
ids, managers (in the file or already stored), that whoever has reports is a
manager or a leader, and reporting-line loops, all over the org as it would be
after the import. People go into the default organisation; one import runs at a time.

The file streams: each row is parsed as it is read (only the compact parsed rows are
kept, never the raw cells), the stored org is read as plain tuples, and the writes are
Core bulk statements in chunks: new people inserted with their manager, top down in
waves (a manager may come after their reports in the file), then the stored people's
changes as one executemany per chunk.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import batched
from pathlib import Path
from typing import Any, NamedTuple, cast

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
from storage.models import DEFAULT_ORG, Person
from storage.people import COACHING_ROLES

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
    parsed: list[PersonRow] = []
    file_lines: dict[str, int] = {}  # each email's last line, for "line N is bad"
    for row in stream_rows(path, report, REQUIRED, OPTIONAL):
        file_lines[row.cells["email"].lower()] = row.line
        if (person := _parse(row, zones, report)) is not None:
            parsed.append(person)
    lock_imports(session, report, lock_wait)
    conn = session.connection()
    stored = {p.email.lower(): p for p in map(StoredPerson._make, conn.execute(_STORED))}
    good = _unique(parsed, report)
    del parsed
    while True:  # dropping a row can undo what another row relied on: check until stable
        kept = len(good)
        _check_platform_ids(good, stored, report)
        _check_reporting_lines(good, stored, file_lines, report)
        if len(good) == kept:
            break
    if report.bad and not skip_bad:
        raise ImportRejected(report)
    report.skipped = len(report.bad_lines)
    try:
        _write(conn, sorted(good.values(), key=lambda r: r.line), stored, now, report,
               progress)
        session.expire_all()  # written with Core: what the session holds is stale
    except IntegrityError:
        report.add(None, "the stored people changed during the import (a Slack or Teams id "
                         "was linked meanwhile); nothing was imported: run it again")
        report.file_problem = True
        raise ImportRejected(report) from None
    return report.in_file_order()


def aware_utc(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime (UTC)")
    return now.astimezone(UTC)


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


def _unique(parsed: Sequence[PersonRow], report: ImportReport) -> dict[str, PersonRow]:
    """The first row of each email; a later one is a bad row."""
    good: dict[str, PersonRow] = {}
    for row in parsed:
        first = good.setdefault(row.email, row)
        if first is not row:
            report.add(row.line, f"email {row.email} is already on line {first.line}")
    return good


def _check_platform_ids(
    good: dict[str, PersonRow], stored: Mapping[str, StoredPerson], report: ImportReport
) -> None:
    """A Slack or Teams user id belongs to one person, after the import as before."""
    for column in OPTIONAL:
        holders = {getattr(p, column): e for e, p in stored.items() if getattr(p, column)}
        first_line: dict[str, int] = {}
        for row in sorted(good.values(), key=lambda r: r.line):
            value = getattr(row, column)
            if value is None:
                continue
            holder = holders.get(value)
            # The stored holder keeps the id unless the file gives them another one.
            keeps = holder in stored and (
                holder not in good or getattr(good[holder], column) is None
            )
            if value in first_line:
                report.add(row.line, f"{column} {value} is already on line {first_line[value]}")
                del good[row.email]
            elif holder is not None and holder != row.email and keeps:
                report.add(row.line, f"{column} {value} already belongs to {holder}")
                del good[row.email]
            else:
                first_line[value] = row.line


def _check_reporting_lines(
    good: dict[str, PersonRow],
    stored: Mapping[str, StoredPerson],
    file_lines: Mapping[str, int],
    report: ImportReport,
) -> None:
    """Managers must exist, be managers or leaders, and reporting lines must not loop;
    repeat until stable, since dropping a bad row can strand its reports (its old
    stored line returns).
    """
    stored_ids = {p.id: email for email, p in stored.items()}
    while True:
        bad: dict[str, str] = {}
        for email, row in good.items():
            manager = row.manager_email
            if manager is None or manager in good or manager in stored:
                continue
            if manager in file_lines:
                line = file_lines[manager]
                bad[email] = f"manager {manager} is not imported (line {line} is bad)"
            else:
                bad[email] = f"unknown manager email {manager} (not in this file nor stored)"
        managers = {
            email: stored_ids.get(p.manager_id) if p.manager_id is not None else None
            for email, p in stored.items()
        }
        managers.update({email: row.manager_email for email, row in good.items()})
        if not bad:
            for loop in _loops(managers):
                for i, email in enumerate(loop):
                    if email in good:
                        bad[email] = f"reporting line loops: {_loop_text(loop, i)}"
        if not bad:
            bad = _bosses_who_cannot_manage(good, stored, managers)
        if not bad:
            return
        for email, reason in bad.items():
            report.add(good.pop(email).line, reason)


def _bosses_who_cannot_manage(
    good: Mapping[str, PersonRow], stored: Mapping[str, StoredPerson],
    managers: Mapping[str, str | None],
) -> dict[str, str]:
    """Whoever has reports after the import must be a manager or a leader. A file row
    that demotes a manager who keeps reports is the bad row; otherwise the rows that
    name a rep (or an admin) as their manager are."""
    roles = {email: p.role for email, p in stored.items()}
    roles.update({email: row.role for email, row in good.items()})
    reports: dict[str, list[str]] = {}
    for email, boss in managers.items():
        if boss is not None:
            reports.setdefault(boss, []).append(email)
    bad: dict[str, str] = {}
    for boss, under in reports.items():
        role = roles.get(boss)
        if role is None or role in COACHING_ROLES:
            continue
        demoted = boss in good and boss in stored and stored[boss].role in COACHING_ROLES
        if demoted:
            names = ", ".join(sorted(under)[:3]) + (" …" if len(under) > 3 else "")
            bad[boss] = (f"{boss} still has {len(under)} report{'s' * (len(under) > 1)}"
                         f" ({names}): give them another manager before making {boss} "
                         f"a {role}")
            continue
        for email in under:
            if email in good:
                bad[email] = (f"manager {boss} is a {role}; a manager must be a manager "
                              "or a leader")
    return bad


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


def _write(
    conn: Connection,
    rows: Sequence[PersonRow],
    stored: Mapping[str, StoredPerson],
    now: datetime,
    report: ImportReport,
    progress: Progress | None,
) -> None:
    """Platform ids the file moves freed first; then the new people inserted with their
    manager in waves (those whose manager is stored or already inserted, in chunks: a
    person is written once, never inserted then updated); then the stored people's
    changes, a chunk per executemany."""
    _free_moved_platform_ids(conn, rows, stored)
    ids = {email: person.id for email, person in stored.items()}
    done = 0
    waiting = [row for row in rows if row.email not in stored]
    while waiting:
        ready = [row for row in waiting if row.manager_email is None
                 or row.manager_email in ids]
        if not ready:  # the checks refuse reporting loops: never here
            raise RuntimeError("people import: a reporting loop passed the checks")
        for chunk in batched(ready, CHUNK):
            ids.update(zip((row.email for row in chunk), _new_ids(conn, len(chunk)),
                           strict=True))
            conn.execute(_CREATE, [
                {"id": ids[row.email], "org_id": DEFAULT_ORG, **_columns(row, None),
                 "manager_id": ids[row.manager_email] if row.manager_email else None,
                 "active": True, "created_at": now, "updated_at": now} for row in chunk])
            report.created += len(chunk)
            for _ in chunk:
                done += 1
                tick(progress, done, len(rows))
        waiting = [row for row in waiting if row.email not in ids]
        _fresh_statistics(conn)
    for chunk in batched((row for row in rows if row.email in stored), CHUNK):
        changes = []
        for row in chunk:
            manager_id = ids[row.manager_email] if row.manager_email else None
            before = stored[row.email]
            if (values := _values(row, before.id, before, manager_id, now)) is not None:
                report.updated += 1
                changes.append(values)
            else:
                report.unchanged += 1
            done += 1
            tick(progress, done, len(rows))
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


def _free_moved_platform_ids(conn: Connection, rows: Sequence[PersonRow],
                             stored: Mapping[str, StoredPerson]) -> None:
    """Clear the stored platform ids the file changes, before any is set again: ids that
    swap or move between people would otherwise meet on the unique index mid-way."""
    for column in OPTIONAL:
        moved = [{"person_id": person.id} for row in rows
                 if (person := stored.get(row.email)) is not None
                 and (wanted := getattr(row, column)) is not None
                 and getattr(person, column) not in (None, wanted)]
        for chunk in batched(moved, CHUNK):
            conn.execute(_FREE[column], list(chunk))


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
