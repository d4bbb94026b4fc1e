"""The container's start script (bot/cli/start.py), outside a container: it migrates
the database, then runs ``coach serve``; two copies started at once on a database with
nothing in it both serve, and the schema is at head; a database that cannot be reached
stops it before anything is served."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import sys
from pathlib import Path

import pytest

from storage.db import make_engine
from storage.migrate import code_heads, database_heads
from tests.bot.serving import ROOT, Served

START = [sys.executable, "-m", "bot.cli.start"]  # its default command: coach serve
MIGRATED = "Database is at the latest schema."


@pytest.mark.slow
async def test_two_copies_started_at_once_migrate_then_serve(empty_db_url: str,
                                                              tmp_path: Path) -> None:
    copies = [Served(START, tmp_path, f"copy{n}", DATABASE_URL=empty_db_url,
                     COACH_SCHEDULER_INTERVAL="3600") for n in (1, 2)]
    try:
        await asyncio.gather(*(copy.answers("/readyz") for copy in copies))
        engine = make_engine(empty_db_url)
        try:
            with engine.connect() as conn:
                assert database_heads(conn) == code_heads()
        finally:
            engine.dispose()
        for copy in copies:
            copy.terminate()
        assert [await copy.exit_code() for copy in copies] == [0, 0]
        for copy in copies:
            out = copy.out.read_text()
            assert out.index(MIGRATED) < out.index("Running on http://127.0.0.1:"), out
    finally:
        for copy in copies:
            copy.kill()


async def test_a_database_that_cannot_be_reached_stops_the_start(tmp_path: Path) -> None:
    start = Served(START, tmp_path, "start",
                   DATABASE_URL="postgresql://coach@127.0.0.1:1/coach")
    try:
        assert await start.exit_code() == 3
        assert "cannot open the database" in start.err.read_text()
        assert "Running on" not in start.out.read_text()
    finally:
        start.kill()


async def test_the_command_given_is_run_instead_of_serve(tmp_path: Path) -> None:
    """``docker run IMAGE coach digest …``: migrated first, then that command."""
    start = Served([*START, sys.executable, "-c",
                    "import sys; print('ran', sys.argv[1:])"], tmp_path, "other",
                   DATABASE_URL=f"sqlite:///{tmp_path / 'coach.db'}")
    assert await start.exit_code() == 0
    assert start.out.read_text().splitlines()[-1] == "ran ['--host', '127.0.0.1', '--port', " \
        f"'{start.port}']"


def image_environment() -> dict[str, str]:
    """The ENV of the Dockerfile's last stage (PATH left as it is here)."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    final = re.sub(r"\\\n\s*", " ", dockerfile.rsplit("\nFROM ", 1)[1])
    pairs = [pair for line in final.splitlines() if line.startswith("ENV ")
             for pair in shlex.split(line[4:])]
    return {key: value for key, value in (pair.split("=", 1) for pair in pairs)
            if key != "PATH"}


@pytest.mark.slow
async def test_the_images_environment_migrates_serves_and_logs_json(tmp_path: Path) -> None:
    """As the container starts: production mode, JSON logs, no platform configured, the
    working directory elsewhere than the checkout (only the database URL moved)."""
    env = image_environment()
    assert env["COACH_ENV"] == "production" and env["COACH_LOG_FORMAT"] == "json"
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'coach.db'}"
    start = Served(START, tmp_path, "image", cwd=tmp_path, **env)
    try:
        await start.answers("/readyz")
        start.terminate()
        assert await start.exit_code() == 0
    finally:
        start.kill()
    lines = [json.loads(line) for line in start.err.read_text().splitlines()]
    assert any(line["message"] == "stopped" for line in lines)
    assert all(line["levelname"] and "timestamp" in line for line in lines)
