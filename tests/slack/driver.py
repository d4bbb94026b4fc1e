"""Drive the real aiohttp endpoint with signed Slack requests built from the full-shape
payload samples, and a console-like driver (say / choose / submit) on top."""

from __future__ import annotations

import copy
import json
import time
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from slack_sdk.signature import SignatureVerifier

from bot.slack.app import SlackApp
from tests.slack.fake_slack import TEAM, FakeSlack

SECRET = "test-signing-secret"
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"


@cache
def _sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def sample(name: str) -> dict[str, Any]:
    return copy.deepcopy(_sample(name))


def sign(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": SignatureVerifier(secret).generate_signature(
                timestamp=ts, body=body)}


class SlackHTTP:
    """Signed requests to POST /slack/events, and a wait for the work after the ack."""

    def __init__(self, http: TestClient, slack: SlackApp, fake: FakeSlack) -> None:
        self.http, self.slack, self.fake = http, slack, fake
        self.team = TEAM  # the workspace the requests come from (and their users belong to)
        self._trigger = 0

    async def settle(self) -> None:
        await self.slack.gateway.idle()

    async def post(self, body: str, content_type: str, headers: dict[str, str] | None = None,
                   **extra: str) -> ClientResponse:
        head = {"Content-Type": content_type, **(headers if headers is not None else sign(body)),
                **extra}
        return await self.http.post("/slack/events", data=body.encode(), headers=head)

    def trigger(self) -> str:
        self._trigger += 1
        return f"trigger.{self._trigger}"

    def command_body(self, user: str, text: str) -> str:
        body = sample("SlashCommandPayload")
        body.update(team_id=self.team, team_domain="fake", user_id=user, user_name=user,
                    command="/coach", text=text, trigger_id=self.trigger(),
                    channel_id="C0GENERAL", channel_name="general", api_app_id="A0APP",
                    response_url=self.fake.respond_url(user), enterprise_id="",
                    is_enterprise_install=False)
        return urlencode(body)

    async def command(self, user: str, text: str) -> ClientResponse:
        return await self.post(self.command_body(user, text),
                               "application/x-www-form-urlencoded")

    async def interact(self, payload: dict[str, Any], **headers: str) -> ClientResponse:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded", **headers)

    def _base(self, kind: str, user: str) -> dict[str, Any]:
        body = sample("BlockActionPayload" if kind == "block_actions" else "ViewSubmissionPayload")
        body.update(type=kind, api_app_id="A0APP", trigger_id=self.trigger(),
                    is_enterprise_install=False)
        body["team"].update(id=self.team, domain="fake")
        body["user"].update(id=user, username=user, name=user, team_id=self.team)
        body["enterprise"] = None
        return body

    def action_in_view(self, user: str, view: dict[str, Any], action: dict[str, Any]
                       ) -> dict[str, Any]:
        body = self._base("block_actions", user)
        body["container"] = {"type": "view", "view_id": view["id"]}
        body["view"].update({k: view.get(k, "") for k in
                             ("id", "hash", "type", "private_metadata", "callback_id")})
        body["view"]["blocks"] = view.get("blocks", [])
        body["actions"] = [action]
        for key in ("message", "channel", "state", "response_url"):
            body.pop(key, None)
        return body

    def action_in_message(self, user: str, channel: str, ts: str, blocks: list[Any],
                          action: dict[str, Any]) -> dict[str, Any]:
        body = self._base("block_actions", user)
        body["container"] = {"type": "message", "message_ts": ts, "channel_id": channel,
                             "is_ephemeral": False}
        body["channel"] = {"id": channel, "name": "directmessage"}
        body["message"].update(ts=ts, blocks=blocks, text="", type="message")
        body["actions"] = [action]
        body.pop("view", None)
        return body

    def submission(self, user: str, view: dict[str, Any], values: dict[str, Any]
                   ) -> dict[str, Any]:
        body = self._base("view_submission", user)
        body["view"].update({k: view.get(k, "") for k in
                             ("id", "hash", "private_metadata", "callback_id")})
        body["view"].update(type="modal", blocks=view["blocks"],
                            state={"values": state_values(view, values)})
        return body

    def event_body(self, event: dict[str, Any], event_id: str, sample_name: str
                   ) -> dict[str, Any]:
        body = sample(sample_name)
        body.update(type="event_callback", team_id=self.team, api_app_id="A0APP",
                    event_id=event_id, event_time=int(time.time()), enterprise_id=None,
                    authorizations=[{"enterprise_id": None, "team_id": self.team,
                                     "user_id": "U0BOT", "is_bot": True,
                                     "is_enterprise_install": False}])
        body["event"] = {**body["event"], **event}
        return body

    async def event(self, body: dict[str, Any], **headers: str) -> ClientResponse:
        return await self.post(json.dumps(body), "application/json", **headers)


def state_values(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The ``state.values`` Slack would send for these field values in this view."""
    out: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        field_id = element["action_id"]
        raw = values.get(field_id)
        kind = element["type"]
        if kind == "datepicker":
            state = {"type": kind, "selected_date": raw}
        elif kind == "static_select":
            state = {"type": kind, "selected_option": None if raw is None else {
                "value": str(raw), "text": {"type": "plain_text", "text": str(raw)}}}
        else:
            state = {"type": kind, "value": None if raw is None else str(raw)}
        out[block["block_id"]] = {field_id: state}
    return out


def find_choice(blocks: list[dict[str, Any]], choice: str) -> dict[str, Any]:
    """The block action a click on (or a pick of) ``choice`` sends."""
    for block in blocks:
        if block["type"] != "actions":
            continue
        for element in block["elements"]:
            if element["type"] == "button" and json.loads(element["value"]).get("c") == choice:
                return {"type": "button", "action_id": element["action_id"],
                        "block_id": block["block_id"], "value": element["value"],
                        "text": element["text"], "action_ts": str(time.time())}
            for option in element.get("options", []):
                if option["value"] == f"c:{choice}":
                    return {"type": "static_select", "action_id": element["action_id"],
                            "block_id": block["block_id"], "selected_option": option,
                            "action_ts": str(time.time())}
    raise AssertionError(f"no choice {choice!r} in {json.dumps(blocks)[:2000]}")


class SlackDriver:
    """Console-like: say / choose / submit, each one signed HTTP request, then settle.

    Tracks the modal the user sees: opened or updated through the API, or returned
    by a view submission's ``response_action``.
    """

    def __init__(self, http: SlackHTTP, user: str) -> None:
        self.http, self.user = http, user
        self.view: dict[str, Any] | None = None

    async def say(self, text: str) -> dict[str, Any] | None:
        command = text.removeprefix("/coach").strip()
        response = await self.http.command(self.user, command)
        assert response.status == 200, await response.text()
        await self.http.settle()
        self.view = self.http.fake.last_view()
        return self.view

    async def choose(self, choice: str) -> dict[str, Any]:
        assert self.view is not None
        action = find_choice(self.view["blocks"], choice)
        response = await self.http.interact(self.http.action_in_view(self.user, self.view,
                                                                     action))
        assert response.status == 200, await response.text()
        await self.http.settle()
        self.view = self.http.fake.views[self.view["id"]]
        return self.view

    async def submit(self, **values: Any) -> dict[str, Any]:
        assert self.view is not None
        response = await self.http.interact(self.http.submission(self.user, self.view, values))
        assert response.status == 200, await response.text()
        answer = await response.json()
        assert answer["response_action"] == "update", answer
        # Slack shows the answer's view at once; work after it (a model's late answer)
        # may update it again while the driver settles.
        view_id = self.view["id"]
        self.http.fake.views[view_id] = {**answer["view"], "id": view_id,
                                         "hash": self.view["hash"]}
        await self.http.settle()
        self.view = self.http.fake.views[view_id]
        return self.view


def view_text(view: dict[str, Any]) -> str:
    return "\n".join(b["text"]["text"] for b in view["blocks"]
                     if b["type"] == "section" and "text" in b)
