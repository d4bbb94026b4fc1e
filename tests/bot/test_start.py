"""The container's start script (bot/cli/start.py), outside a container: it migrates
the database, then runs ``coach serve``; two copies started at once on a database with
nothing in it both serve, and the schema is at head; a database that cannot be reached
stops it before anything is served."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from storage.db import make_engine
from storage.migrate import code_heads, database_heads
from tests.bot.serving import Served

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
