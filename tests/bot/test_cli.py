"""The ``coach`` command line: exit codes, one-line errors, chart walking, imports, demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.console.protocol import NOT_TEXT

ROOT = Path(__file__).resolve().parents[2]


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch, db_url: str | None = None,
            capsys: pytest.CaptureFixture[str] | None = None) -> tuple[int, str, str]:
    if db_url:
        monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("COACH_ENV", "test")
    code = main(args)
    out, err = capsys.readouterr() if capsys else ("", "")
    return code, out, err


def test_chart_answers_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    answers = tmp_path / "a.json"
    answers.write_text(json.dumps({"Q01_gap_specific": True, "Q02_worth_pursuing": True,
                                   "Q03_standard_achievable": False}))
    code, out, _ = run_cli(["chart", "--answers", str(answers), "--json"], monkeypatch,
                           capsys=capsys)
    assert code == 0
    assert json.loads(out) == {
        "leaf": "SYSTEMIC_REDESIGN", "category": "systemic",
        "path": [{"question": "Q01_gap_specific", "answer": "yes"},
                 {"question": "Q02_worth_pursuing", "answer": "yes"},
                 {"question": "Q03_standard_achievable", "answer": "no"}],
    }


@pytest.mark.parametrize(("content", "message"), [
    ({"Q01_gap_specific": True}, "needs an answer to Q02_worth_pursuing"),
    ({"Q99": True}, "'Q99' is not a question id"),
    ({"Q01_gap_specific": "maybe"}, "must be true/false"),
    ([1, 2], "expected an object"),
    ("{nope", "not valid JSON (line 1"),
    ("[" * 1500 + "]" * 1500, "nests too deeply"),
    ('{"Q01_gap_specific": ' + "[" * 5000, "nests too deeply"),
    ('{"Q01_gap_specific": ' + "1" * 4301 + "}", "too many digits"),
    ({"\ud800" + "k" * 100: True}, "'\\ud800kkk"),
], ids=["missing", "unknown", "maybe", "list", "not-json", "deep", "deeper", "digits",
        "surrogate"])
def test_chart_bad_answers_exit_2_with_one_line(content: object, message: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    answers = tmp_path / "a.json"
    answers.write_text(content if isinstance(content, str) else json.dumps(content))
    code, _, err = run_cli(["chart", "--answers", str(answers), "--json"], monkeypatch,
                           capsys=capsys)
    assert code == 2
    assert message in err and err.count("\n") == 1


def test_chart_quotes_a_huge_unknown_key_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    answers = tmp_path / "a.json"
    answers.write_text(json.dumps({"x" * 5_000_000: True}))
    code, _, err = run_cli(["chart", "--answers", str(answers)], monkeypatch, capsys=capsys)
    assert code == 2 and "is not a question id" in err and len(err) < 300


def test_chart_missing_file(monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["chart", "--answers", "/nonexistent.json"], monkeypatch,
                           capsys=capsys)
    assert code == 2 and "no such file" in err


def test_bad_playbook_is_named_at_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    playbook = tmp_path / "pb.yaml"
    playbook.write_text("checkin:\n  day: someday\n")
    monkeypatch.setenv("COACH_PLAYBOOK", str(playbook))
    code, _, err = run_cli(["chart", "--answers", "/x.json"], monkeypatch, capsys=capsys)
    assert code == 2
    assert "pb.yaml line 2" in err and "checkin.day" in err


def test_demo_and_imports(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["demo"], monkeypatch, db_url, capsys)
    assert code == 0 and "loaded" in out
    code, out, _ = run_cli(["demo"], monkeypatch, db_url, capsys)
    assert code == 0 and "nothing changed" in out
    people = tmp_path / "people.csv"
    people.write_text("email,name,role,manager_email,timezone\n"
                      "zoe@demo.smos.example,Zoe Zhang,rep,maya@demo.smos.example,Europe/Paris\n"
                      "bad,Bad Row,wizard,,Mars/Base\n")
    code, _, err = run_cli(["people", "import", str(people)], monkeypatch, db_url, capsys)
    assert code == 2 and "line 3" in err and "nothing imported" in err
    code, out, err = run_cli(["people", "import", str(people), "--skip-bad"], monkeypatch,
                             db_url, capsys)
    assert "line 3" in out + err
    code, out, _ = run_cli(["people", "import", str(people), "--skip-bad"], monkeypatch,
                           db_url, capsys)
    assert "unchanged" in out


def test_console_script_runs_a_jsonl_session(tmp_path: Path) -> None:
    """The installed ``coach`` entry point, end to end in a fresh directory (SQLite default)."""
    coach = Path(sys.executable).parent / "coach"
    lines = "\n".join(json.dumps(x) for x in [
        {"say": "/coach alice"}, {"choose": "nonsense"}, "not json",
    ]).encode() + b'\n{"say": "\xff\xfe not UTF-8"}\n{"as": "\\ud800"}\n{"say": "/help"}\n'
    result = subprocess.run([str(coach), "chat", "--jsonl"], input=lines,
                            capture_output=True, cwd=tmp_path, timeout=60,
                            env={"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    replies = [json.loads(x) for x in result.stdout.decode().split("\n") if x]
    assert replies[1]["step"] == "set_stage"
    assert [r for r in replies if "error" in r][-2:] == [
        {"error": f'"say" {NOT_TEXT}'}, {"error": f'"as" {NOT_TEXT}'}]
    assert replies[-1] == {"done": True} and "/coach" in replies[-2]["text"]
    assert (tmp_path / "coach.db").exists()


def test_slack_link_and_list(db_url: str, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["slack", "link", "T0ABC"], monkeypatch, db_url, capsys) == (
        0, "Slack workspace T0ABC linked.\n", "")
    assert run_cli(["slack", "link", "T0ABC"], monkeypatch, db_url, capsys)[1] == (
        "Slack workspace T0ABC was already linked.\n")
    assert run_cli(["slack", "workspaces"], monkeypatch, db_url, capsys) == (0, "T0ABC\n", "")
    code, _, err = run_cli(["slack", "link", "T0 ABC;"], monkeypatch, db_url, capsys)
    assert code == 2 and "is not a Slack team or enterprise id" in err


@pytest.mark.parametrize("url", [
    "postgresql://nobody:hunter2@127.0.0.1:1/coach",  # nothing listens on port 1
    "postgresql://postgres@127.0.0.1:5432/no_such_database_here",
    "sqlite:////no/such/directory/coach.db",
], ids=["unreachable", "missing-database", "sqlite-no-directory"])
@pytest.mark.parametrize("command", [["demo"], ["db", "upgrade"], ["chat", "--jsonl"],
                                     ["serve", "--port", "3999"]])
def test_a_database_that_cannot_be_opened_is_one_line_and_exit_3(
        url: str, command: list[str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(command, monkeypatch, url, capsys)
    assert code == 3 and err.count("\n") == 1 and err.startswith("coach: cannot open the database")
    assert "hunter2" not in err


@pytest.mark.parametrize("url", ["nonsense", "mysql://x/y"])
def test_a_database_url_we_cannot_use_is_bad_configuration(
        url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["demo"], monkeypatch, url, capsys)
    assert code == 2 and err.count("\n") == 1 and "is not a database we can use" in err


def test_the_database_lost_after_a_good_start_is_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from sqlalchemy.exc import OperationalError

    import bot.cli.demo_org

    def lost(*args: object, **kwargs: object) -> bool:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(bot.cli.demo_org, "load_demo", lost)
    code, _, err = run_cli(["demo"], monkeypatch, f"sqlite:///{tmp_path / 'c.db'}", capsys)
    assert (code, err) == (3, "coach: the database stopped answering: "
                              "server closed the connection\n")


def _busy_port() -> tuple[object, int]:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock, sock.getsockname()[1]


@pytest.mark.parametrize(("args", "message"), [
    (["--port", "99999"], "--port must be between 1 and 65535 (got 99999)"),
    (["--port", "0"], "--port must be between 1 and 65535 (got 0)"),
    (["--host", "no-such-host.invalid", "--port", "3999"], "cannot listen on no-such-host"),
    (["--host", "127.0.0.1", "--port", "BUSY"], "address already in use"),
], ids=["port-99999", "port-0", "unknown-host", "busy-port"])
def test_serve_where_it_cannot_listen_is_one_line_and_exit_2(
        args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    sock, port = _busy_port()
    try:
        args = [str(port) if a == "BUSY" else a for a in args]
        code, _, err = run_cli(["serve", *args], monkeypatch,
                               f"sqlite:///{tmp_path / 'c.db'}", capsys)
    finally:
        sock.close()  # type: ignore[attr-defined]
    lines = [line for line in err.splitlines() if not line.endswith("Slack is off: no "
             "SLACK_SIGNING_SECRET with a token or client id")]
    assert code == 2 and len(lines) == 1 and message in lines[0], err
