"""coach serve: health and readiness, and Slack left off without credentials."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import make_url, text

from bot.bootstrap import App, bootstrap
from bot.cli import main
from bot.server import make_web_app
from bot.settings import Settings
from bot.slack.app import enabled
from storage.db import make_engine
from tests.slack.conftest import Harness
from tests.support import make_app


async def test_health_and_readiness(harness: Harness) -> None:
    http = harness.http.http
    assert (await (await http.get("/healthz")).json()) == {"status": "ok"}
    assert (await (await http.get("/readyz")).json()) == {"status": "ready"}
    assert (await http.get("/slack/install")).status == 404  # no OAuth configured


async def test_without_slack_credentials_only_health_is_served(db_url: str) -> None:
    app = make_app(db_url, demo=False)
    assert not enabled(app)
    client = TestClient(TestServer(make_web_app(app, None), host="127.0.0.1"))
    await client.start_server()
    try:
        assert (await client.get("/healthz")).status == 200
        assert (await client.post("/slack/events", data=b"{}")).status == 404
    finally:
        await client.close()
        app.close()
    app.engine.dispose()


def test_serve_is_a_cli_command(capsys: object) -> None:
    try:
        main(["serve", "--help"])
    except SystemExit as exit_:
        assert exit_.code == 0


def test_manifest_matches_the_app() -> None:
    from pathlib import Path

    import yaml

    from bot.slack.app import BOT_SCOPES

    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "bot" / "slack" /
                               "manifest.yaml").read_text())
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == BOT_SCOPES
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/coach"]
    assert manifest["features"]["slash_commands"][0]["should_escape"] is True
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_home_opened", "message.im", "app_uninstalled", "tokens_revoked"}
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


async def test_the_api_client_builds_debug_lines_only_when_debug_logging_is_on(
        harness: Harness) -> None:
    """slack_sdk formats whole requests and responses for its debug log whenever its
    logger's own level is NOTSET or DEBUG; ours follows COACH_LOG_LEVEL (WARNING here)."""
    import logging

    from bot.slack.clients import api_logger

    assert harness.slack.bolt.client.logger.level > logging.DEBUG
    assert api_logger("debug").level == logging.DEBUG
    api_logger(harness.app.settings.coach_log_level)


@contextmanager
def read_only(db_url: str) -> Iterator[str]:
    """The same database, reachable only for reading: SQLite opened with mode=ro, or a
    PostgreSQL role that may read every table and write none."""
    if db_url.startswith("sqlite"):
        yield db_url.replace("sqlite:///", "sqlite:///file:", 1) + "?mode=ro&uri=true"
        return
    role = f"coach_reader_{uuid.uuid4().hex[:8]}"
    admin = make_engine(db_url, isolation_level="AUTOCOMMIT")
    url = make_url(db_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(text(f'GRANT CONNECT ON DATABASE "{url.database}" TO "{role}"'))
        conn.execute(text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))
        conn.execute(text(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"'))
    try:
        yield url.set(username=role).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
        admin.dispose()


async def readiness(app: App) -> tuple[int, dict[str, str]]:
    client = TestClient(TestServer(make_web_app(app, None), host="127.0.0.1"))
    await client.start_server()
    try:
        response = await client.get("/readyz")
        return response.status, await response.json()
    finally:
        await client.close()


async def test_not_ready_when_a_turn_could_not_commit(db_url: str) -> None:
    """SELECT 1 works on a read-only database while every turn fails: readiness writes."""
    writable = make_app(db_url, demo=False)
    try:
        assert await readiness(writable) == (200, {"status": "ready"})
    finally:
        writable.close()
    with read_only(db_url) as url:
        app = bootstrap(Settings(coach_env="test", database_url=url), migrate=False)
        try:
            with app.engine.connect() as conn:  # reading still works
                assert conn.execute(text("SELECT count(*) FROM person")).scalar() == 0
            status, body = await readiness(app)
            assert (status, body) == (503, {"status": "database unavailable"})
        finally:
            app.close()
