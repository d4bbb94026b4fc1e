"""Many workspaces: install through /slack/install and /slack/oauth_redirect into our
database; uninstall and token revocation remove the installation."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, func, inspect, select, text

from tests.slack.conftest import IDS, Harness, start
from tests.slack.driver import SECRET
from tests.slack.fake_slack import FakeSlack
from tests.support import make_app

TABLES = ("slack_installations", "slack_bots", "slack_oauth_states")


@pytest.fixture
async def oauth(db_url: str, fake: FakeSlack) -> AsyncIterator[Harness]:
    app = make_app(db_url, slack_client_id="111.222", slack_client_secret="oauth-secret",
                   slack_signing_secret=SECRET, slack_api_url=fake.url)
    with app.engine.begin() as conn:  # these tables are not in our models: empty them here
        for table in TABLES:
            conn.execute(text(f"DELETE FROM {table}"))
    async for harness in start(app, fake):
        yield harness


def test_migration_matches_slack_sdk_tables(engine: object) -> None:
    metadata = MetaData()
    SQLAlchemyInstallationStore.build_installations_table(metadata, "slack_installations")
    SQLAlchemyInstallationStore.build_bots_table(metadata, "slack_bots")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, "slack_oauth_states")
    found = inspect(engine)
    for table in metadata.sorted_tables:
        columns = {c["name"]: c for c in found.get_columns(table.name)}
        assert set(columns) == {c.name for c in table.columns}, table.name
        for column in table.columns:
            assert columns[column.name]["nullable"] == column.nullable, column


# slack_sdk 3.48 still builds aiohttp.BasicAuth for oauth.v2.access; aiohttp 3.14 warns.
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_install_then_events_then_uninstall(oauth: Harness) -> None:
    http, fake = oauth.http.http, oauth.fake
    page = await http.get("/slack/install")
    assert page.status == 200
    state = re.search(r"state=([\w-]+)", await page.text())
    assert state is not None
    cookie = page.headers["Set-Cookie"].split(";")[0]  # Secure: the test client keeps it back
    done = await http.get(f"/slack/oauth_redirect?code=c0de&state={state.group(1)}",
                          headers={"Cookie": cookie})
    assert done.status == 200, await done.text()
    assert fake.of("oauth.v2.access")
    with oauth.app.engine.connect() as conn:
        row = conn.execute(text("SELECT team_id, bot_token FROM slack_bots")).one()
        assert tuple(row) == ("T0OAUTH", "xoxb-installed")  # stored in clear
        assert conn.execute(text("SELECT count(*) FROM slack_oauth_states")).scalar() == 0

    event = oauth.http.event_body({"type": "app_home_opened", "user": IDS["maya"],
                                   "tab": "home"}, "Ev0OAUTH", "AppHomeOpenedPayload")
    event["team_id"] = "T0OAUTH"
    event["authorizations"][0]["team_id"] = "T0OAUTH"
    assert (await oauth.http.event(event)).status == 200
    await oauth.http.settle()
    published = fake.of("views.publish")[-1]
    assert published.headers["Authorization"] == "Bearer xoxb-installed"

    for kind, sample in (("tokens_revoked", "TokensRevokedPayload"),
                         ("app_uninstalled", "AppUninstalledPayload")):
        body = oauth.http.event_body({"type": kind} if kind == "app_uninstalled" else
                                     {"type": kind, "tokens": {"oauth": [], "bot": ["U0BOT"]}},
                                     f"Ev0{kind}", sample)
        body["team_id"] = "T0OAUTH"
        body["authorizations"][0]["team_id"] = "T0OAUTH"
        assert (await oauth.http.event(body)).status == 200
        await oauth.http.settle()
    with oauth.app.engine.connect() as conn:
        for table in ("slack_installations", "slack_bots"):
            assert conn.execute(select(func.count()).select_from(text(table))).scalar() == 0


def test_migration_0002_goes_down_and_up(tmp_path: object) -> None:
    from pathlib import Path

    from alembic import command

    from storage.db import make_engine
    from storage.migrate import alembic_config, upgrade

    assert isinstance(tmp_path, Path)
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert not set(TABLES) & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert set(TABLES) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_the_oauth_exchange_gives_up_in_time(oauth: Harness) -> None:
    """oauth.v2.access goes through the app's client: the shared session's timeout."""
    flow = oauth.slack.bolt.oauth_flow
    assert flow is not None and flow.client is oauth.slack.bolt.client
    session = flow.client.session
    assert session is not None and session.timeout.total == oauth.slack.api_timeout
