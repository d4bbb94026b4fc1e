"""The database away (PostgreSQL cut behind a proxy, SQLite under another writer's lock):
a Teams user is told that the storage is briefly unavailable and their message was not
saved, never the apology for a bug; once it is back, the same message goes through."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.bootstrap import bootstrap
from bot.channels.gateway import GatewayText
from bot.cli.demo_org import load_demo
from bot.clock import ManualClock
from bot.server import REQUEST_BUSY_TIMEOUT
from bot.settings import Settings
from storage.models import Conversation
from tests.drills.outage import Outage
from tests.support import START
from tests.teams.conftest import USERS, Harness, anonymous, start
from tests.teams.driver import TeamsDriver
from tests.teams.fake_connector import FakeConnector


@pytest.fixture
async def away(outage: Outage, connector: FakeConnector) -> AsyncIterator[Harness]:
    app = bootstrap(Settings(coach_env="test", database_url=outage.url, **anonymous()),
                    ManualClock(START), busy_timeout=REQUEST_BUSY_TIMEOUT)
    with app.sessions.begin() as db:
        load_demo(db, START.date(), START)
    async for harness in start(app, connector):
        yield harness


async def test_while_the_database_is_away_a_teams_user_is_told_and_may_send_again(
        away: Harness, outage: Outage) -> None:
    maya = TeamsDriver(away.http, USERS["maya"])
    await maya.say("help")  # bound, chat known
    outage.cut()
    try:
        await maya.say("coach alice")
        await away.teams.gateway.idle()
    finally:
        outage.restore()
    told = maya.chat[-1].said
    assert GatewayText.busy in told and "not saved" in told
    assert GatewayText.crashed not in told
    with away.app.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Conversation)) == 0
    await maya.say("coach alice")  # back: the same message goes through
    with away.app.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Conversation)) == 1
