"""The CSV readers on arbitrary text: a file problem (ImportRejected) or row problems in the
report, never another exception. No database: the reader and the row parsers are pure."""

from __future__ import annotations

import csv
import io
import unicodedata
import zoneinfo
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.cli import import_metrics, import_people, import_table
from bot.cli.import_table import ImportRejected, ImportReport, rows_in
from bot.cli.people_staging import Staging
from tests.fuzz import count, fuzz

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

ZONES = {zone.lower(): zone for zone in zoneinfo.available_timezones()}
TRICKY = st.sampled_from([
    "", " ", '"', '""', ",", ";", "\n", "\r\n", "\r", "\x00", "\ufeff", "\u200b", "\u2028",
    "é", "e\u0301", "😀", "x" * 501, "1e309", "nan", "-inf", "1,5", "0x10", "²", "١٢",
    "2026-02-30", "2026-12-01", "99999-01-01", "rep", "manager", "Leader", "result",
    "activity", "UTC", "europe/paris", "Etc/GMT+14", "a@b.co", "A@B.CO", "a@@b.co",
    "maya@demo.smos.example", "U0MAYA", "x" * 70,
])
cells = TRICKY | st.text(max_size=15)


def table(columns: tuple[str, ...]) -> st.SearchStrategy[bytes]:
    """A header (sometimes spoiled) and rows of any cells, written as CSV (UTF-8)."""
    header = st.just(list(columns)) | st.lists(TRICKY | st.sampled_from(columns), max_size=8)
    rows = st.lists(st.lists(cells, max_size=len(columns) + 2), max_size=6)
    return st.builds(_csv, header, rows)


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass")


raw_files = st.one_of(st.binary(max_size=200), st.text(max_size=200).map(
    lambda t: t.encode("utf-8", "surrogatepass")))
PEOPLE = (*import_people.REQUIRED, *import_people.OPTIONAL)


def _rows(raw: bytes, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> Any:
    report = ImportReport("fuzz.csv")
    try:
        rows = rows_in(raw, report, required, optional)
    except ImportRejected as rejected:
        assert rejected.report.bad and rejected.report.summary()
        return report, None
    return report, rows


@pytest.mark.slow
@fuzz()
@given(raw=table(PEOPLE) | raw_files)
def test_property_people_rows_are_read_or_reported(raw: bytes) -> None:
    count("people CSV reader")
    people_rows_are_read_or_reported(raw)


def people_rows_are_read_or_reported(raw: bytes) -> None:
    report, rows = _rows(raw, import_people.REQUIRED, import_people.OPTIONAL)
    if rows is None:
        return
    with Staging() as staging:
        for row in rows:
            staging.add_row(row.line, row.cells["email"].lower(),
                            import_people._parse(row, ZONES, report))
        import_people.check_file(staging, report)
    assert report.summary()
    assert all(line is None or line >= 1 for line, _ in report.bad)


@pytest.mark.slow
@fuzz()
@given(raw=table(import_metrics.REQUIRED) | raw_files)
def test_property_metrics_rows_are_read_or_reported(raw: bytes) -> None:
    count("metrics CSV reader")
    metrics_rows_are_read_or_reported(raw)


def metrics_rows_are_read_or_reported(raw: bytes) -> None:
    report, rows = _rows(raw, import_metrics.REQUIRED)
    if rows is None:
        return
    for row in rows:
        import_metrics._parse(row, report)
    assert report.summary()


@fuzz()
@given(record=st.lists(cells, min_size=1, max_size=8))
def test_property_a_record_is_cleaned_as_each_of_its_cells(record: list[str]) -> None:
    """The quick path for ASCII records and the per-cell cleaning agree; a record is
    dropped exactly when every cleaned cell is empty; a row is refused exactly when a
    cleaned cell is too long or holds a control character, with one message per such cell."""
    count("import record cleaning")
    out = io.StringIO()
    csv.writer(out).writerow(record)
    report = ImportReport("fuzz.csv")
    lines = import_table._LINE_END.findall(out.getvalue())
    try:
        got = list(import_table._records(iter(lines), report))
    except ImportRejected:  # a lone surrogate or NUL the csv module refuses: a file problem
        return
    cleaned = [import_table._clean(cell) for cell in record]
    assert got == ([(1, cleaned)] if any(cleaned) else [])
    columns = [f"c{i}" for i in range(len(cleaned))]
    row = import_table._row(2, cleaned, columns, report)
    bad = [c for c in cleaned if len(c) > import_table.MAX_CELL
           or any(unicodedata.category(ch) == "Cc" for ch in c)]
    assert (row is None) == bool(bad)
    assert len(report.bad) == len(bad)
    if row is not None:
        assert row.cells == dict(zip(columns, cleaned, strict=True))
