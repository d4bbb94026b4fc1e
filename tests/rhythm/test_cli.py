"""``coach scheduler run-due`` and ``coach schedule``: the same due work, one clear line
for bad input."""

from __future__ import annotations

import pytest

from tests.bot.test_cli import run_cli


def test_run_due_once_then_nothing_twice(db_url: str, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["demo"], monkeypatch, db_url, capsys)[0] == 0
    friday = "2027-03-05T15:00:00-05:00"
    code, out, _ = run_cli(["scheduler", "run-due", "--now", friday], monkeypatch, db_url,
                           capsys)
    assert code == 0
    assert out.startswith("2027-03-05T20:00:00+00:00: queued ")
    # the first run: Alice's 15:00 in New York is now; London's came five hours before the
    # rhythm started, so it is not caught up
    assert "check-ins started 1" in out
    code, out, _ = run_cli(["scheduler", "run-due", "--now", friday], monkeypatch, db_url,
                           capsys)
    assert code == 0 and "queued 0 (none)" in out and "check-ins started 0" in out


@pytest.mark.parametrize(("args", "message"), [
    (["scheduler", "run-due", "--now", "next friday"], "--now takes an ISO time"),
    (["scheduler", "run-due", "--now", "2027-03-05T15:00:00"], "--now needs a UTC offset"),
    (["schedule", "--person", "x@y.z", "--days", "0"], "--days must be between 1 and 366"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str],
                                          tmp_path: object) -> None:
    code, out, err = run_cli(args, monkeypatch, f"sqlite:///{tmp_path}/c.db", capsys)
    assert code == 2 and out == ""
    assert err.startswith("coach: ") and message in err and err.count("\n") == 1


def test_schedule_shows_what_is_due_at_local_times(db_url: str,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    run_cli(["demo"], monkeypatch, db_url, capsys)
    code, out, _ = run_cli(["schedule", "--person", "bob@demo.smos.example", "--now",
                            "2027-03-08T00:00:00Z"], monkeypatch, db_url, capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Bob Brown <bob@demo.smos.example>, rep, America/Chicago: the next 7 days"
    assert "  Fri 2027-03-12 15:00 -0600  checkin          weekly check-in" in lines
    code, out, _ = run_cli(["schedule", "--person", "omar@demo.smos.example", "--days", "2",
                            "--now", "2027-03-29T00:00:00Z"], monkeypatch, db_url, capsys)
    assert "  Mon 2027-03-29 08:00 +0100  digest           weekly digest (week of 2027-03-22)" \
        in out.splitlines()
    code, _, err = run_cli(["schedule", "--person", "nobody@x.y"], monkeypatch, db_url, capsys)
    assert code == 2 and "nobody with the email nobody@x.y" in err
