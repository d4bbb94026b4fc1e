"""A real aiohttp app with the Agents SDK behind POST /api/messages, and the fake Bot
Connector on loopback as every activity's serviceUrl."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from microsoft_agents.hosting.core import AgentAuthConfiguration

from bot.bootstrap import App
from bot.cli.demo_org import DOMAIN
from bot.server import make_web_app
from bot.teams.app import TeamsApp, build_teams
from tests.support import Sleeps, make_app
from tests.teams.driver import TENANT, Signer, TeamsHTTP, User
from tests.teams.fake_connector import FakeConnector

NAMES = {"maya": "Maya Manager", "alice": "Alice Adams", "bob": "Bob Brown",
         "lee": "Lee Leader", "omar": "Omar Manager", "carmen": "Carmen Cruz"}
USERS = {local: User(local, f"aad-{local}", name) for local, name in NAMES.items()}
TOKEN = "token-from-entra"


class FakeTokens:
    """Stands in for MSAL: hands out a fixed token, records what it was asked for."""

    def __init__(self, config: AgentAuthConfiguration) -> None:
        self._configuration = config
        self.asked: list[str] = []

    @property
    def configuration(self) -> AgentAuthConfiguration:
        return self._configuration

    async def get_access_token(self, resource_url: str, scopes: list[str],
                               force_refresh: bool = False) -> str:
        self.asked.append(resource_url)
        return TOKEN

    def get_token_credential(self) -> Any:
        raise NotImplementedError


@dataclass
class Harness:
    app: App
    teams: TeamsApp
    connector: FakeConnector
    http: TeamsHTTP
    sleeps: Sleeps


async def connector_with_every_user() -> AsyncIterator[FakeConnector]:
    """The fake Bot Connector with every test user on its roster; afterwards, it saw no
    problem (a fixture of any Teams test module: ``pytest.fixture(...)`` of this)."""
    fake = await FakeConnector().start()
    for user in USERS.values():
        fake.add_member(user.teams_id, user.aad, f"{user.local}@{DOMAIN}", user.name, TENANT)
    yield fake
    await fake.close()
    assert fake.problems == [], fake.problems


connector = pytest.fixture(connector_with_every_user)


async def start(app: App, connector: FakeConnector,
                signer: Signer | None = None) -> AsyncIterator[Harness]:
    sleeps = Sleeps()
    teams = build_teams(app, token_providers=FakeTokens, sleep=sleeps)
    server = TestServer(make_web_app(app, teams, delivery_every=None), host="127.0.0.1")
    client = TestClient(server)
    await client.start_server()
    try:
        http = TeamsHTTP(client, connector, signer, teams.handlers.card_updates_sent)
        yield Harness(app, teams, connector, http, sleeps)
    finally:
        await teams.gateway.idle()
        await client.close()
        app.close()


def anonymous(**extra: Any) -> dict[str, Any]:
    return {"teams_tenant_id": TENANT, **extra}


@pytest.fixture
async def harness(db_url: str, connector: FakeConnector) -> AsyncIterator[Harness]:
    async for h in start(make_app(db_url, **anonymous()), connector):
        yield h
