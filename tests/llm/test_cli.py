"""``coach llm log`` and what ``coach chat`` / ``coach serve`` say about the model at
start: on or off, which model, which base URL, never the key."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import create_engine

from bot.console.chat import Terminal
from storage import model_requests
from storage.model_requests import RequestRecord
from tests.bot.test_cli import run_cli
from tests.support import START, make_app

KEY = "sk-test-do-not-print-0123456789"


def test_the_log_shows_requests_newest_first_and_tokens_per_task(
        db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    make_app(db_url, demo=False).close()
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        for minute, (purpose, outcome) in enumerate([("triage", "ok"), ("triage", "timeout"),
                                                     ("questions", "invalid_json")]):
            model_requests.record(conn, RequestRecord(
                at=START.replace(minute=minute), person_id=None, purpose=purpose,
                model="gpt-test", api="chat", request_chars=2500, response_chars=300,
                latency_ms=800, outcome=outcome, prompt_tokens=600 if outcome == "ok" else None,
                completion_tokens=90 if outcome == "ok" else None))
    engine.dispose()
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    code, out, err = run_cli(["llm", "log"], monkeypatch, db_url, capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "Language model: on — gpt-4o-mini at https://api.openai.com/v1."
    assert [line.split()[2] for line in lines[2:5]] == ["questions", "triage", "triage"]
    assert "600/90" in out and "triage 2 requests (1 ok), 600 tokens in, 90 out" in out
    assert KEY not in out + err
    code, out, _ = run_cli(["llm", "log", "--json", "--limit", "1"], monkeypatch, db_url, capsys)
    row = json.loads(out)
    assert row["purpose"] == "questions" and "content" not in row


def test_an_empty_log_and_a_model_that_is_off(db_url: str, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    code, out, _ = run_cli(["llm", "log"], monkeypatch, db_url, capsys)
    assert code == 0
    assert out.splitlines() == ["Language model: off (no OPENAI_API_KEY or OPENAI_BASE_URL).",
                                "No model requests yet."]
    assert run_cli(["llm", "log", "--limit", "0"], monkeypatch, db_url, capsys)[0] == 2


def test_the_terminal_says_whether_the_model_is_on(db_url: str) -> None:
    app = make_app(db_url, openai_base_url="http://user:pw@127.0.0.1:9/v1?key=x",
                   coach_llm_model="local-llama", openai_api_key=KEY)
    out = io.StringIO()

    def read(prompt: str) -> str:
        raise EOFError

    Terminal(app, "maya@demo.smos.example", read=read, out=out).run()
    app.close()
    text = out.getvalue()
    assert "Language model: on — local-llama at http://127.0.0.1:9/v1." in text
    assert KEY not in text and "pw" not in text and "key=x" not in text
