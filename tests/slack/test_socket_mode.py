"""Socket Mode: the same app over a WebSocket (a fake Slack socket on loopback)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from tests.slack.conftest import IDS, start
from tests.slack.fake_slack import FakeSlack
from tests.support import make_app


async def test_coach_over_socket_mode(db_url: str, fake: FakeSlack) -> None:
    app = make_app(db_url, slack_bot_token="xoxb-test", slack_app_token="xapp-test",
                   slack_api_url=fake.url)
    async for harness in start(app, fake, socket_mode=True):
        assert (await harness.http.http.post("/slack/events", data=b"{}")).status == 404
        assert fake.of("apps.connections.open")
        body = dict(parse_qsl(harness.http.command_body(IDS["maya"], "alice")))
        ack = await fake.push({"envelope_id": "env-1", "type": "slash_commands",
                               "payload": body, "accepts_response_payload": True,
                               "retry_attempt": 0, "retry_reason": ""})
        assert ack["envelope_id"] == "env-1"
        await harness.http.settle()
        opened = fake.of("views.open")
        assert opened and opened[0].args["view"]["title"]["text"] == "Coaching session"
