"""The model for the terminal: asked on a background thread (its own event loop), so the
turn that asked returns at once; the answer re-enters as an unattended turn whose
messages wait in the console's outbox until the terminal shows them."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from bot.bootstrap import App
from bot.llm.assistant import Assistant
from bot.llm.client import Model
from bot.llm.requests import AssistRequest
from bot.llm.wiring import assistant_for

log = logging.getLogger("coach.console")


class ConsoleAssist:
    """One per application: a daemon thread running an event loop for the model's calls."""

    def __init__(self, app: App, on_answer: Callable[[], None] | None = None,
                 model: Model | None = None) -> None:
        self.app = app
        self.on_answer = on_answer  # the readable terminal shows an answer when it lands
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="coach-model",
                                       daemon=True)
        self.thread.start()
        self.pending: set[Future[Any]] = set()
        self.assistant: Assistant | None = assistant_for(
            app.settings, app.playbook, app.engine, _in_thread, app.clock.now, model)

    def submit(self, asks: tuple[AssistRequest, ...]) -> None:
        if self.assistant is None:
            return
        for ask in asks:
            future = asyncio.run_coroutine_threadsafe(self._answer(self.assistant, ask),
                                                      self.loop)
            self.pending.add(future)
            future.add_done_callback(self.pending.discard)

    async def _answer(self, assistant: Assistant, ask: AssistRequest) -> None:
        answered = await assistant.answer(ask)
        await asyncio.to_thread(self.app.runner.run_turn, ask.who, answered.event, None,
                                ask.occurrence)
        if self.on_answer is not None:
            self.on_answer()

    def settle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the answers asked for; True if any was."""
        waiting = list(self.pending)
        for future in waiting:
            try:
                future.result(timeout=timeout)
            except Exception:
                log.exception("model answer failed")
        return bool(waiting)

    def close(self) -> None:
        if self.assistant is not None:
            asyncio.run_coroutine_threadsafe(self.assistant.close(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


async def _in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.to_thread(fn, *args)
