"""The CSV readers on arbitrary text: a file problem (ImportRejected) or row problems in the
report, never another exception. No database: the reader and the row parsers are pure."""

from __future__ import annotations

import csv
import io
import zoneinfo
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.cli import import_metrics, import_people
from bot.cli.people_staging import Staging
from bot.cli.import_table import ImportRejected, ImportReport, rows_in
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
