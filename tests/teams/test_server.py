"""``coach serve`` hosts Teams beside Slack on one shared gateway, when it is configured."""

from __future__ import annotations

import json

import pytest
from microsoft_agents.activity import Activity

from bot.surfaces import configured_surfaces, shared_gateway
from bot.teams.app import TeamsApp, read
from tests.support import make_app
from tests.teams.conftest import USERS, Harness


def test_teams_is_hosted_when_configured_and_off_otherwise(db_url: str) -> None:
    app = make_app(db_url, demo=False, teams_tenant_id="tenant-one",
                   slack_bot_token="xoxb-test", slack_signing_secret="s3cret")
    surfaces = configured_surfaces(app, shared_gateway(app))
    teams = [s for s in surfaces if isinstance(s, TeamsApp)]
    assert len(surfaces) == 2 and len(teams) == 1
    assert surfaces[0].gateway is teams[0].gateway  # one outbox sends through both notifiers
    assert set(teams[0].gateway.outbox.notifiers) == {"slack", "teams"}
    assert not teams[0].gateway.database.lane.loop_first  # Slack's acks come first
    teams[0].gateway.close()
    app.close()

    alone = make_app(db_url, demo=False, teams_tenant_id="tenant-one")
    gateway = shared_gateway(alone)
    [teams_alone] = configured_surfaces(alone, gateway)
    assert isinstance(teams_alone, TeamsApp)
    assert gateway.database.lane.loop_first  # every answer waits for its turn anyway
    gateway.close()
    alone.close()

    off = make_app(db_url, demo=False)
    unused = shared_gateway(off)
    assert configured_surfaces(off, unused) == []
    unused.close()
    off.close()


async def test_a_body_the_sdk_refuses_to_read_gets_400_not_500(harness: Harness) -> None:
    """The SDK's Activity validator raises a bare Exception when a body's channel id and
    its productInfo entity disagree: refused like any unreadable body."""
    body = harness.http.activity(USERS["maya"], text="help", channelId="msteams:one",
                                 entities=[{"type": "ProductInfo", "id": "two"}])
    response = await harness.http.post(body)
    assert response.status == 400
    assert harness.connector.sent == []


async def test_the_sdk_takes_the_activity_read_once_as_it_is(harness: Harness) -> None:
    """The endpoint validates a body once and hands the SDK that Activity, which the SDK
    validates again with ``Activity.model_validate``: that must hand it back as it is
    (else every body would be validated twice, or refused)."""
    activity = read(json.dumps(harness.http.activity(USERS["maya"], text="help")).encode())
    assert isinstance(activity, Activity)
    assert Activity.model_validate(activity) is activity
    response = await harness.http.message(USERS["maya"], "help")
    assert response.status in (200, 202)
    assert harness.connector.to(USERS["maya"].chat)


@pytest.mark.parametrize("body, problem", [
    (b"{", "the body is not JSON"), (b"[1]", "the body is not an activity"),
    (b'{"type": 3}', "the body is not an activity"),
    (b'{"type": "message"}', "the activity has no type or conversation"),
    (b'{"type": "message", "conversation": {"id": "c"}, "serviceUrl": "file:///etc"}',
     "the activity's serviceUrl is not an http(s) URL")])
def test_what_the_endpoint_cannot_read_is_named(body: bytes, problem: str) -> None:
    assert read(body) == problem
