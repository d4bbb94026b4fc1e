"""The drills' harnesses (the real aiohttp app with the fake Slack API or the fake Bot
Connector on loopback, as tests/slack and tests/teams build them), and the figures printed
at the end of the session, after the property tests' counts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.cli.demo_org import DOMAIN
from tests.drills import figures
from tests.slack import conftest as slack
from tests.slack.fake_slack import FakeSlack
from tests.support import make_app
from tests.teams import conftest as teams
from tests.teams.fake_connector import FakeConnector


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if figures.FIGURES:
        terminalreporter.write_sep("-", "fault drills (issue 12)")
        for line in figures.lines():
            terminalreporter.write_line(line)


@pytest.fixture
async def slack_fake() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    for local, user_id in slack.IDS.items():
        fake.add_user(user_id, f"{local}@{DOMAIN}", slack.NAMES[local])
    yield fake
    await fake.close()
    assert fake.problems == [], fake.problems


@pytest.fixture
async def slack_harness(db_url: str, slack_fake: FakeSlack) -> AsyncIterator[slack.Harness]:
    app = make_app(db_url, **slack.slack_settings(slack_fake))
    async for harness in slack.start(app, slack_fake):
        yield harness


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = await FakeConnector().start()
    for user in teams.USERS.values():
        fake.add_member(user.teams_id, user.aad, f"{user.local}@{DOMAIN}", user.name,
                        user.tenant)
    yield fake
    await fake.close()
    assert fake.problems == [], fake.problems


@pytest.fixture
async def teams_harness(db_url: str, connector: FakeConnector) -> AsyncIterator[teams.Harness]:
    async for harness in teams.start(make_app(db_url, **teams.anonymous()), connector):
        yield harness
