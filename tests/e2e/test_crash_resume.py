"""kill -9 in the middle of a session, start again: the session resumes with every answer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Chat:
    """A real ``coach chat --jsonl`` process."""

    def __init__(self, db_url: str, cwd: Path) -> None:
        env = {**os.environ, "DATABASE_URL": db_url, "COACH_ENV": "test"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "chat", "--jsonl"], cwd=cwd, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    def send(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()
        replies = []
        while True:
            line = self.proc.stdout.readline()
            assert line, self.proc.stderr.read() if self.proc.stderr else "no output"
            replies.append(json.loads(line))
            if "done" in replies[-1] or "error" in replies[-1]:
                return replies

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


@pytest.mark.slow
def test_kill_9_mid_session_resumes_at_the_same_step(db_url: str, tmp_path: Path) -> None:
    chat = Chat(db_url, tmp_path)
    chat.send({"say": "/coach alice"})
    chat.send({"submit": {"purpose": "Lift win rate", "objectives": "One behaviour",
                          "value_to_rep": "Commission"}})
    chat.send({"choose": "yes"})
    replies = chat.send({"choose": "metric:win rate %"})
    assert replies[-2]["step"] == "views"
    chat.kill()

    chat = Chat(db_url, tmp_path)
    replies = chat.send({"say": "/hello"})
    assert "Welcome back" in replies[0]["text"]
    assert replies[-2]["step"] == "views"
    replies = chat.send({"submit": {"gap_statement": "14% vs 25%", "rep_view": "r",
                                    "manager_view": "m"}})
    assert replies[-2]["step"] == "focus"
    chat.send({"choose": "prospecting"})
    replies = chat.send({"choose": "yes"})
    assert replies[-2]["step"] == "Q01_gap_specific"
    chat.kill()

    from bot.settings import Settings
    from storage.db import make_engine
    from storage.models import SessionStage

    engine = make_engine(Settings(database_url=db_url).sqlalchemy_url)
    from sqlalchemy.orm import Session

    with Session(engine) as db:
        stages = {s.stage: s.values for s in db.query(SessionStage)}
    engine.dispose()
    assert stages["S"]["purpose"] == "Lift win rate"
    assert stages["L"]["gap"] == "metric:win rate %"
    assert stages["L"]["gap_statement"] == "14% vs 25%"
