"""The Slack OAuth token store encrypted at rest (COACH_ENCRYPTION_KEY, Fernet): no token in
the raw rows, plaintext rows from before still read and encrypted on the next write, and
``coach keys rotate`` moving every token to a new key."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import Engine, text

from bot.cli import main
from bot.keyring import KeyMissing, Keyring, generate_key
from bot.slack.installations import SealedInstallationStore
from storage import audit
from tests.slack.conftest import IDS, Harness, start
from tests.slack.driver import SECRET
from tests.slack.fake_slack import FakeSlack
from tests.support import make_app

KEY, NEW_KEY = generate_key(), generate_key()
TOKEN, REFRESH, WEBHOOK = ("xoxb-plain-token-1234567890", "xoxe-1-refresh-" + "r" * 140,
                           "https://hooks.slack.com/services/T0/B0/secret")
TABLES = ("slack_installations", "slack_bots", "slack_oauth_states")


def raw_rows(engine: Engine) -> str:
    """Every column of both token tables, as text."""
    with engine.connect() as conn:
        return "\n".join(str(tuple(row)) for table in TABLES[:2]
                         for row in conn.execute(text(f"SELECT * FROM {table}")))


def empty_tables(engine: Engine) -> None:
    with engine.begin() as conn:  # not in our models: the conftest does not empty them
        for table in TABLES:
            conn.execute(text(f"DELETE FROM {table}"))


def installation(team: str = "T0ENC") -> Installation:
    return Installation(app_id="A0APP", enterprise_id=None, team_id=team, user_id="U0INST",
                        bot_token=TOKEN, bot_id="B0", bot_user_id="U0BOT",
                        bot_scopes="commands", bot_refresh_token=REFRESH,
                        incoming_webhook_url=WEBHOOK,
                        installed_at=datetime(2026, 12, 1, tzinfo=UTC).timestamp())


@pytest.fixture
async def oauth(db_url: str, fake: FakeSlack) -> AsyncIterator[Harness]:
    app = make_app(db_url, slack_client_id="111.222", slack_client_secret="oauth-secret",
                   slack_signing_secret=SECRET, slack_api_url=fake.url,
                   coach_encryption_key=KEY)
    empty_tables(app.engine)
    async for harness in start(app, fake):
        yield harness


@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_an_installed_token_is_encrypted_at_rest_and_used(oauth: Harness) -> None:
    http, fake = oauth.http.http, oauth.fake
    page = await http.get("/slack/install")
    state = re.search(r"state=([\w-]+)", await page.text())
    assert state is not None
    cookie = page.headers["Set-Cookie"].split(";")[0]
    done = await http.get(f"/slack/oauth_redirect?code=c0de&state={state.group(1)}",
                          headers={"Cookie": cookie})
    assert done.status == 200, await done.text()
    stored = raw_rows(oauth.app.engine)
    assert "T0OAUTH" in stored and "xoxb" not in stored  # the row is there, the token not
    event = oauth.http.event_body({"type": "app_home_opened", "user": IDS["maya"],
                                   "tab": "home"}, "Ev0ENC", "AppHomeOpenedPayload")
    event["team_id"] = event["authorizations"][0]["team_id"] = "T0OAUTH"
    assert (await oauth.http.event(event)).status == 200
    await oauth.http.settle()
    assert fake.of("views.publish")[-1].headers["Authorization"] == "Bearer xoxb-installed"


def test_plaintext_rows_are_read_and_encrypted_on_the_next_write(engine: Engine) -> None:
    empty_tables(engine)
    SealedInstallationStore("111.222", engine, Keyring()).save(installation())
    assert TOKEN in raw_rows(engine) and WEBHOOK in raw_rows(engine)  # before a key was set
    sealed = SealedInstallationStore("111.222", engine, Keyring([KEY]))
    found = sealed.find_installation(enterprise_id=None, team_id="T0ENC")
    assert found is not None
    assert (found.bot_token, found.bot_refresh_token, found.incoming_webhook_url) == (
        TOKEN, REFRESH, WEBHOOK)
    bot = sealed.find_bot(enterprise_id=None, team_id="T0ENC")
    assert bot is not None and bot.bot_token == TOKEN
    sealed.save(found)  # a write (a token refresh, a reinstall) replaces the row, encrypted
    stored = raw_rows(engine)
    assert "T0ENC" in stored
    assert not [secret for secret in (TOKEN, REFRESH, WEBHOOK) if secret in stored]
    latest = sealed.find_installation(enterprise_id=None, team_id="T0ENC", user_id="U0INST")
    assert latest is not None and latest.bot_token == TOKEN


def test_an_encrypted_token_needs_its_key(engine: Engine) -> None:
    empty_tables(engine)
    SealedInstallationStore("111.222", engine, Keyring([KEY])).save(installation())
    for keyring, problem in ((Keyring(), "COACH_ENCRYPTION_KEY is not set"),
                             (Keyring([NEW_KEY]), "not in COACH_ENCRYPTION_KEY")):
        with pytest.raises(KeyMissing, match=problem):
            SealedInstallationStore("111.222", engine, keyring).find_bot(
                enterprise_id=None, team_id="T0ENC")


def test_keys_rotate_moves_every_token_to_the_first_key(
        db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    empty_tables(engine)
    SealedInstallationStore("111.222", engine, Keyring([KEY])).save(installation())
    SealedInstallationStore("111.222", engine, Keyring()).save(installation("T0PLAIN"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("COACH_ENV", "test")
    monkeypatch.setenv("COACH_ACTOR", "ops-alice")
    monkeypatch.setenv("COACH_ENCRYPTION_KEY", NEW_KEY)  # the old key is not there
    before = raw_rows(engine)
    assert main(["keys", "rotate"]) == 2
    assert "not in COACH_ENCRYPTION_KEY" in capsys.readouterr().err
    assert raw_rows(engine) == before  # nothing changed

    monkeypatch.setenv("COACH_ENCRYPTION_KEY", f"{NEW_KEY},{KEY}")
    assert main(["keys", "rotate"]) == 0
    assert "10 stored token value(s)" in capsys.readouterr().out
    assert TOKEN not in raw_rows(engine) and "xox" not in raw_rows(engine)
    only_new = SealedInstallationStore("111.222", engine, Keyring([NEW_KEY]))
    for team in ("T0ENC", "T0PLAIN"):
        found = only_new.find_installation(enterprise_id=None, team_id=team)
        assert found is not None and found.user_token is None
        assert (found.bot_token, found.incoming_webhook_url) == (TOKEN, WEBHOOK)
    with engine.connect() as conn:
        entry = audit.recent(conn, 1)[0]
    assert (entry.actor, entry.action, entry.detail) == (
        "cli:ops-alice", "keys.rotate", {"values": 10, "keys": 2})


def test_keys_generate_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "generate"]) == 0
    key = capsys.readouterr().out.strip()
    assert Keyring([key]).open(Keyring([key]).seal("xoxb-1")) == "xoxb-1"
