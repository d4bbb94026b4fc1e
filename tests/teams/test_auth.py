"""With an app id configured, POST /api/messages takes only activities with a valid Bot
Framework token (checked by the SDK's own JWT validator, against keys served on loopback);
without one it is anonymous, for local development."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import jwt
import pytest
from microsoft_agents.hosting.core.authorization.jwt import jwt_token_validator
from sqlalchemy import func, select

from storage.models import Conversation, ProcessedEvent, TeamsConversation
from tests.support import make_app
from tests.teams.conftest import TOKEN, USERS, Harness, anonymous, start
from tests.teams.driver import ISSUER, Signer
from tests.teams.fake_connector import FakeConnector

APP_ID = "00000000-0000-0000-0000-00000000a11d"


@pytest.fixture
async def secured(db_url: str, connector: FakeConnector, monkeypatch: pytest.MonkeyPatch,
                  request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    signer = Signer(APP_ID)
    signer.publish(connector)
    # The SDK fetches signing keys from Microsoft's JWKS endpoint: here, the fake's.
    monkeypatch.setattr(jwt_token_validator, "_build_jwks_uri",
                        lambda *args: connector.jwks_url)
    settings = anonymous(teams_app_id=APP_ID, teams_app_password="a-real-secret",
                         # the fake connector is http on loopback: only the SSRF test checks
                         teams_outbound_check=bool(getattr(request, "param", False)))
    async for h in start(make_app(db_url, **settings), connector, signer):
        yield h


def stored(h: Harness) -> int:
    with h.app.sessions() as db:
        return sum(db.scalar(select(func.count()).select_from(table)) or 0
                   for table in (Conversation, ProcessedEvent, TeamsConversation))


async def test_a_signed_activity_is_handled_and_replied_to_with_a_token(
        secured: Harness) -> None:
    response = await secured.http.message(USERS["maya"], "help")
    assert response.status in (200, 202), await response.text()
    replies = secured.connector.to(USERS["maya"].chat)
    assert replies and "/coach" in replies[-1].text
    assert replies[-1].authorization == f"Bearer {TOKEN}"  # the app's own token, outbound


async def test_a_renewed_token_goes_out_on_the_kept_client(
        secured: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The connector client is kept between turns, with the token the provider gives now
    (MSAL renews it before it expires)."""
    from tests.teams import conftest

    await secured.http.message(USERS["maya"], "help")
    monkeypatch.setattr(conftest, "TOKEN", "renewed-token")
    await secured.http.message(USERS["maya"], "help")
    replies = secured.connector.to(USERS["maya"].chat)
    assert [r.authorization for r in replies[-2:]] == [f"Bearer {TOKEN}", "Bearer renewed-token"]
    assert replies[-1].peer == replies[-2].peer  # the same kept connection


@pytest.mark.parametrize("case", ["missing", "garbage", "wrong key", "wrong audience",
                                  "expired", "not bearer"])
async def test_a_missing_or_invalid_token_gets_401_and_nothing_is_stored(
        secured: Harness, case: str) -> None:
    http, maya = secured.http, USERS["maya"]
    url = secured.connector.url
    tokens = {
        "missing": "", "garbage": "not.a.jwt",
        "wrong key": Signer(APP_ID).token(url),  # same kid, another key
        "wrong audience": Signer(APP_ID, key=http.signer.key).token(url, aud="someone-else")
        if http.signer else "",
        "expired": jwt.encode({"iss": ISSUER, "aud": APP_ID, "exp": int(time.time()) - 3600,
                               "serviceurl": url}, http.signer.key, algorithm="RS256",
                              headers={"kid": "test-key"}) if http.signer else "",
    }
    body = http.activity(maya, text="coach alice")
    if case == "not bearer":
        response = await http.http.post("/api/messages", json=body,
                                        headers={"Authorization": "Basic abc"})
    elif case == "missing":
        response = await http.http.post("/api/messages", json=body)
    else:
        response = await http.post(body, token=tokens[case])
    assert response.status == 401
    assert stored(secured) == 0
    assert secured.connector.sent == []


@pytest.mark.parametrize("secured", [True], indirect=True)
async def test_a_service_url_outside_the_allowed_hosts_is_refused(secured: Harness) -> None:
    """With an app id the SDK's anti-SSRF check is on: replies go only to Microsoft's
    connector hosts (and TEAMS_SERVICE_HOSTS)."""
    http = secured.http
    body = http.activity(USERS["maya"], text="help", serviceUrl="https://evil.example.com/")
    assert http.signer is not None
    response = await http.post(body, token=http.signer.token("https://evil.example.com/"))
    assert response.status == 401
    assert stored(secured) == 0


async def test_the_sdk_sees_the_claims_the_jwt_check_found(
        secured: Harness, caplog: pytest.LogCaptureFixture) -> None:
    """The SDK compares the token's ``serviceurl`` claim with the activity's (refusing a
    mismatch when the outbound check is on): the claims its JWT check found reach it
    through the endpoint's request reader."""
    http = secured.http
    assert http.signer is not None
    body = http.activity(USERS["maya"], text="help")
    await http.post(body, token=http.signer.token("https://elsewhere.example/"))
    assert any("elsewhere.example vs 127.0.0.1" in r.getMessage() for r in caplog.records)


async def test_without_an_app_id_activities_need_no_token(harness: Harness,
                                                          caplog: pytest.LogCaptureFixture
                                                          ) -> None:
    assert any("ANONYMOUS" in r.getMessage() for r in caplog.get_records("setup"))
    response = await harness.http.message(USERS["maya"], "help")
    assert response.status in (200, 202)
    assert harness.connector.to(USERS["maya"].chat)[-1].authorization == ""


async def test_a_proactive_message_carries_the_apps_token(secured: Harness) -> None:
    from bot.channels.who import Who
    from flows.messages import Say
    from tests.teams.test_proactive import bind, install

    alice = USERS["alice"]
    bind(secured, "alice")
    assert (await secured.http.post(install(secured, alice))).status in (200, 202)
    sent_before = len(secured.connector.sent)
    await secured.teams.gateway.on_behalf(Who("teams", "tenant-one", alice.aad),
                                          Say("/checkin"), "checkin:alice:9")
    await secured.teams.gateway.idle()
    await secured.teams.gateway.outbox.run_once()
    proactive = secured.connector.sent[sent_before:]
    assert proactive and {s.authorization for s in proactive} == {f"Bearer {TOKEN}"}
