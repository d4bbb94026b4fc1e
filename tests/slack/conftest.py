"""A real aiohttp app with Bolt, signed requests, and the fake Slack Web API on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import App
from bot.cli.demo_org import DOMAIN
from bot.server import make_web_app
from bot.slack.app import SlackApp, build_slack
from tests.slack.driver import SECRET, SlackHTTP
from tests.slack.fake_slack import FakeSlack
from tests.support import Sleeps, make_app

# Slack ids of the demo org, as the fake directory knows them.
IDS = {"maya": "U0MAYA", "alice": "U0ALICE", "bob": "U0BOB", "lee": "U0LEE",
       "omar": "U0OMAR", "carmen": "U0CARMEN"}
NAMES = {"maya": "Maya Manager", "alice": "Alice Adams", "bob": "Bob Brown",
         "lee": "Lee Leader", "omar": "Omar Manager", "carmen": "Carmen Cruz"}


@dataclass
class Harness:
    app: App
    slack: SlackApp
    fake: FakeSlack
    http: SlackHTTP
    sleeps: Sleeps


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    for local, user_id in IDS.items():
        fake.add_user(user_id, f"{local}@{DOMAIN}", NAMES[local])
    yield fake
    await fake.close()
    assert fake.problems == [], fake.problems


async def start(app: App, fake: FakeSlack, *, socket_mode: bool = False,
                **options: Any) -> AsyncIterator[Harness]:
    sleeps = Sleeps()
    slack = build_slack(app, sleep=sleeps, socket_mode=socket_mode, **options)
    server = TestServer(make_web_app(app, slack, delivery_every=None),
                        host="127.0.0.1")
    client = TestClient(server)
    await client.start_server()
    try:
        yield Harness(app, slack, fake, SlackHTTP(client, slack, fake), sleeps)
    finally:
        await slack.gateway.idle()
        await client.close()
        app.close()


def slack_settings(fake: FakeSlack, **extra: Any) -> dict[str, Any]:
    return {"slack_bot_token": "xoxb-test", "slack_signing_secret": SECRET,
            "slack_api_url": fake.url, **extra}


@pytest.fixture
async def harness(db_url: str, fake: FakeSlack) -> AsyncIterator[Harness]:
    async for h in start(make_app(db_url, **slack_settings(fake)), fake):
        yield h
