"""The per-person serial gateway every surface hands its input to.

A surface parses a platform request into a :class:`Who` and a neutral input, then asks
the gateway for a turn. The gateway runs the turn off the event loop (the database
lane), binds a user the runner does not know yet through the surface's
:class:`Directory` and runs the turn again, and wakes the outbox worker. Work after a
platform's ack runs through :meth:`Gateway.spawn`: one person's work one at a time, in
order, and a failure answered with a short apology, never exception text.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bot.channels.database import Database
from bot.channels.directory import Directory
from bot.channels.outbox import OutboxWorker
from bot.channels.result import TurnResult
from bot.channels.who import Who
from bot.channels.work import BackgroundWork
from bot.llm.assistant import Assistant
from bot.llm.requests import AssistRequest
from bot.runner import Claim, TurnRunner
from flows.messages import Input, Message
from storage.db import is_busy

log = logging.getLogger("coach.channels")
Tell = Callable[[str], Awaitable[Any]]  # says a short text to the person, on their surface


class GatewayText:
    crashed = "Sorry, something went wrong on my side. Please try again."
    busy = ("The database is busy right now, so that was not saved. "
            "Please try again in a moment.")


class Gateway:
    def __init__(self, runner: TurnRunner, database: Database, outbox: OutboxWorker, *,
                 assistant: Assistant | None = None) -> None:
        self.runner, self.database, self.outbox = runner, database, outbox
        self.assistant = assistant  # None: no language model
        self.background = BackgroundWork()

    async def turn(self, who: Who, given: Input, expect_step: str | None = None, *,
                   directory: Directory | None = None, claim: Claim | None = None
                   ) -> TurnResult:
        """One runner turn. A user the runner does not know yet is bound through
        ``directory`` and the turn runs again; one it cannot bind gets the directory's
        explanation (status ``unknown_person``). ``claim``: the delivery's, taken in the
        transaction of the turn that runs (see ``TurnRunner.run_turn``)."""
        result = await self.database.run(self.runner.run_turn, who, given, expect_step,
                                         None, claim)
        if result.status == "unknown_person" and directory is not None:
            binding = await directory.bind(who)
            if binding.status != "known":
                return TurnResult("unknown_person", (Message(directory.stranger(binding)),))
            result = await self.database.run(self.runner.run_turn, who, given, expect_step,
                                             None, claim)
        self.outbox.wake(self.background)
        self.ask_model(result.asks)
        return result

    def ask_model(self, asks: tuple[AssistRequest, ...]) -> None:
        """Ask the model after the turn is stored (and after the platform's ack: nothing
        here is awaited by the caller); each answer re-enters as an Event."""
        if self.assistant is None:
            return
        for ask in asks:
            self.background.spawn(self._answer(self.assistant, ask))

    async def _answer(self, assistant: Assistant, ask: AssistRequest) -> None:
        answered = await assistant.answer(ask)
        result = await self.on_behalf(ask.who, answered.event, ask.occurrence)
        if result.status not in ("ok", "refused"):
            log.warning("the model's answer for %s was not stored: %s", ask.who.user_key,
                        result.status)

    async def on_behalf(self, who: Who, given: Input, occurrence: str) -> TurnResult:
        """A turn the person did not start: the scheduler opening their check-in
        (``Say("/checkin")``), a model's answer arriving later (an ``Event``). It waits
        for the person's own work like any of their input; what it says to them goes out
        through their channel's notifier, once per ``occurrence``."""
        async with self.background.lock(who):
            result = await self.database.run(self.runner.run_turn, who, given, None,
                                              occurrence)
        self.outbox.wake(self.background)
        return result

    def spawn(self, who: Who, work: Coroutine[Any, Any, Any], tell: Tell) -> None:
        """Run ``work`` after the ack, after this person's earlier work."""
        self.background.spawn(self.serially(who, work, tell))

    async def serially(self, who: Who, work: Coroutine[Any, Any, Any], tell: Tell) -> None:
        """``work`` under the person's lock; a failure is logged in full and the person
        told, in a sentence, that nothing was saved."""
        try:
            async with self.background.lock(who):
                await work
        except Exception as exc:
            busy = is_busy(exc)
            if busy:
                log.warning("database busy: work of %s not stored", who.user_key)
            else:
                log.exception("%s work failed", who.platform,
                              extra={"user": who.user_key, "tenant": who.tenant})
            try:
                await tell(GatewayText.busy if busy else GatewayText.crashed)
            except Exception as failed:  # noqa: BLE001 - the apology is best effort; logged
                log.warning("could not tell %s about the failure: %s", who.user_key,
                            type(failed).__name__)

    async def idle(self) -> None:
        """Wait until the work after every ack is done (shutdown, tests)."""
        await self.background.idle()

    def close(self) -> None:
        self.database.close()
