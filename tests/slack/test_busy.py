"""Another process holding SQLite's write lock: a view submission is answered in time
with the modal kept open and the user asked to submit again, /healthz keeps
answering, and nothing is stored half or twice (SQLite only: PostgreSQL has no
database-wide write lock)."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.bootstrap import bootstrap
from bot.channels.gateway import GatewayText
from bot.channels.who import Who
from bot.cli.demo_org import MANAGER, load_demo
from bot.clock import ManualClock
from bot.runner import TurnText as RunnerText
from bot.server import REQUEST_BUSY_TIMEOUT
from bot.settings import Settings
from bot.slack.text import SlackText
from flows.messages import Say
from storage.models import Conversation, TransitionLog
from tests.slack.conftest import IDS, Harness, slack_settings, start
from tests.slack.driver import SlackDriver
from tests.slack.fake_slack import FakeSlack
from tests.support import START


@pytest.fixture
def db_path(tmp_path: Path, sqlite_template: Path) -> Path:
    path = tmp_path / "coach.db"
    shutil.copy(sqlite_template, path)
    return path


@pytest.fixture
async def serving(db_path: Path, fake: FakeSlack) -> AsyncIterator[Harness]:
    """``coach serve``'s short busy timeout, on the demo org."""
    settings = Settings(coach_env="test", database_url=f"sqlite:///{db_path}",
                        **slack_settings(fake))
    app = bootstrap(settings, ManualClock(START), busy_timeout=REQUEST_BUSY_TIMEOUT)
    with app.sessions.begin() as db:
        load_demo(db, START.date(), START)
    async for harness in start(app, fake):
        yield harness


@contextmanager
def write_locked(path: Path) -> Iterator[None]:
    """Another process's long write (an import, say): the lock held until we leave."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def stored(harness: Harness) -> tuple[int, str]:
    with harness.app.sessions() as db:
        moves = db.scalar(select(func.count(TransitionLog.id))) or 0
        return moves, db.scalars(select(Conversation)).one().state["step"]


async def test_a_submission_while_another_process_writes_is_kept_for_another_submit(
        serving: Harness, db_path: Path) -> None:
    http = serving.http
    driver = SlackDriver(http, IDS["maya"])
    view = await driver.say("/coach alice")
    assert view is not None
    before = stored(serving)
    answer = {"purpose": "p", "objectives": "o", "value_to_rep": "v"}
    with write_locked(db_path):
        submitted = asyncio.create_task(http.interact(http.submission(IDS["maya"], view,
                                                                      answer)))
        health = await asyncio.wait_for(http.http.get("/healthz"), timeout=2)
        assert health.status == 200 and not submitted.done()  # answered while it waits
        response = await asyncio.wait_for(submitted, timeout=2.5)  # inside Slack's 3 s
        assert response.status == 200
        body = await response.json()
        await http.settle()
    inputs = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert body["response_action"] == "errors"  # the modal stays open, the answer in it
    assert list(body["errors"]) == [inputs[0]]
    assert body["errors"][inputs[0]] == SlackText.busy_submit
    assert stored(serving) == before  # nothing stored
    assert serving.fake.of("views.update") == []

    after = await driver.submit(**answer)  # the same answer, submitted again: stored once
    moves, step = stored(serving)
    assert moves == before[0] + 1 and step != before[1]
    assert after["private_metadata"] != view["private_metadata"]


async def test_a_button_while_another_process_writes_asks_to_try_again(
        serving: Harness, db_path: Path) -> None:
    http = serving.http
    with write_locked(db_path):
        response = await http.command(IDS["maya"], "alice")
        assert response.status == 200
        await asyncio.wait_for(http.settle(), timeout=5)
    dms = [c.args["text"] for c in serving.fake.of("chat.postMessage")]
    assert dms == [GatewayText.busy]
    with serving.app.sessions() as db:
        assert db.scalar(select(func.count(Conversation.id))) == 0


def test_the_terminal_is_told_too(serving: Harness, db_path: Path) -> None:
    with write_locked(db_path):
        replies = serving.app.runner.handle(Who("console", "", MANAGER), Say("/coach alice"))
    assert [m.text for m in replies] == [RunnerText.busy]
