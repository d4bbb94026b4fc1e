"""The operational side of ``coach serve`` in process: request ids, /readyz and the
migration head, and what a stopping process still answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import bootstrap
from bot.server import REQUEST_ID_HEADER, STOPPING_KEY, make_web_app
from bot.settings import Settings
from storage.db import make_engine
from storage.migrate import migrate
from tests.support import make_app


@pytest.fixture
async def client(db_url: str) -> AsyncIterator[TestClient]:
    app = make_app(db_url, demo=False)
    client = TestClient(TestServer(make_web_app(app, None), host="127.0.0.1"))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()
        app.close()


async def test_each_answer_carries_a_request_id_a_plain_one_from_the_caller_kept(
        client: TestClient) -> None:
    first = (await client.get("/healthz")).headers[REQUEST_ID_HEADER]
    second = (await client.get("/healthz")).headers[REQUEST_ID_HEADER]
    assert first != second and len(first) == 16
    kept = await client.get("/healthz", headers={REQUEST_ID_HEADER: "lb-7f3a.42"})
    assert kept.headers[REQUEST_ID_HEADER] == "lb-7f3a.42"
    forged = await client.get("/healthz", headers={REQUEST_ID_HEADER: "a b\" injected=1"})
    assert forged.headers[REQUEST_ID_HEADER] != "a b\" injected=1"


async def test_a_stopping_process_refuses_work_says_not_ready_and_stays_alive(
        client: TestClient) -> None:
    client.server.app[STOPPING_KEY].set()
    refused = await client.post("/slack/events", data=b"{}")
    assert refused.status == 503 and refused.headers["Retry-After"] == "5"
    assert await refused.json() == {"status": "shutting down"}
    assert (await client.get("/readyz")).status == 503
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/metrics")).status == 200


async def test_not_ready_while_the_schema_is_behind_the_code(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    migrate(engine, "0013_flat")  # an upgrade not run yet
    engine.dispose()
    app = bootstrap(Settings(coach_env="test", database_url=empty_db_url), migrate=False)
    client = TestClient(TestServer(make_web_app(app, None), host="127.0.0.1"))
    await client.start_server()
    try:
        response = await client.get("/readyz")
        assert (response.status, await response.json()) == (
            503, {"status": "schema not at the migration head"})
    finally:
        await client.close()
        app.close()
