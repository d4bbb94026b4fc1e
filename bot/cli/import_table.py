"""Reading an import CSV: the file, its header and its cells, with line numbers.

Shared by the people and metrics imports. File-level problems (unreadable, not
UTF-8, empty, a bad header) reject the whole file; cell-level problems mark the
row bad and the caller decides whether to skip it.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NoReturn

from sqlalchemy.orm import Session

from storage.locks import Busy, hold_import_lock

MAX_CELL = 500
LOCK_WAIT = 30.0  # seconds an import waits for another one to finish
# Stripped from both ends of a cell besides ordinary whitespace (str.strip covers NBSP).
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"
# Unicode's control characters (category Cc) are exactly these 65: one regex search per
# cell, not a category look-up per character (that was a third of a re-import's time).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")

Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What an import did (or would have done): counts and every bad row with its line."""

    path: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    bad: list[tuple[int | None, str]] = field(default_factory=list)
    rejected: bool = False
    file_problem: bool = False

    def add(self, line: int | None, reason: str) -> None:
        self.bad.append((line, reason))

    def in_file_order(self) -> ImportReport:
        """Sort ``bad`` by line (whole-file problems first), whatever check found them."""
        self.bad.sort(key=lambda problem: problem[0] or 0)
        return self

    @property
    def bad_lines(self) -> list[int]:
        return sorted({line for line, _ in self.bad if line is not None})

    def summary(self) -> str:
        """A headline, then one indented line per problem, in file order."""
        if self.rejected:
            head = f"{self.path}: nothing imported"
            if not self.file_problem:
                bad = len(self.bad_lines)
                head += (
                    f": {bad} bad row{'s' if bad != 1 else ''}"
                    " (fix them, or import the others with --skip-bad)"
                )
        else:
            head = (
                f"{self.path}: {self.created} created, {self.updated} updated, "
                f"{self.unchanged} unchanged, {self.skipped} skipped"
            )
        lines = [f"  line {line}: {reason}" if line else f"  {reason}" for line, reason in self.bad]
        return "\n".join([head, *lines])


class ImportRejected(ValueError):
    """Nothing was stored; ``report`` says why, line by line."""

    def __init__(self, report: ImportReport) -> None:
        report.rejected = True
        self.report = report.in_file_order()
        super().__init__(report.summary())


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its first physical line in the file and its cells by column."""

    line: int
    cells: dict[str, str]


def read_rows(
    path: str | Path, report: ImportReport, required: Sequence[str], optional: Sequence[str] = ()
) -> list[Row]:
    """The file's data rows, cells normalised; bad cells are added to ``report``.

    Raises :class:`ImportRejected` when the file as a whole cannot be used.
    """
    return list(stream_rows(path, report, required, optional))


def stream_rows(
    path: str | Path, report: ImportReport, required: Sequence[str], optional: Sequence[str] = ()
) -> Iterator[Row]:
    """As :func:`read_rows`, one row at a time: memory does not grow with the file. The
    file is opened now (a missing file is rejected at once); a problem further in (not
    UTF-8, bad CSV) raises :class:`ImportRejected` when the reading reaches it."""
    handle = _open(Path(path), report)

    def rows() -> Iterator[Row]:
        with handle:
            yield from _rows_of(handle, report, required, optional)

    return rows()


def rows_in(
    raw: bytes, report: ImportReport, required: Sequence[str], optional: Sequence[str] = ()
) -> list[Row]:
    """:func:`read_rows` on a file's bytes: the part that needs no file system."""
    return list(_rows_of(io.BytesIO(raw), report, required, optional))


def _rows_of(
    raw: Iterable[bytes], report: ImportReport, required: Sequence[str], optional: Sequence[str]
) -> Iterator[Row]:
    records = _records(_text_lines(raw, report), report)
    first = next(records, None)
    if first is None:
        _fail(report, None, f"the file is empty (expected a header line: {','.join(required)})")
    header_line, header = first
    columns = _check_header(header_line, header, required, optional, report)
    for line, cells in records:
        report.rows += 1
        row = _row(line, cells, columns, report)
        if row is not None:
            yield row


def count_lines(path: str | Path) -> int:
    """Physical lines in the file, read in blocks (a progress bar's total)."""
    lines = 0
    last = b"\n"
    with Path(path).open("rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def lock_imports(session: Session, report: ImportReport, wait: float = LOCK_WAIT) -> None:
    """One import at a time (people or metrics): wait for a running one to finish, so
    this one reads what it stored; after ``wait`` seconds give up, nothing stored."""
    try:
        hold_import_lock(session, wait)
    except Busy:
        _fail(report, None, "another import is running; try again when it has finished")


def _fail(report: ImportReport, line: int | None, reason: str) -> NoReturn:
    report.add(line, reason)
    report.file_problem = True
    raise ImportRejected(report)


def _open(path: Path, report: ImportReport) -> BinaryIO:
    try:
        return path.open("rb")
    except FileNotFoundError:
        _fail(report, None, "no such file")
    except IsADirectoryError:
        _fail(report, None, "is a directory, not a CSV file")
    except OSError as exc:
        _fail(report, None, f"cannot be read ({exc.strerror or exc})")


_LINE_END = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _text_lines(raw: Iterable[bytes], report: ImportReport) -> Iterator[str]:
    """UTF-8 text (a leading BOM dropped) line by line, each line ending as in the file
    (\\n, \\r\\n or a lone \\r, as the csv module expects them)."""
    for number, line in enumerate(raw, start=1):
        if number == 1:
            if line.startswith((b"\xff\xfe", b"\xfe\xff")):
                _fail(report, 1, 'the file is UTF-16 text; save it as "CSV UTF-8"')
            line = line.removeprefix(codecs.BOM_UTF8)
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            _fail(report, number, f"the file is not UTF-8 text (byte 0x{line[exc.start]:02x}); "
                                  'save it as "CSV UTF-8"')
        yield from _LINE_END.findall(text)


def _records(lines: Iterator[str], report: ImportReport) -> Iterator[tuple[int, list[str]]]:
    """Non-blank CSV records, each with the physical line it starts on, cells cleaned
    (:func:`_clean`, once per cell)."""
    reader = csv.reader(lines, strict=True)
    start = 1
    try:
        for raw in reader:
            # An ASCII record (the common case) is NFC and has no invisible mark: stripping
            # each cell is all _clean would do, done here without a call per cell.
            cells = (list(map(str.strip, raw)) if "".join(raw).isascii()
                     else [_clean(cell) for cell in raw])
            if any(cells):
                yield start, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        _fail(report, start, f"cannot be read as CSV ({exc})")


def _check_header(
    line: int,
    header: list[str],
    required: Sequence[str],
    optional: Sequence[str],
    report: ImportReport,
) -> list[str]:
    columns = [cell.lower() for cell in header]
    expected = ",".join(required)
    problems = []
    if len(columns) == 1 and ";" in columns[0]:
        problems.append(f"the header uses ';' between columns; save it with commas: {expected}")
    else:
        missing = [c for c in required if c not in columns]
        unknown = [c for c in columns if c and c not in required and c not in optional]
        twice = sorted({c for c in columns if c and columns.count(c) > 1})
        unnamed = [str(i + 1) for i, c in enumerate(columns) if not c]
        if missing:
            problems.append(f"missing column{'s' * (len(missing) > 1)}: {', '.join(missing)}")
        if unknown:
            allowed = ", ".join([*required, *optional])
            problems.append(
                f"unknown column{'s' * (len(unknown) > 1)}: {', '.join(unknown)}"
                f" (the columns are {allowed})"
            )
        if twice:
            problems.append(f"column{'s' * (len(twice) > 1)} given twice: {', '.join(twice)}")
        if unnamed:
            problems.append(f"column {', '.join(unnamed)} of the header has no name")
    if problems:
        for problem in problems:
            report.add(line, problem)
        report.file_problem = True
        raise ImportRejected(report)
    return columns


def _row(line: int, cells: list[str], columns: list[str], report: ImportReport) -> Row | None:
    if len(cells) != len(columns):
        report.add(
            line,
            f"has {len(cells)} cells but the header has {len(columns)}"
            " (a value with a comma needs double quotes)",
        )
        return None
    if max(map(len, cells), default=0) <= MAX_CELL and not _CONTROL.search("".join(cells)):
        return Row(line, dict(zip(columns, cells, strict=True)))  # every cell is fine
    values: dict[str, str] = {}
    ok = True
    for column, value in zip(columns, cells, strict=True):
        if len(value) > MAX_CELL:
            report.add(line, f"{column} is longer than {MAX_CELL} characters")
            ok = False
        elif _CONTROL.search(value):
            report.add(line, f"{column} contains a line break or control character")
            ok = False
        values[column] = value
    return Row(line, values) if ok else None


def _clean(cell: str) -> str:
    """NFC (so é typed two ways is one é), without surrounding space or invisible marks."""
    if cell.isascii():  # NFC already, and no invisible mark: the common case, made quick
        return cell.strip()
    return unicodedata.normalize("NFC", cell).strip().strip(_INVISIBLE).strip()


PROGRESS_EVERY = 250


def tick(progress: Progress | None, done: int, total: int) -> None:
    """Tell ``progress`` every few hundred rows, and at the end."""
    if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
        progress(done, total)
