"""A fake Slack Web API on loopback that records every call (as bolt-python's tests do).

It answers the methods the app uses, keeps views (id, hash) so a stale
``views.update`` gets ``hash_conflict``, knows a small user directory, can be told
to fail a method (429 with Retry-After, 5xx) a number of times, to hang on one
channel, or to stall a method after doing it (the caller never hears it arrived), and
checks every view and message it receives against the Block Kit limits.
It keeps each DM's messages with their metadata, for ``conversations.history``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.slack.limits import check_message, check_view

TEAM = "T0TEAM"
BOT_USER = "U0BOT"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    status: int = 200
    ok: bool = True
    at: float = field(default_factory=time.monotonic)  # when the request came in


@dataclass
class User:
    id: str
    email: str
    name: str
    tz: str = "America/New_York"
    team: str = TEAM


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)
    checking: bool = True  # check every view and message against the Block Kit limits
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    ack_waiters: dict[str, Any] = field(default_factory=dict)
    server: TestServer | None = None
    view_calls: int = 0  # views.* calls answered so far (the benchmark waits on it)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # DM id: newest last
    clock: Callable[[], float] = time.time  # message timestamps (``ts``), in seconds
    hangs: set[tuple[str, str]] = field(default_factory=set)  # (method, channel): no answer
    stalls: set[str] = field(default_factory=set)  # methods done, then answered only when freed
    _unstalled: asyncio.Event = field(default_factory=asyncio.Event)
    _released: asyncio.Event = field(default_factory=asyncio.Event)
    _view_waiters: list[tuple[int, Any]] = field(default_factory=list)
    installs: list[str] = field(default_factory=list)  # teams oauth.v2.access installs next
    # files_upload_v2: file id → {"name", "title", "alt_txt", "data"} (data once uploaded)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/api/"))

    def respond_url(self, name: str = "r") -> str:
        assert self.server is not None
        return str(self.server.make_url(f"/respond/{name}"))

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        self._released.set()  # hung requests answer, so the server can stop
        self._unstalled.set()
        if self.server is not None:
            await self.server.close()

    def add_user(self, user_id: str, email: str, name: str, tz: str = "America/New_York",
                 team: str = TEAM) -> None:
        self.users[user_id] = User(user_id, email, name, tz, team)

    def fail(self, method: str, status: int, times: int = 1, **headers: str) -> None:
        self.failures.setdefault(method, []).extend([(status, headers)] * times)

    def stall(self, method: str) -> None:
        """Carry out ``method`` (a message lands in the DM) but answer only after
        :meth:`unstall`: a sender killed meanwhile never learns that it arrived."""
        self.stalls.add(method)
        self._unstalled.clear()

    def unstall(self) -> None:
        self.stalls.clear()
        self._unstalled.set()

    def hang(self, method: str, channel: str) -> None:
        """Never answer ``method`` for ``channel`` (until the fake closes)."""
        self.hangs.add((method, channel))

    def dm_of(self, user_or_channel: str) -> str:
        """The bot's DM with a user (``D…`` for ``U…``), as conversations.open names it."""
        if user_or_channel.startswith("U"):
            return "D" + user_or_channel[1:]
        return user_or_channel

    def of(self, method: str, *, ok_only: bool = True) -> list[Call]:
        return [c for c in self.calls
                if c.method == method and ((c.status == 200 and c.ok) or not ok_only)]

    async def wait_views(self, at_least: int, timeout: float = 60.0) -> int:
        """Wait until ``at_least`` views.* calls were answered (no polling)."""
        import asyncio

        if self.view_calls < at_least:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._view_waiters.append((at_least, waiter))
            await asyncio.wait_for(waiter, timeout)
        return self.view_calls

    def _count_view(self) -> None:
        self.view_calls += 1
        ready = [w for w in self._view_waiters if w[0] <= self.view_calls]
        for entry in ready:
            self._view_waiters.remove(entry)
            if not entry[1].done():
                entry[1].set_result(None)

    def last_view(self) -> dict[str, Any]:
        """The modal most recently opened or updated (as stored: with id and hash)."""
        return self.views[self.touched[-1]]

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, push queued envelopes, collect the app's acks."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "debug_info": {"host": "fake"}, "connection_info": {"app_id": "A0"}})
        async for message in ws:
            if message.type == web.WSMsgType.TEXT:
                ack = json.loads(message.data)
                self.socket_acks.append(ack)
                waiter = self.ack_waiters.pop(ack.get("envelope_id"), None)
                if waiter is not None:
                    waiter.set_result(ack)
        return ws

    async def push(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """Send an envelope to the connected app; return its ack."""
        import asyncio

        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.ack_waiters[envelope["envelope_id"]] = waiter
        await self.sockets[-1].send_json(envelope)
        return await asyncio.wait_for(waiter, timeout=10)

    async def _upload(self, request: web.Request) -> web.Response:
        """Step 2 of files_upload_v2: the bytes, posted to the URL getUploadURLExternal gave."""
        file_id = request.match_info["file_id"]
        data = await request.read()
        self.calls.append(Call("upload", {"file_id": file_id, "length": len(data)},
                               dict(request.headers)))
        if file_id not in self.files:
            return web.Response(status=404, text="unknown upload")
        self.files[file_id]["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(Call("response_url", body, dict(request.headers)))
        return web.json_response({"ok": True})

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update(dict(await request.post()))
        for key in ("view", "blocks", "files"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        if (method, str(args.get("channel", ""))) in self.hangs:
            self.calls.append(Call(method, args, dict(request.headers), 0, False))
            await self._released.wait()
            return web.json_response({"ok": False, "error": "fake_closed"}, status=503)
        queued = self.failures.get(method)
        if queued:
            status, headers = queued.pop(0)
            self.calls.append(Call(method, args, dict(request.headers), status))
            return web.json_response({"ok": False, "error": "ratelimited" if status == 429
                                      else "internal_error"}, status=status, headers=headers)
        call = Call(method, args, dict(request.headers))
        self.calls.append(call)
        if self.checking:
            self._check(method, args)
        answer = self._answer(method, args)
        call.ok = bool(answer["ok"])
        if method.startswith("views."):
            self._count_view()
        if method in self.stalls:
            await self._unstalled.wait()
        return web.json_response(answer)

    def _check(self, method: str, args: dict[str, Any]) -> None:
        if "view" in args:
            self.problems += [f"{method}: {p}" for p in check_view(args["view"])]
        if method in ("chat.postMessage", "chat.update"):
            self.problems += [f"{method}: {p}" for p in check_message(args.get("blocks") or [],
                                                                      args.get("text", ""))]

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        n = next(self._ids)
        if method == "auth.test":
            return {"ok": True, "url": "https://fake.slack.test/", "team": "Fake",
                    "user": "coach", "team_id": TEAM, "user_id": BOT_USER, "bot_id": "B0BOT"}
        if method in ("views.open", "views.push", "views.publish"):
            view = {**args["view"], "id": f"V{n}", "hash": f"h{n}"}
            self.views[view["id"]] = view
            if method != "views.publish":
                self.touched.append(view["id"])
            return {"ok": True, "view": view}
        if method == "views.update":
            current = self.views.get(args.get("view_id", ""))
            if current is None:
                return {"ok": False, "error": "not_found"}
            if args.get("hash") and args["hash"] != current["hash"]:
                return {"ok": False, "error": "hash_conflict"}
            view = {**args["view"], "id": current["id"], "hash": f"h{n}"}
            self.views[view["id"]] = view
            self.touched.append(view["id"])
            return {"ok": True, "view": view}
        if method == "chat.postMessage":
            return self._post(args, n)
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": f"{n}.000100",
                    "message": {"text": args.get("text"), "blocks": args.get("blocks")}}
        if method == "files.getUploadURLExternal":
            assert self.server is not None
            file_id = f"F{n}"
            self.files[file_id] = {"name": args.get("filename"), "title": None,
                                   "alt_txt": args.get("alt_txt"), "data": None,
                                   "length": int(args.get("length") or 0)}
            return {"ok": True, "file_id": file_id,
                    "upload_url": str(self.server.make_url(f"/upload/{file_id}"))}
        if method == "files.completeUploadExternal":
            return self._complete_upload(args, n)
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": self.dm_of(str(args.get("users", "")))}}
        if method == "conversations.history":
            return self._history(args)
        if method == "users.info":
            user = self.users.get(args.get("user", ""))
            return {"ok": True, "user": _user(user)} if user else {"ok": False,
                                                                   "error": "user_not_found"}
        if method == "users.lookupByEmail":
            found = [u for u in self.users.values() if u.email == args.get("email")]
            return {"ok": True, "user": _user(found[0])} if found else {
                "ok": False, "error": "users_not_found"}
        if method == "apps.connections.open":
            assert self.server is not None
            url = str(self.server.make_url("/socket")).replace("http://", "ws://")
            return {"ok": True, "url": url}
        if method == "oauth.v2.access":
            team = self.installs.pop(0) if self.installs else "T0OAUTH"
            token = "xoxb-installed" if team == "T0OAUTH" else f"xoxb-{team}"
            return {"ok": True, "app_id": "A0APP", "authed_user": {"id": "U0INSTALLER"},
                    "scope": "commands,chat:write", "token_type": "bot",
                    "access_token": token, "bot_user_id": BOT_USER,
                    "team": {"id": team, "name": f"{team} team"}, "enterprise": None,
                    "is_enterprise_install": False}
        return {"ok": True}


    def _post(self, args: dict[str, Any], n: int) -> dict[str, Any]:
        channel = self.dm_of(str(args.get("channel", "")))
        message: dict[str, Any] = {"type": "message", "text": args.get("text"),
                                   "blocks": args.get("blocks"), "bot_id": "B0BOT",
                                   "ts": f"{int(self.clock())}.{n:06d}"}
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        if metadata:
            message["metadata"] = metadata
        self.history.setdefault(channel, []).append(message)
        shown = {k: v for k, v in message.items() if k != "metadata"}
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": shown}

    def _complete_upload(self, args: dict[str, Any], n: int) -> dict[str, Any]:
        """Step 3: files uploaded in full are shared as one message in ``channel_id``."""
        shared = []
        for entry in args.get("files") or []:
            stored = self.files.get(entry.get("id", ""))
            if stored is None or stored["data"] is None \
                    or len(stored["data"]) != stored["length"]:
                return {"ok": False, "error": "file_upload_not_completed"}
            stored["title"] = entry.get("title")
            shared.append({"id": entry["id"], "name": stored["name"], "title": stored["title"],
                           "mimetype": "image/png"})
        channel = args.get("channel_id")
        if channel:
            self.history.setdefault(self.dm_of(str(channel)), []).append(
                {"type": "message", "text": "", "files": shared, "bot_id": "B0BOT",
                 "ts": f"{int(self.clock())}.{n:06d}"})
        return {"ok": True, "files": shared}
    def keys_sent(self) -> dict[str, int]:
        """How many messages carrying each outbox key landed in the DMs."""
        counts: dict[str, int] = {}
        for messages in self.history.values():
            for message in messages:
                key = ((message.get("metadata") or {}).get("event_payload") or {}).get("key")
                if key:
                    counts[key] = counts.get(key, 0) + 1
        return counts

    def _history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Newest first, after ``oldest``; metadata only with include_all_metadata."""
        channel = str(args.get("channel", ""))
        if not channel.startswith(("D", "C")):
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(args.get("oldest") or 0)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = [m for m in reversed(self.history.get(channel, []))
                 if float(m["ts"]) > oldest]
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        page = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
                for m in found[start:start + limit]]
        more = start + limit < len(found)
        return {"ok": True, "messages": page, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}


def _user(user: User) -> dict[str, Any]:
    return {"id": user.id, "team_id": user.team, "name": user.name, "real_name": user.name,
            "tz": user.tz, "profile": {"email": user.email, "real_name": user.name}}
