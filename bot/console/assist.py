"""The model for the terminal: asked on a background thread (its own event loop), so the
turn that asked returns at once; the answer re-enters as an unattended turn whose
messages wait in the console's outbox until the terminal shows them. The digests the due
work held for a narrative are narrated there too, then released to the outbox."""

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
from bot.llm.narrator import Narrator
from bot.llm.requests import AssistRequest
from bot.llm.wiring import assistant_for, in_thread, narrator_for

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
            app.settings, app.playbook, app.engine, in_thread, app.clock.now, model)
        self.narrator = narrator_for(app.settings, app.playbook, self.assistant, app.engine,
                                     in_thread, app.clock.now)

    def submit(self, asks: tuple[AssistRequest, ...]) -> None:
        if self.assistant is None:
            return
        for ask in asks:
            future = asyncio.run_coroutine_threadsafe(self._answer(self.assistant, ask),
                                                      self.loop)
            self.pending.add(future)
            future.add_done_callback(self.pending.discard)

    def narrate_held(self, *, announce: bool = True) -> Future[Any] | None:
        """The digests the due work held for a narrative: narrated on the model's thread,
        then due (shown at the next line, or by ``on_answer`` when ``announce``)."""
        if self.narrator is None:
            return None
        future = asyncio.run_coroutine_threadsafe(self._narrate(self.narrator, announce),
                                                  self.loop)
        self.pending.add(future)
        future.add_done_callback(self.pending.discard)
        return future

    async def _narrate(self, narrator: Narrator, announce: bool) -> None:
        if await narrator.run_once() and announce and self.on_answer is not None:
            self.on_answer()

    async def _answer(self, assistant: Assistant, ask: AssistRequest) -> None:
        answered = await assistant.answer(ask)
        if answered.event is None:  # kept as it came (a check-in's blockers): no flow waits
            return
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


