"""Drive POST /api/messages with Teams activities (signed when an app id is configured),
and a console-like driver (say / choose / submit) on top that answers the last card."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.teams.fake_connector import FakeConnector, Sent

TENANT = "tenant-one"
BOT = "28:coach-bot"
ISSUER = "https://api.botframework.com"


@dataclass
class Signer:
    """Signs Bot Framework-style tokens with a key published on the fake JWKS endpoint."""

    app_id: str
    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(
        public_exponent=65537, key_size=2048))
    kid: str = "test-key"

    def publish(self, connector: FakeConnector) -> None:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        connector.jwks["keys"] = [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]

    def token(self, service_url: str, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": self.app_id, "nbf": now - 10, "exp": now + 600,
                "serviceurl": service_url, **claims}
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": self.kid})


@dataclass
class User:
    local: str
    aad: str
    name: str
    tenant: str = TENANT

    @property
    def teams_id(self) -> str:
        return f"29:{self.local}"

    @property
    def chat(self) -> str:
        return f"a:personal-{self.local}"


class TeamsHTTP:
    def __init__(self, http: TestClient, connector: FakeConnector,
                 signer: Signer | None = None,
                 settle: Callable[[], Awaitable[None]] | None = None) -> None:
        """``settle``: awaited after each post, for what the bot sends after its HTTP
        answer (an answered card's read-only update)."""
        self.http, self.connector, self.signer = http, connector, signer
        self.settle = settle
        self._ids = itertools.count(1)

    def activity(self, user: User, **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "message", "id": f"in-{next(self._ids)}", "channelId": "msteams",
            "serviceUrl": self.connector.url, "timestamp": "2026-12-01T15:00:00.000Z",
            "from": {"id": user.teams_id, "aadObjectId": user.aad, "name": user.name},
            "conversation": {"id": user.chat, "conversationType": "personal",
                             "tenantId": user.tenant},
            "recipient": {"id": BOT, "name": "Coach"},
            "channelData": {"tenant": {"id": user.tenant}}, "locale": "en-US"}
        body.update(fields)
        return body

    async def post(self, body: Any, *, token: str | None = None,
                   raw: bytes | None = None, settle: bool = True) -> ClientResponse:
        headers = {"Content-Type": "application/json"}
        if token is None and self.signer is not None:
            token = self.signer.token(self.connector.url)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else json.dumps(body).encode()
        response = await self.http.post("/api/messages", data=data, headers=headers)
        if settle and self.settle is not None:
            await self.settle()
        return response

    async def message(self, user: User, text: str, **fields: Any) -> ClientResponse:
        return await self.post(self.activity(user, text=text, **fields))


def last_card(sent: list[Sent]) -> Sent:
    for item in reversed(sent):
        if item.cards:
            return item
    raise AssertionError("no card was sent")


def card_submit(card: dict[str, Any], verb: str) -> dict[str, Any]:
    for action in card.get("actions") or ():
        data = action.get("data") or {}
        if data.get("coach") == verb:
            return dict(data)
    raise AssertionError(f"no {verb} action in {card}")


def choice_value(card: dict[str, Any], choice: str) -> dict[str, Any]:
    """The value Teams sends when ``choice`` is clicked (or picked from the drop-down)."""
    for action in card.get("actions") or ():
        data = action.get("data") or {}
        if data.get("coach") == "choose" and data.get("choice") == choice:
            return dict(data)
    data = card_submit(card, "choose")
    assert choice in (data.get("labels") or {}), f"no choice {choice!r} in {card}"
    return {**data, "choice": choice}


class TeamsDriver:
    """Console-like: say / choose / submit, each one activity POSTed to /api/messages;
    choose and submit answer the last card the bot sent in this chat."""

    def __init__(self, http: TeamsHTTP, user: User) -> None:
        self.http, self.user = http, user

    @property
    def chat(self) -> list[Sent]:
        return self.http.connector.to(self.user.chat)

    async def say(self, text: str) -> ClientResponse:
        response = await self.http.message(self.user, text.removeprefix("/"))
        assert response.status in (200, 202), await response.text()
        return response

    async def choose(self, choice: str) -> ClientResponse:
        card = last_card(self.chat)
        return await self.answer(card, choice_value(card.cards[0], choice))

    async def submit(self, **values: Any) -> ClientResponse:
        card = last_card(self.chat)
        data = card_submit(card.cards[0], "submit")
        return await self.answer(card, {**data, **{f"f.{k}": str(v) for k, v in values.items()}})

    async def answer(self, card: Sent, value: dict[str, Any]) -> ClientResponse:
        response = await self.http.post(self.http.activity(
            self.user, value=value, replyToId=card.id))
        assert response.status in (200, 202), await response.text()
        return response
