"""Asking the model after the turn: one request, bounded by the per-turn budget, its answer
read strictly, logged, and handed back as the ``Event`` the flow waits for. The answer to
a flow is always an event: with proposals, or with none (the model failed, was late, or
said something unusable), so that the flow can say so and go on as without a model. A
check-in's blockers are no flow's question (the check-in has ended): they are kept
(``keep_blockers``, its own short transaction) and no event follows.

:meth:`Assistant.ask` is the one way any task asks (triage here; the digest narrative and
the check-in blockers in bot/llm/digest_text.py): call, read, log, never raise.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.llm import blockers
from bot.llm.answers import SCHEMAS, Rejected, read_questions, read_summary, read_triage
from bot.llm.client import Model, ModelCall, ModelFailed, ModelReply
from bot.llm.requests import AssistRequest
from flows.messages import Event
from storage.model_requests import RequestRecord

log = logging.getLogger("coach.llm")
Record = Callable[[RequestRecord], Awaitable[None]]
# Keeps a check-in's tagged blockers: (check-in id, the blockers found).
KeepBlockers = Callable[[int, list[blockers.Blocker]], Awaitable[None]]


async def _keep_nothing(checkin_id: int, found: list[blockers.Blocker]) -> None:
    log.info("no store for the blockers of check-in %s: not kept", checkin_id)


@dataclass(frozen=True, slots=True)
class Answered:
    """What one request came to: the event for the flow (None: the answer was kept, no
    flow waits for it), and the log's outcome."""

    event: Event | None
    outcome: str


@dataclass(frozen=True, slots=True)
class Asked[T]:
    """A read answer (``value``, None when there is none) and the log's outcome."""

    value: T | None
    outcome: str


class Assistant:
    def __init__(self, model: Model, record: Record, now: Callable[[], datetime], *,
                 budget: float, log_content: bool = False,
                 keep_blockers: KeepBlockers = _keep_nothing) -> None:
        self.model, self.record, self.now = model, record, now
        self.budget, self.log_content = budget, log_content
        self.keep_blockers = keep_blockers

    async def close(self) -> None:
        await self.model.close()

    async def ask[T](self, purpose: str, prompt: str, read: Callable[[str], T | Rejected],
                     person_id: int | None = None) -> Asked[T]:
        """Ask ``prompt`` for ``purpose`` (its JSON schema), read the answer with ``read``,
        log the request; never raises for anything the model or the network does."""
        call = ModelCall(purpose, prompt, SCHEMAS[purpose])
        at = self.now()
        reply: ModelReply | None = None
        value: T | None = None
        detail = None
        try:
            reply = await asyncio.wait_for(self.model.complete(call), self.budget)
        except TimeoutError:
            outcome, latency = "timeout", int(self.budget * 1000)
            detail = f"over the turn's budget of {self.budget:g} s"
        except ModelFailed as failed:
            outcome, latency, detail = failed.outcome, failed.latency_ms, failed.detail
        else:
            latency = reply.latency_ms
            read_value = read(reply.text)
            if isinstance(read_value, Rejected):
                outcome, detail = read_value.outcome, read_value.detail
            else:
                outcome, value = "ok", read_value
        if outcome != "ok":
            log.info("model %s: %s (%s)", purpose, outcome, detail)
        await self.record(RequestRecord(
            at=at, person_id=person_id, purpose=purpose, model=self.model.name,
            api=self.model.api, request_chars=len(prompt),
            response_chars=len(reply.text) if reply else 0, latency_ms=latency,
            outcome=outcome, detail=detail,
            prompt_tokens=reply.prompt_tokens if reply else None,
            completion_tokens=reply.completion_tokens if reply else None,
            content={"request": prompt, "response": reply.text if reply else None}
            if self.log_content else None))
        return Asked(value, outcome)

    async def answer(self, request: AssistRequest) -> Answered:
        """A flow's request: the event that carries the answer back (empty when none)."""
        payload: dict[str, object] = {"token": request.token}
        if request.task == "triage":
            triage = await self.ask(
                "triage", request.prompt,
                lambda text: read_triage(text, request.question_ids, request.known_numbers),
                request.person_id)
            payload["proposals"] = {q: ["yes" if a else "no", reason]
                                    for q, (a, reason) in (triage.value or {}).items()}
            return Answered(Event(request.task, payload), triage.outcome)
        if request.task == "questions":
            found = await self.ask(
                "questions", request.prompt,
                lambda text: read_questions(text, request.known_numbers), request.person_id)
            payload["questions"] = found.value or []
            return Answered(Event(request.task, payload), found.outcome)
        if request.task == "summary" and request.today is not None:
            today = request.today
            draft = await self.ask(
                "summary", request.prompt,
                lambda text: read_summary(text, request.known_numbers, today),
                request.person_id)
            if draft.value is not None:
                payload["summary"] = draft.value.summary
                payload["actions"] = [{"description": a.description, "owner": a.owner,
                                       "due": a.due.isoformat()} for a in draft.value.actions]
            return Answered(Event(request.task, payload), draft.outcome)
        if request.task == blockers.TASK and request.record_id is not None:
            quoted = request.quoted
            tagged = await self.ask(blockers.TASK, request.prompt,
                                    lambda text: blockers.read_tagged(text, quoted),
                                    request.person_id)
            if tagged.value:
                await self.keep_blockers(request.record_id, tagged.value)
            return Answered(None, tagged.outcome)
        log.warning("no reader for the model task %s", request.task)
        return Answered(Event(request.task, payload), "unsupported")
