"""The per-person serial gateway every surface hands its input to.

A surface parses a platform request into a :class:`Who` and a neutral input, then asks
the gateway for a turn. The gateway runs the turn off the event loop (the database
lane), binds a user the runner does not know yet through the surface's
:class:`Directory` and runs the turn again, and wakes the outbox worker. Work after a
platform's ack runs through :meth:`Gateway.spawn`: one person's work one at a time, in
order, and a failure answered with a short apology, never exception text.

A model's late answer re-enters as an unattended turn whose messages go to the person's
outbox. A surface that can show it where the person is working (Slack: their open modal)
registers a :data:`ShowLate`: the messages are then queued held back, shown in place
under the person's lock, and marked sent; when they cannot be (the modal was closed),
they go at once. A crash in between sends them when the hold ends: none is lost, none
goes twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from bot.channels.database import Database
from bot.channels.directory import Directory
from bot.channels.limits import TurnLimited, TurnLimiter
from bot.channels.outbox import OutboxWorker
from bot.channels.result import TurnResult
from bot.channels.who import Who
from bot.channels.work import BackgroundWork
from bot.llm.assistant import Assistant
from bot.llm.requests import AssistRequest
from bot.observability.context import turn_scope
from bot.observability.metrics import Metrics
from bot.runner import Claim, TurnRunner, Unattended
from flows.messages import Event, Input, Message
from storage import outbox as stored_outbox
from storage.db import is_busy, is_unavailable

log = logging.getLogger("coach.channels")
Tell = Callable[[str], Awaitable[Any]]  # says a short text to the person, on their surface
# Shows a late answer's messages where the person is working; True when it could.
ShowLate = Callable[[Who, tuple[Message, ...]], Awaitable[bool]]
LATE_HOLD = timedelta(seconds=30)  # a late answer waits this long to be shown in place


class GatewayText:
    crashed = "Sorry, something went wrong on my side. Please try again."
    busy = ("My storage is briefly unavailable, so that was not saved. "
            "Please send it again in a moment.")
    limited = ("You're sending messages faster than I can take them in, so that last one "
               "was not saved. Please wait a few seconds and send it again.")


class Gateway:
    def __init__(self, runner: TurnRunner, database: Database, outbox: OutboxWorker, *,
                 assistant: Assistant | None = None, metrics: Metrics | None = None,
                 limiter: TurnLimiter | None = None) -> None:
        self.runner, self.database, self.outbox = runner, database, outbox
        self.assistant = assistant  # None: no language model
        self.metrics = metrics or Metrics()
        self.limiter = limiter or TurnLimiter()  # none: no limit
        self.background = BackgroundWork()
        self.late_shown_by: dict[str, ShowLate] = {}  # platform → how it shows late answers

    def show_late_with(self, platform: str, show: ShowLate) -> None:
        """``platform`` shows a model's late answers in place (see the module's docstring)."""
        self.late_shown_by[platform] = show

    async def turn(self, who: Who, given: Input, expect_step: str | None = None, *,
                   directory: Directory | None = None, claim: Claim | None = None
                   ) -> TurnResult:
        """One runner turn. A user the runner does not know yet is bound through
        ``directory`` and the turn runs again; one it cannot bind gets the directory's
        explanation (status ``unknown_person``); one over their rate limit gets a
        sentence saying so, and nothing runs (status ``limited``). ``claim``: the
        delivery's, taken in the transaction of the turn that runs (see
        ``TurnRunner.run_turn``)."""
        if not await self.limiter.admit(who):
            log.info("%s user %s is over the rate limit: input dropped", who.platform,
                     who.user_key)
            return TurnResult("limited", (Message(GatewayText.limited),))
        return await self._measured(who, self._turn(who, given, expect_step, directory, claim))

    async def _turn(self, who: Who, given: Input, expect_step: str | None,
                    directory: Directory | None, claim: Claim | None) -> TurnResult:
        result = await self.database.answer(self.runner.run_turn, who, given, expect_step,
                                            None, claim)
        if result.status == "unknown_person" and directory is not None:
            binding = await directory.bind(who)
            if binding.status != "known":
                return TurnResult("unknown_person", (Message(directory.stranger(binding)),))
            result = await self.database.answer(self.runner.run_turn, who, given,
                                                expect_step, None, claim)
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
        if answered.event is None:  # kept as it came (a check-in's blockers): no flow waits
            return
        show = self.late_shown_by.get(ask.who.platform)
        if show is None:
            result = await self.on_behalf(ask.who, answered.event, ask.occurrence)
        else:
            result = await self._late_in_place(ask.who, answered.event, ask.occurrence, show)
        if result.status not in ("ok", "refused"):
            log.warning("the model's answer for %s was not stored: %s", ask.who.user_key,
                        result.status)

    async def on_behalf(self, who: Who, given: Input, occurrence: str) -> TurnResult:
        """A turn the person did not start: the scheduler opening their check-in
        (``Say("/checkin")``), a model's answer arriving later (an ``Event``). It waits
        for the person's own work like any of their input; what it says to them goes out
        through their channel's notifier, once per ``occurrence``."""
        async with self.background.lock(who):
            result = await self._measured(who, self.database.run(
                self.runner.run_turn, who, given, None, occurrence))
        self.outbox.wake(self.background)
        return result

    async def _measured(self, who: Who, turn: Awaitable[TurnResult]) -> TurnResult:
        """Run one turn with a turn id of its own on every log line, counted and timed by
        outcome (the result's status; ``busy`` or ``error`` when it raised)."""
        started, outcome = time.perf_counter(), "error"
        try:
            with turn_scope():
                result = await turn
            outcome = result.status
            return result
        except Exception as exc:
            outcome = "busy" if is_busy(exc) else "error"
            raise
        finally:
            self.metrics.turn_done(who.platform, outcome, time.perf_counter() - started)

    async def _late_in_place(self, who: Who, event: Event, occurrence: str,
                             show: ShowLate) -> TurnResult:
        """The late answer's turn, its messages queued held back; shown in place, they are
        marked sent, else released at once. Under the person's lock, so that no click of
        theirs comes between the turn and what the surface shows of it."""
        held = Unattended(occurrence, not_before=self.runner.clock.now() + LATE_HOLD)
        async with self.background.lock(who):
            result = await self.database.run(self.runner.run_turn, who, event, None, held)
            shown = False
            if result.status == "ok" and result.messages:
                try:
                    shown = await show(who, result.messages)
                except Exception:
                    log.exception("a late answer for %s could not be shown in place",
                                  who.user_key)
            keys = [f"{occurrence}:{i}" for i in range(len(result.messages))]
            await self.database.run(self._settle_late, keys, shown)
        self.outbox.wake(self.background)
        return result

    def _settle_late(self, keys: list[str], shown: bool) -> None:
        with self.runner.engine.begin() as conn:
            stored_outbox.settle_held(conn, keys, shown=shown, now=self.runner.clock.now())

    def spawn(self, who: Who, work: Coroutine[Any, Any, Any], tell: Tell) -> None:
        """Run ``work`` after the ack, after this person's earlier work."""
        self.background.spawn(self.serially(who, work, tell))

    async def serially(self, who: Who, work: Coroutine[Any, Any, Any], tell: Tell) -> None:
        """``work`` under the person's lock; a failure is logged in full and the person
        told, in a sentence, that nothing was saved."""
        try:
            async with self.background.lock(who):
                await work
        except TurnLimited:
            await self._tell(who, tell, GatewayText.limited)
        except Exception as exc:
            busy = is_unavailable(exc)
            if busy:
                log.warning("database unavailable (%s): work of %s not stored",
                            type(exc).__name__, who.user_key)
            else:
                self.metrics.failed("turn")
                log.exception("%s work failed", who.platform,
                              extra={"user": who.user_key, "tenant": who.tenant})
            await self._tell(who, tell, GatewayText.busy if busy else GatewayText.crashed)

    @staticmethod
    async def _tell(who: Who, tell: Tell, text: str) -> None:
        try:
            await tell(text)
        except Exception as failed:  # noqa: BLE001 - the apology is best effort; logged
            log.warning("could not tell %s about the failure: %s", who.user_key,
                        type(failed).__name__)

    async def idle(self) -> None:
        """Wait until the work after every ack is done (shutdown, tests)."""
        await self.background.idle()

    def close(self) -> None:
        self.database.close()
