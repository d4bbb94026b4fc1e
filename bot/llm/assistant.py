"""Asking the model after the turn: one request, bounded by the per-turn budget, its answer
read strictly, logged, and handed back as the ``Event`` the flow waits for. The answer is
always an event: with proposals, or with none (the model failed, was late, or said
something unusable), so that the flow can say so and go on as without a model.

:meth:`Assistant.ask` is the one way any task asks (triage here; the digest narrative and
the check-in blockers in bot/llm/digest_text.py): call, read, log, never raise.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.llm.answers import SCHEMAS, Rejected, read_questions, read_summary, read_triage
from bot.llm.client import Model, ModelCall, ModelFailed, ModelReply
from bot.llm.requests import AssistRequest
from flows.messages import Event
from storage.model_requests import RequestRecord

log = logging.getLogger("coach.llm")
Record = Callable[[RequestRecord], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Answered:
    """What one request came to: the event for the flow, and the log's outcome."""

    event: Event
    outcome: str


@dataclass(frozen=True, slots=True)
class Asked[T]:
    """A read answer (``value``, None when there is none) and the log's outcome."""

    value: T | None
    outcome: str


class Assistant:
    def __init__(self, model: Model, record: Record, now: Callable[[], datetime], *,
                 budget: float, log_content: bool = False) -> None:
        self.model, self.record, self.now = model, record, now
        self.budget, self.log_content = budget, log_content

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
        log.warning("no reader for the model task %s", request.task)
        return Answered(Event(request.task, payload), "unsupported")
