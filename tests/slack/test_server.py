"""coach serve: health and readiness, and Slack left off without credentials."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from bot.cli import main
from bot.server import make_web_app
from bot.slack.app import enabled
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
