"""The whole-file checks of ``coach people import``, in a temporary SQLite file.

The file's rows and the stored org are copied (streamed, a chunk at a time) into a SQLite
file of their own, deleted afterwards, and every check that needs the whole file
(duplicates, platform ids, managers, roles, reporting loops) is a set-based query there:
the import's memory does not grow with the file or the org. The same file, whichever
database the org is stored in.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

from storage.people import COACHING_ROLES

PLATFORM_IDS = ("slack_user_id", "teams_user_id")
PAGE = 2000  # rows fetched at a time from the staging file

_SCHEMA = """
CREATE TABLE file_row (line INTEGER PRIMARY KEY, email TEXT NOT NULL, parsed INTEGER NOT NULL,
    name TEXT, role TEXT, manager TEXT, timezone TEXT, slack_user_id TEXT,
    teams_user_id TEXT);
CREATE TABLE stored (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, email TEXT NOT NULL,
    name TEXT, role TEXT, manager_id INTEGER, timezone TEXT, slack_user_id TEXT,
    teams_user_id TEXT);
CREATE TABLE good (email TEXT PRIMARY KEY, line INTEGER NOT NULL UNIQUE);
CREATE TABLE after_org (email TEXT PRIMARY KEY, manager TEXT, role TEXT, level INTEGER);
CREATE TABLE person_id (email TEXT PRIMARY KEY, id INTEGER NOT NULL);
CREATE TABLE wave (line INTEGER PRIMARY KEY);
"""
# Made once the rows are in (faster than keeping them up to date row by row).
_INDEXES = """
CREATE INDEX file_row_email ON file_row (email);
CREATE INDEX file_row_slack ON file_row (slack_user_id) WHERE slack_user_id IS NOT NULL;
CREATE INDEX file_row_teams ON file_row (teams_user_id) WHERE teams_user_id IS NOT NULL;
CREATE INDEX stored_slack ON stored (slack_user_id) WHERE slack_user_id IS NOT NULL;
CREATE INDEX stored_teams ON stored (teams_user_id) WHERE teams_user_id IS NOT NULL;
CREATE INDEX after_org_manager ON after_org (manager);
CREATE INDEX after_org_level ON after_org (level);
"""
_ROW_COLUMNS = ("email", "name", "role", "manager", "timezone", "slack_user_id",
                "teams_user_id")


class Bad(NamedTuple):
    line: int
    email: str
    reason: str


class Staging:
    """A temporary SQLite file holding the file's rows and the stored org."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="coach-import-")
        self.db = sqlite3.connect(Path(self._dir.name) / "staging.db", isolation_level=None)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -16000",
                       "temp_store = FILE"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(_SCHEMA)
        self.db.execute("BEGIN")  # one transaction, never committed: the file is thrown away
        self._rows: list[tuple[Any, ...]] = []
        self._indexed = False

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()
        self._dir.cleanup()

    # Loading ---------------------------------------------------------------------------

    def add_row(self, line: int, email: str, person: Any | None) -> None:
        """One line of the file that could be read: its email (lowercased, for "line N is
        bad"), and its parsed values when they are valid (``person``, a PersonRow)."""
        if person is None:
            self._rows.append((line, email, 0, None, None, None, None, None, None))
        else:
            self._rows.append((line, person.email, 1, person.name, person.role,
                               person.manager_email, person.timezone, person.slack_user_id,
                               person.teams_user_id))
        if len(self._rows) >= PAGE:
            self._flush()

    def _flush(self) -> None:
        self.db.executemany("INSERT INTO file_row VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            self._rows)
        self._rows.clear()

    def add_stored(self, people: Sequence[Sequence[Any]]) -> None:
        """Stored people, as StoredPerson tuples (id, email, name, role, manager_id,
        timezone, slack_user_id, teams_user_id)."""
        self.db.executemany("INSERT INTO stored VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [(p[0], str(p[1]).lower(), *p[1:]) for p in people])

    def loaded(self) -> None:
        """Everything is in: index it, and keep the first valid row of each email."""
        self._flush()
        for index in filter(str.strip, _INDEXES.split(";")):
            self.db.execute(index)
        self.db.execute("INSERT INTO good SELECT email, min(line) FROM file_row WHERE parsed "
                        "GROUP BY email")
        self._indexed = True

    # Checks ----------------------------------------------------------------------------

    def good_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM good").fetchone()[0])

    def drop(self, bad: Sequence[Bad]) -> None:
        self.db.executemany("DELETE FROM good WHERE email = ?", [(b.email,) for b in bad])

    def repeated_emails(self) -> list[Bad]:
        """Valid rows whose email an earlier valid row already has."""
        return [Bad(line, email, f"email {email} is already on line {first}")
                for line, email, first in self.db.execute(
                    "SELECT r.line, r.email, g.line FROM file_row r JOIN good g "
                    "ON g.email = r.email WHERE r.parsed AND r.line > g.line")]

    def platform_ids_taken(self, column: str) -> list[Bad]:
        """Rows giving a Slack or Teams id that a stored person keeps (the file does not
        give that person another one)."""
        assert column in PLATFORM_IDS
        return [Bad(line, email, f"{column} {value} already belongs to {holder}")
                for line, email, value, holder in self.db.execute(f"""
            SELECT r.line, r.email, r.{column}, s.key FROM good g
            JOIN file_row r ON r.line = g.line
            JOIN stored s ON s.{column} = r.{column}
            WHERE s.key <> r.email AND NOT EXISTS (
                SELECT 1 FROM good hg JOIN file_row hr ON hr.line = hg.line
                WHERE hg.email = s.key AND hr.{column} IS NOT NULL)""")]

    def platform_ids_repeated(self, column: str) -> list[Bad]:
        """Rows giving a Slack or Teams id that an earlier row of the file gives."""
        assert column in PLATFORM_IDS
        return [Bad(line, email, f"{column} {value} is already on line {first}")
                for line, email, value, first in self.db.execute(f"""
            WITH claim AS (SELECT r.line, r.email, r.{column} AS value FROM good g
                           JOIN file_row r ON r.line = g.line WHERE r.{column} IS NOT NULL)
            SELECT c.line, c.email, c.value, f.first FROM claim c
            JOIN (SELECT value, min(line) AS first FROM claim GROUP BY value) f
              ON f.value = c.value
            WHERE c.line > f.first""")]

    def managers_missing(self) -> list[Bad]:
        """Rows whose manager is neither kept from the file nor stored."""
        bad = []
        for line, email, manager, manager_line in self.db.execute("""
                SELECT r.line, r.email, r.manager,
                       (SELECT max(f.line) FROM file_row f WHERE f.email = r.manager)
                FROM good g JOIN file_row r ON r.line = g.line
                WHERE r.manager IS NOT NULL
                  AND r.manager NOT IN (SELECT email FROM good)
                  AND r.manager NOT IN (SELECT key FROM stored)"""):
            bad.append(Bad(line, email, f"manager {manager} is not imported (line "
                                        f"{manager_line} is bad)" if manager_line is not None
                           else f"unknown manager email {manager} (not in this file nor "
                                "stored)"))
        return bad

    def build_org_after(self) -> None:
        """The org as it would be after the import (kept rows over the stored people), each
        person with their manager's email."""
        self.db.execute("DELETE FROM after_org")
        self.db.execute("INSERT INTO after_org (email, manager, role) SELECT g.email, "
                        "r.manager, r.role FROM good g JOIN file_row r ON r.line = g.line")
        self.db.execute("""INSERT INTO after_org (email, manager, role)
            SELECT s.key, m.key, s.role FROM stored s LEFT JOIN stored m ON m.id = s.manager_id
            WHERE s.key NOT IN (SELECT email FROM good)""")

    def unrooted(self) -> Iterator[tuple[str, str | None, int | None]]:
        """Who, after the import, does not reach the top of the org by their managers (so
        is in or under a reporting loop): (email, manager email, line if from the file).
        Found top down a level at a time, each level by the manager index."""
        self.db.execute("UPDATE after_org SET level = 0 WHERE manager IS NULL "
                        "OR manager NOT IN (SELECT email FROM after_org)")
        level = 0
        while self.db.execute("""UPDATE after_org SET level = :next WHERE email IN (
                SELECT a.email FROM after_org f JOIN after_org a ON a.manager = f.email
                WHERE f.level = :level AND a.level IS NULL)""",
                              {"level": level, "next": level + 1}).rowcount:
            level += 1
        yield from self.db.execute("SELECT a.email, a.manager, g.line FROM after_org a "
                                   "LEFT JOIN good g ON g.email = a.email "
                                   "WHERE a.level IS NULL")

    def bosses_who_cannot_manage(self) -> list[Bad]:
        """Whoever has reports after the import must be a manager or a leader. A file row
        that demotes a manager who keeps reports is the bad row; otherwise the rows that
        name a rep (or an admin) as their manager are."""
        coaching = ", ".join("?" * len(COACHING_ROLES))
        bosses = self.db.execute(f"""
            SELECT b.email, b.role, g.line, s.role, count(*) FROM after_org a
            JOIN after_org b ON b.email = a.manager
            LEFT JOIN good g ON g.email = b.email LEFT JOIN stored s ON s.key = b.email
            WHERE b.role NOT IN ({coaching}) GROUP BY b.email, b.role, g.line, s.role
            ORDER BY b.email""", COACHING_ROLES).fetchall()
        bad: dict[str, Bad] = {}
        for boss, role, line, stored_role, reports in bosses:
            if line is not None and stored_role in COACHING_ROLES:
                first = [email for (email,) in self.db.execute(
                    "SELECT email FROM after_org WHERE manager = ? ORDER BY email LIMIT 3",
                    (boss,))]
                names = ", ".join(first) + (" …" if reports > 3 else "")
                bad[boss] = Bad(line, boss, f"{boss} still has {reports} report"
                                            f"{'s' * (reports > 1)} ({names}): give them "
                                            f"another manager before making {boss} a {role}")
                continue
            for email, report_line in self.db.execute(
                    "SELECT a.email, g.line FROM after_org a JOIN good g ON g.email = a.email "
                    "WHERE a.manager = ?", (boss,)):
                bad[email] = Bad(report_line, email, f"manager {boss} is a {role}; a manager "
                                                     "must be a manager or a leader")
        return list(bad.values())

    # Writing ---------------------------------------------------------------------------

    def moved_platform_ids(self, column: str) -> Iterator[list[int]]:
        """Stored people whose Slack or Teams id the file changes, a page at a time."""
        assert column in PLATFORM_IDS
        cursor = self.db.execute(f"""SELECT s.id FROM good g JOIN file_row r ON r.line = g.line
            JOIN stored s ON s.key = g.email
            WHERE r.{column} IS NOT NULL AND s.{column} IS NOT NULL
              AND s.{column} <> r.{column}""")
        while page := cursor.fetchmany(PAGE):
            yield [person_id for (person_id,) in page]

    def start_writing(self) -> None:
        self.db.execute("INSERT INTO person_id SELECT key, id FROM stored")

    def next_wave(self) -> int:
        """New people whose manager is stored or already written (or who have none)."""
        self.db.execute("DELETE FROM wave")
        return self.db.execute("""INSERT INTO wave SELECT g.line FROM good g
            JOIN file_row r ON r.line = g.line
            WHERE g.email NOT IN (SELECT email FROM person_id)
              AND (r.manager IS NULL OR r.manager IN (SELECT email FROM person_id))""").rowcount

    def waiting(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM good WHERE email NOT IN "
                                   "(SELECT email FROM person_id)").fetchone()[0])

    def wave_pages(self) -> Iterator[list[tuple[Any, ...]]]:
        """The wave's rows in file order, a page at a time: the row's columns (as
        ``_ROW_COLUMNS``) and the manager's id."""
        yield from self._pages(f"""SELECT w.line, {self._row_columns()}, m.id FROM wave w
            JOIN file_row r ON r.line = w.line LEFT JOIN person_id m ON m.email = r.manager
            WHERE w.line > ? ORDER BY w.line LIMIT {PAGE}""")

    def written(self, ids: Sequence[tuple[str, int]]) -> None:
        self.db.executemany("INSERT INTO person_id VALUES (?, ?)", ids)

    def stored_pages(self) -> Iterator[list[tuple[Any, ...]]]:
        """The kept rows of stored people in file order, a page at a time: the row's
        columns, the manager's id, then the stored person (as StoredPerson)."""
        yield from self._pages(f"""SELECT g.line, {self._row_columns()}, m.id, s.id, s.email,
                s.name, s.role, s.manager_id, s.timezone, s.slack_user_id, s.teams_user_id
            FROM good g JOIN file_row r ON r.line = g.line JOIN stored s ON s.key = g.email
            LEFT JOIN person_id m ON m.email = r.manager
            WHERE g.line > ? ORDER BY g.line LIMIT {PAGE}""")

    @staticmethod
    def _row_columns() -> str:
        return ", ".join(f"r.{column}" for column in _ROW_COLUMNS)

    def _pages(self, query: str) -> Iterator[list[tuple[Any, ...]]]:
        """Keyset pages by line: each page's statement is done before the caller writes."""
        last = 0
        while page := self.db.execute(query, (last,)).fetchall():
            yield page
            last = page[-1][0]
