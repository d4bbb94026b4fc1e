"""A fake Bot Connector (and a JWKS endpoint) on loopback: the ``serviceUrl`` of every
activity the tests send. It records every reply, update and proactive send with its
Authorization header, answers the roster (conversation members), can be told to fail
the next sends (429 with Retry-After, 5xx) and to hold updates back, and checks every
outgoing card against the Adaptive Card 1.5 schema and the size limit."""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.teams.cards import problems


@dataclass
class Sent:
    kind: str  # send | reply | update
    conversation: str
    activity: dict[str, Any]
    authorization: str
    activity_id: str = ""  # the activity replied to, or updated
    id: str = ""  # the id the connector gave it (a card's id, for its submits)
    peer: Any = None  # the client address it came from (a reused connection keeps it)

    @property
    def text(self) -> str:
        return str(self.activity.get("text") or "")

    @property
    def said(self) -> str:
        """Everything the activity says: its text and its cards' text blocks."""
        blocks = [b.get("text", "") for card in self.cards for b in card.get("body", ())
                  if b.get("type") == "TextBlock"]
        return "\n".join([self.text, *blocks]).strip()

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [a["content"] for a in self.activity.get("attachments") or ()
                if isinstance(a.get("content"), dict)]


@dataclass
class FakeConnector:
    sent: list[Sent] = field(default_factory=list)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # Teams user id: member
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    roster_calls: int = 0
    checking: bool = True  # check every card against the schema (off for benchmarks)
    server: TestServer | None = None
    update_gate: asyncio.Event | None = None  # when set up, updates wait until it is set
    updates_arrived: int = 0  # update requests received, answered or still waiting
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/"))

    @property
    def jwks_url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/keys"))

    async def start(self) -> FakeConnector:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}",
                            self._reply)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}",
                           self._update)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        app.router.add_get("/keys", self._keys)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def add_member(self, user_id: str, aad_id: str, email: str, name: str,
                   tenant: str) -> None:
        self.members[user_id] = {"id": user_id, "aadObjectId": aad_id, "email": email,
                                 "userPrincipalName": email, "name": name,
                                 "tenantId": tenant}

    def fail_next(self, status: int, retry_after: str | None = None, times: int = 1) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.failures.extend([(status, headers)] * times)

    def of(self, kind: str) -> list[Sent]:
        return [s for s in self.sent if s.kind == kind]

    def to(self, conversation: str) -> list[Sent]:
        return [s for s in self.sent if s.conversation == conversation and s.kind != "update"]

    async def _record(self, kind: str, request: web.Request) -> web.Response:
        if self.failures:
            status, headers = self.failures.pop(0)
            return web.json_response({"error": {"code": "Throttled"}}, status=status,
                                     headers=headers)
        activity = json.loads(await request.read())
        if self.checking:
            self.problems.extend(problems(activity))
        given = request.match_info.get("activity", "")
        new_id = given if kind == "update" else f"act-{next(self._ids)}"
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.sent.append(Sent(kind, request.match_info["conversation"], activity,
                              request.headers.get("Authorization", ""), given, new_id, peer))
        return web.json_response({"id": new_id}, status=200)

    async def _send(self, request: web.Request) -> web.Response:
        return await self._record("send", request)

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._record("reply", request)

    async def _update(self, request: web.Request) -> web.Response:
        self.updates_arrived += 1
        if self.update_gate is not None:
            await self.update_gate.wait()
        return await self._record("update", request)

    async def _member(self, request: web.Request) -> web.Response:
        self.roster_calls += 1
        member = self.members.get(request.match_info["member"])
        if member is None:
            return web.json_response({"error": {"code": "MemberNotFoundInConversation"}},
                                     status=404)
        return web.json_response(member)

    async def _keys(self, request: web.Request) -> web.Response:
        return web.json_response(self.jwks)
