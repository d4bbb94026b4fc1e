"""A fake OpenAI-compatible server on loopback, for the real ``openai`` client: it serves
``/v1/chat/completions`` and ``/v1/responses``, answers from a script (good JSON, broken
JSON, 429, 500, a slow answer), and records every request body it receives.

It runs its own event loop in a thread, so synchronous tests, the console's model thread
and async tests can all talk to it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Reply:
    """One scripted answer: ``content`` (the model's text), or an HTTP ``status`` with an
    error; ``delay`` seconds before answering."""

    content: str = ""
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    refuse_schema: bool = False  # 400 when the request asks for a JSON schema


def task_of(sent: dict[str, Any]) -> str | None:
    """The task a request is for: its JSON schema's name (chat or responses API)."""
    fmt = sent.get("response_format") or {}
    if isinstance(fmt, dict) and isinstance(fmt.get("json_schema"), dict):
        return str(fmt["json_schema"].get("name"))
    text = (sent.get("text") or {}).get("format") or {}
    return str(text.get("name")) if isinstance(text, dict) and text.get("name") else None


def good(obj: Any) -> Reply:
    return Reply(json.dumps(obj))


class FakeOpenAI:
    def __init__(self) -> None:
        self.script: deque[Reply] = deque()
        self.by_task: dict[str, deque[Reply]] = {}  # answers for one task (the schema's name)
        self.default = Reply(status=500)
        self.bodies: list[str] = []  # every request body, raw, in order
        # Called with each request's parsed body before it is answered (on the server's
        # thread): a test looks at the database while the model is being asked.
        self.on_request: Callable[[dict[str, Any]], None] | None = None
        self.gates: dict[str, asyncio.Event] = {}  # task → answered once it is set
        self.paths: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reply(self, *replies: Reply, task: str | None = None) -> None:
        """Script answers: for requests of ``task`` (the JSON schema's name), or any."""
        if task is None:
            self.script.extend(replies)
        else:
            self.by_task.setdefault(task, deque()).extend(replies)

    def gate(self, task: str) -> None:
        """Requests of ``task`` wait (their answer scripted as usual) until ``open_gate``."""
        async def make() -> None:
            self.gates[task] = asyncio.Event()

        asyncio.run_coroutine_threadsafe(make(), self.loop).result(10)

    def open_gate(self, task: str) -> None:
        self.loop.call_soon_threadsafe(self.gates[task].set)

    def bodies_of(self, task: str) -> list[str]:
        return [b for b in self.bodies if task_of(json.loads(b)) == task]

    def start(self) -> FakeOpenAI:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/responses", self._responses)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        if self.runner is not None:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        asyncio.run_coroutine_threadsafe(self._cancel_slow_answers(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    async def _cancel_slow_answers(self) -> None:
        """A scripted delay still sleeping (the client gave up long ago) ends here."""
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _next(self, request: web.Request) -> tuple[Reply, dict[str, Any]] | web.Response:
        body = await request.text()
        self.bodies.append(body)
        self.paths.append(request.path)
        sent = json.loads(body)
        if self.on_request is not None:
            self.on_request(sent)
        gate = self.gates.get(task_of(sent) or "")
        if gate is not None:
            await gate.wait()
        own = self.by_task.get(task_of(sent) or "")
        reply = (own.popleft() if own else self.script.popleft() if self.script
                 else self.default)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        schema_asked = ("json_schema" in json.dumps(sent.get("response_format", {}))
                        or "json_schema" in json.dumps(sent.get("text", {})))
        if reply.refuse_schema and schema_asked:
            self.script.appendleft(Reply(reply.content))  # the retry without it gets it
            return web.json_response({"error": {"message": "response_format json_schema is "
                                                "not supported", "type": "invalid_request"}},
                                     status=400)
        if reply.status != 200:
            return web.json_response({"error": {"message": f"scripted {reply.status}",
                                                "type": "server_error"}},
                                     status=reply.status, headers=reply.headers)
        return reply, sent

    async def _chat(self, request: web.Request) -> web.Response:
        got = await self._next(request)
        if isinstance(got, web.Response):
            return got
        reply, sent = got
        return web.json_response({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 0,
            "model": sent.get("model", "fake"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": reply.content}}],
            "usage": {"prompt_tokens": len(str(sent)) // 4,
                      "completion_tokens": len(reply.content) // 4,
                      "total_tokens": len(str(sent)) // 4 + len(reply.content) // 4}})

    async def _responses(self, request: web.Request) -> web.Response:
        got = await self._next(request)
        if isinstance(got, web.Response):
            return got
        reply, sent = got
        return web.json_response({
            "id": "resp-fake", "object": "response", "created_at": 0, "status": "completed",
            "model": sent.get("model", "fake"), "parallel_tool_calls": False,
            "tool_choice": "auto", "tools": [],
            "output": [{"type": "message", "id": "msg-fake", "role": "assistant",
                        "status": "completed",
                        "content": [{"type": "output_text", "text": reply.content,
                                     "annotations": []}]}],
            "usage": {"input_tokens": len(str(sent)) // 4,
                      "input_tokens_details": {"cached_tokens": 0},
                      "output_tokens": len(reply.content) // 4,
                      "output_tokens_details": {"reasoning_tokens": 0},
                      "total_tokens": len(str(sent)) // 4 + len(reply.content) // 4}})
