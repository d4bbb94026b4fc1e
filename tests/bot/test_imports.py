"""People and metrics CSV imports, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.cli.import_files import (
    ImportRejected,
    ImportReport,
    import_metrics,
    import_people,
    stderr_progress,
)
from storage.db import make_sessions
from storage.models import Metric, Person

FIXTURES = Path(__file__).parent.parent / "fixtures"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)
PEOPLE_HEADER = "email,name,role,manager_email,timezone"
METRICS_HEADER = "email,period_start,period_end,metric,kind,target,actual"


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with make_sessions(engine)() as session:
        yield session


def write(tmp_path: Path, text: str | bytes, name: str = "in.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def people(db: Session) -> dict[str, Person]:
    return {p.email: p for p in db.scalars(select(Person))}


def count(db: Session, model: type[Person] | type[Metric]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def rejected(
    db: Session, path: Path, run: Callable[..., ImportReport] = import_people, **kw: object
) -> ImportReport:
    """Run an import expected to be refused; check that it left nothing behind."""
    before = (count(db, Person), count(db, Metric))
    with pytest.raises(ImportRejected) as caught:
        run(db, path, now=LATER, **kw)
    assert not db.new and not db.dirty
    assert (count(db, Person), count(db, Metric)) == before
    assert caught.value.report.rejected
    return caught.value.report


def seed(db: Session) -> None:
    import_people(db, FIXTURES / "people.csv", now=NOW)
    db.commit()


# --- people -----------------------------------------------------------------------------


def test_good_import_creates_people_and_reporting_lines(db: Session) -> None:
    report = import_people(db, FIXTURES / "people.csv", now=NOW)
    db.commit()
    assert (report.created, report.updated, report.unchanged, report.skipped) == (5, 0, 0, 0)
    assert report.bad == [] and not report.rejected
    org = people(db)
    assert org["ray@acme.example"].manager_id == org["mia@acme.example"].id
    assert org["mia@acme.example"].manager_id == org["lee@acme.example"].id
    assert org["lee@acme.example"].manager_id is None
    assert org["rita@acme.example"].timezone == "UTC"
    assert org["rita@acme.example"].slack_user_id == "U0RITA"
    assert org["rita@acme.example"].teams_user_id == "29:rita-teams"
    assert org["ray@acme.example"].slack_user_id is None
    assert {p.created_at for p in org.values()} == {NOW}
    assert report.summary() == (
        f"{FIXTURES / 'people.csv'}: 5 created, 0 updated, 0 unchanged, 0 skipped"
    )


def test_reimport_changes_nothing(db: Session) -> None:
    seed(db)
    report = import_people(db, FIXTURES / "people.csv", now=LATER)
    db.commit()
    assert (report.created, report.updated, report.unchanged) == (0, 0, 5)
    assert {p.updated_at for p in people(db).values()} == {NOW}


def test_changed_name_updates_that_person_only(db: Session, tmp_path: Path) -> None:
    seed(db)
    text = (FIXTURES / "people.csv").read_text().replace("Ray Rep", "Raymond Rep")
    report = import_people(db, write(tmp_path, text), now=LATER)
    db.commit()
    assert (report.created, report.updated, report.unchanged) == (0, 1, 4)
    org = people(db)
    ray = org["ray@acme.example"]
    assert (ray.name, ray.created_at, ray.updated_at) == ("Raymond Rep", NOW, LATER)
    assert org["mia@acme.example"].updated_at == NOW


def test_empty_platform_id_keeps_the_stored_one(db: Session, tmp_path: Path) -> None:
    seed(db)
    text = (FIXTURES / "people.csv").read_text().replace("U0RITA,29:rita-teams", ",")
    report = import_people(db, write(tmp_path, text), now=LATER)
    assert report.unchanged == 5
    assert people(db)["rita@acme.example"].slack_user_id == "U0RITA"


def test_every_bad_row_is_reported_with_its_line_and_nothing_stored(
    db: Session, tmp_path: Path
) -> None:
    long_name = "x" * 501
    path = write(tmp_path, (
        f"{PEOPLE_HEADER}\n"
        "lee@acme.example,Lee,leader,,UTC\n"                      # 2 good
        "not-an-email,Bad Email,manager,,UTC\n"                   # 3
        "\n"                                                      # 4 blank, skipped
        "sam@acme.example,Sam,boss,lee@acme.example,UTC\n"        # 5
        "tia@acme.example,Tia,manager,lee@acme.example,Mars/Base\n"  # 6
        "ron@acme.example,Ron,rep,,UTC\n"                         # 7
        '"kim@acme.example","Kim\nKimura",manager,,UTC\n'         # 8-9
        f"ivy@acme.example,{long_name},manager,,UTC\n"            # 10
        "ned@acme.example,Ned,manager,,UTC,extra\n"               # 11
        "LEE@acme.example,Lee Again,leader,,UTC\n"                # 12
        "una@acme.example,,manager,,UTC\n"                        # 13
        "val@acme.example,Val,rep,ghost@acme.example,UTC\n"       # 14
    ))
    report = rejected(db, path)
    assert report.bad == [
        (3, "email 'not-an-email' is not an email address"),
        (5, "role is 'boss'; it must be one of rep, manager, leader, admin"),
        (6, "timezone 'Mars/Base' is not an IANA time zone"
            " (like Europe/Paris or America/New_York)"),
        (7, "a rep needs a manager_email"),
        (8, "name contains a line break or control character"),
        (10, "name is longer than 500 characters"),
        (11, "has 6 cells but the header has 5 (a value with a comma needs double quotes)"),
        (12, "email lee@acme.example is already on line 2"),
        (13, "name is empty"),
        (14, "unknown manager email ghost@acme.example (not in this file nor stored)"),
    ]
    assert report.rejected and report.bad_lines == [3, 5, 6, 7, 8, 10, 11, 12, 13, 14]
    summary = report.summary().splitlines()
    assert summary[0] == (
        f"{path}: nothing imported: 10 bad rows (fix them, or import the others with --skip-bad)"
    )
    assert summary[1] == "  line 3: email 'not-an-email' is not an email address"
    assert count(db, Person) == 0


def test_skip_bad_imports_the_good_rows_and_reports_the_rest(db: Session, tmp_path: Path) -> None:
    path = write(tmp_path, (
        f"{PEOPLE_HEADER}\n"
        "lee@acme.example,Lee,leader,,UTC\n"
        "sam@acme.example,Sam,boss,lee@acme.example,UTC\n"
        "mia@acme.example,Mia,manager,lee@acme.example,UTC\n"
        "ray@acme.example,Ray,rep,sam@acme.example,UTC\n"  # manager's row is bad
    ))
    report = import_people(db, path, now=NOW, skip_bad=True)
    db.commit()
    assert (report.created, report.skipped) == (2, 2)
    assert report.bad == [
        (3, "role is 'boss'; it must be one of rep, manager, leader, admin"),
        (5, "manager sam@acme.example is not imported (line 3 is bad)"),
    ]
    assert set(people(db)) == {"lee@acme.example", "mia@acme.example"}
    assert report.summary().startswith(f"{path}: 2 created, 0 updated, 0 unchanged, 2 skipped\n")


def test_reporting_loop_in_the_file(db: Session, tmp_path: Path) -> None:
    path = write(tmp_path, (
        f"{PEOPLE_HEADER}\n"
        "a@acme.example,A,manager,b@acme.example,UTC\n"
        "b@acme.example,B,manager,a@acme.example,UTC\n"
        "c@acme.example,C,manager,c@acme.example,UTC\n"
        "d@acme.example,D,rep,a@acme.example,UTC\n"
    ))
    report = rejected(db, path)
    assert report.bad == [
        (2, "reporting line loops: a@acme.example → b@acme.example → a@acme.example"),
        (3, "reporting line loops: b@acme.example → a@acme.example → b@acme.example"),
        (4, "reporting line loops: c@acme.example → c@acme.example"),
        (5, "manager a@acme.example is not imported (line 2 is bad)"),
    ]


def test_reporting_loop_through_stored_people(db: Session, tmp_path: Path) -> None:
    seed(db)  # ray → mia → lee
    path = write(tmp_path, f"{PEOPLE_HEADER}\nlee@acme.example,Lee,leader,ray@acme.example,UTC\n")
    report = rejected(db, path)
    assert report.bad == [(2, "reporting line loops: lee@acme.example → ray@acme.example "
                              "→ mia@acme.example → lee@acme.example")]
    assert people(db)["lee@acme.example"].manager_id is None


def test_a_long_loop_is_shortened(db: Session, tmp_path: Path) -> None:
    rows = [f"p{i}@acme.example,P{i},manager,p{(i + 1) % 10}@acme.example,UTC" for i in range(10)]
    report = rejected(db, write(tmp_path, "\n".join([PEOPLE_HEADER, *rows])))
    assert len(report.bad) == 10
    assert report.bad[3] == (5, (
        "reporting line loops: p3@acme.example → p4@acme.example → p5@acme.example → … (5 more)"
        " → p1@acme.example → p2@acme.example → p3@acme.example"))

def test_manager_may_be_stored_already(db: Session, tmp_path: Path) -> None:
    seed(db)
    path = write(tmp_path, f"{PEOPLE_HEADER}\nnew@acme.example,New Rep,rep,mia@acme.example,UTC\n")
    report = import_people(db, path, now=LATER)
    db.commit()
    org = people(db)
    assert report.created == 1 and org["new@acme.example"].manager_id == org["mia@acme.example"].id


def test_platform_id_taken_by_someone_else(db: Session, tmp_path: Path) -> None:
    seed(db)
    path = write(tmp_path, (
        "email,name,role,manager_email,timezone,slack_user_id\n"
        "new@acme.example,New,manager,,UTC,U0MIA\n"
        "two@acme.example,Two,manager,,UTC,U0NEW\n"
        "three@acme.example,Three,manager,,UTC,U0NEW\n"
    ))
    assert rejected(db, path).bad == [
        (2, "slack_user_id U0MIA already belongs to mia@acme.example"),
        (4, "slack_user_id U0NEW is already on line 3"),
    ]


def test_bom_whitespace_case_and_unicode_are_normalised(db: Session, tmp_path: Path) -> None:
    decomposed = "Jose\u0301"  # "José" typed as e + combining accent
    text = (
        "\ufeff Email , NAME,role,manager_email,timezone\n"
        f"  JOSE@Acme.Example , {decomposed}\u00a0, Admin ,, europe/paris \n"
    )
    report = import_people(db, write(tmp_path, text), now=NOW)
    person = people(db)["jose@acme.example"]
    assert report.created == 1
    assert (person.name, person.role, person.timezone) == ("José", "admin", "Europe/Paris")


def test_non_utf8_file_names_the_line(db: Session, tmp_path: Path) -> None:
    text = f"{PEOPLE_HEADER}\nlee@acme.example,L\xe9e,leader,,UTC\n"
    path = write(tmp_path, text.encode("latin-1"))
    report = rejected(db, path)
    assert report.bad == [(2, 'the file is not UTF-8 text (byte 0xe9); save it as "CSV UTF-8"')]
    assert report.summary() == f"{path}: nothing imported\n  line 2: " + report.bad[0][1]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", (None, f"the file is empty (expected a header line: {PEOPLE_HEADER})")),
        ("\n\n", (None, f"the file is empty (expected a header line: {PEOPLE_HEADER})")),
        ("email,name,role\n", (1, "missing columns: manager_email, timezone")),
        (f"{PEOPLE_HEADER},shoe_size\n", (1, (
            "unknown column: shoe_size (the columns are email, name, role, manager_email,"
            " timezone, slack_user_id, teams_user_id)"))),
        (f"{PEOPLE_HEADER},email\n", (1, "column given twice: email")),
        (PEOPLE_HEADER.replace(",", ";") + "\n",
         (1, f"the header uses ';' between columns; save it with commas: {PEOPLE_HEADER}")),
    ],
)
def test_whole_file_problems(
    db: Session, tmp_path: Path, text: str, problem: tuple[int | None, str]
) -> None:
    report = rejected(db, write(tmp_path, text), skip_bad=True)
    assert report.bad == [problem] and report.file_problem


def test_missing_file(db: Session, tmp_path: Path) -> None:
    assert rejected(db, tmp_path / "nope.csv").bad == [(None, "no such file")]


def test_header_only_imports_nothing(db: Session, tmp_path: Path) -> None:
    report = import_people(db, write(tmp_path, PEOPLE_HEADER + "\n"), now=NOW)
    assert (report.rows, report.created) == (0, 0)


def test_naive_now_is_refused(db: Session) -> None:
    with pytest.raises(ValueError, match="aware"):
        import_people(db, FIXTURES / "people.csv", now=datetime(2026, 3, 2))


def test_progress_is_told(db: Session, tmp_path: Path) -> None:
    rows = [f"p{i}@acme.example,P {i},admin,,UTC" for i in range(600)]
    calls: list[tuple[int, int]] = []
    import_people(db, write(tmp_path, "\n".join([PEOPLE_HEADER, *rows])), now=NOW,
                  progress=lambda done, total: calls.append((done, total)))
    assert calls == [(250, 600), (500, 600), (600, 600)]


# --- metrics ----------------------------------------------------------------------------


def test_metrics_import_reimport_and_update(db: Session, tmp_path: Path) -> None:
    seed(db)
    first = import_metrics(db, FIXTURES / "metrics.csv", now=NOW)
    db.commit()
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    again = import_metrics(db, FIXTURES / "metrics.csv", now=LATER)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    text = (FIXTURES / "metrics.csv").read_text().replace("200,150", "200,175")
    changed = import_metrics(db, write(tmp_path, text), now=LATER)
    db.commit()
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 2)
    calls = db.scalars(select(Metric).where(Metric.metric == "calls")).one()
    assert (calls.kind, calls.target, calls.actual, calls.period_end) == (
        "activity", 200, 175, date(2026, 3, 31))
    assert count(db, Metric) == 3


def test_metrics_bad_rows(db: Session, tmp_path: Path) -> None:
    seed(db)
    path = write(tmp_path, (
        f"{METRICS_HEADER}\n"
        "ray@acme.example,2026-03-01,2026-03-31,revenue,result,100,90\n"   # 2 good
        "ghost@acme.example,2026-03-01,2026-03-31,revenue,result,100,90\n"  # 3
        "ray@acme.example,3/1/2026,2026-03-31,revenue,result,100,90\n"    # 4
        "ray@acme.example,2026-03-31,2026-03-01,revenue,result,100,90\n"  # 5
        "ray@acme.example,2026-03-01,2026-03-31,revenue,outcome,100,90\n"  # 6
        'ray@acme.example,2026-03-01,2026-03-31,revenue,result,"1,000",nan\n'  # 7
        "ray@acme.example,2026-03-01,2026-03-31,,result,,90\n"            # 8
        "RAY@acme.example,2026-03-01,2026-03-31,revenue,result,100,95\n"  # 9
    ))
    assert rejected(db, path, run=import_metrics).bad == [
        (3, "unknown person email ghost@acme.example (import people first)"),
        (4, "period_start '3/1/2026' is not a date like 2026-03-31"),
        (5, "period_end 2026-03-01 is before period_start 2026-03-31"),
        (6, "kind is 'outcome'; it must be one of result, activity"),
        (7, "target '1,000' is not a number (use a dot for decimals, no thousands separator)"),
        (7, "actual 'nan' is not a finite number"),
        (8, "metric is empty"),
        (8, "target is empty, not a number"),
        (9, "same email, period and metric as line 2"),
    ]


def test_metrics_skip_bad(db: Session, tmp_path: Path) -> None:
    seed(db)
    path = write(tmp_path, (
        f"\ufeff{METRICS_HEADER}\n"
        "ray@acme.example,2026-03-01,2026-03-31,revenue,result,100,90\n"
        "ghost@acme.example,2026-03-01,2026-03-31,revenue,result,100,90\n"
    ))
    report = import_metrics(db, path, now=NOW, skip_bad=True)
    assert (report.created, report.skipped, report.bad_lines) == (1, 1, [3])
    assert count(db, Metric) == 1


def test_metrics_header_and_encoding(db: Session, tmp_path: Path) -> None:
    extra = write(tmp_path, METRICS_HEADER.replace(",kind", ",kind,notes") + "\n", "a.csv")
    assert rejected(db, extra, run=import_metrics).bad == [(1, (
        "unknown column: notes (the columns are "
        f"{METRICS_HEADER.replace(',', ', ')})"))]
    missing = write(tmp_path, "email,metric,kind,target,actual\n", "b.csv")
    assert rejected(db, missing, run=import_metrics).bad == [
        (1, "missing columns: period_start, period_end")]
    utf16 = write(tmp_path, METRICS_HEADER.encode("utf-16"), "c.csv")
    assert rejected(db, utf16, run=import_metrics).bad == [
        (1, 'the file is UTF-16 text; save it as "CSV UTF-8"')]


# --- progress bar -----------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_stderr_progress_draws_only_on_a_terminal() -> None:
    pipe = io.StringIO()
    stderr_progress("people import", pipe)(5, 10)
    assert pipe.getvalue() == ""
    tty = Terminal()
    draw = stderr_progress("people import", tty)
    draw(5, 10)
    draw(5, 10)  # same percentage: not redrawn
    draw(10, 10)
    assert tty.getvalue() == (
        "\rpeople import [" + "#" * 15 + "." * 15 + "] 5/10"
        "\rpeople import [" + "#" * 30 + "] 10/10\n"
    )



def test_people_are_written_in_chunks_whatever_the_order_of_managers_and_reports(
        db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of two: reports come before their managers, across chunks; a second import
    moves a rep, renames one, swaps two Slack ids and leaves the rest unchanged."""
    from bot.cli import import_people as module

    monkeypatch.setattr(module, "CHUNK", 2)
    header = PEOPLE_HEADER + ",slack_user_id"
    first = [header,
             "r1@x.example,Rep One,rep,m1@x.example,UTC,U1",
             "r2@x.example,Rep Two,rep,m2@x.example,UTC,U2",
             "r3@x.example,Rep Three,rep,m1@x.example,UTC,",
             "m1@x.example,Man One,manager,lead@x.example,UTC,",
             "m2@x.example,Man Two,manager,lead@x.example,UTC,",
             "lead@x.example,The Lead,leader,,Europe/Paris,"]
    report = import_people(db, write(tmp_path, "\n".join(first)), now=NOW)
    db.commit()
    assert (report.created, report.updated, report.unchanged) == (6, 0, 0)
    stored = people(db)
    assert stored["r1@x.example"].manager_id == stored["m1@x.example"].id
    assert stored["r2@x.example"].manager_id == stored["m2@x.example"].id
    assert stored["m2@x.example"].manager_id == stored["lead@x.example"].id
    assert stored["lead@x.example"].manager_id is None
    assert stored["lead@x.example"].timezone == "Europe/Paris"
    again = [header,
             "r1@x.example,Rep One,rep,m2@x.example,UTC,U2",
             "r2@x.example,Rep Two,rep,m2@x.example,UTC,U1",
             "r3@x.example,Rep 3,rep,m1@x.example,UTC,",
             *first[4:]]
    report = import_people(db, write(tmp_path, "\n".join(again), "again.csv"), now=LATER)
    db.commit()
    assert (report.created, report.updated, report.unchanged) == (0, 3, 3)
    stored = people(db)
    assert stored["r1@x.example"].manager_id == stored["m2@x.example"].id
    assert (stored["r1@x.example"].slack_user_id, stored["r2@x.example"].slack_user_id) == (
        "U2", "U1")
    assert stored["r3@x.example"].name == "Rep 3"
    assert stored["r3@x.example"].updated_at == LATER
    assert stored["m1@x.example"].updated_at == NOW  # unchanged: not written
