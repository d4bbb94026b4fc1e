"""Asking the model after the turn: one request, bounded by the per-turn budget, its answer
read strictly, logged, and handed back as the ``Event`` the flow waits for. The answer is
always an event: with proposals, or with none (the model failed, was late, or said
something unusable), so that the flow can say so and go on as without a model.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.llm.answers import SCHEMAS, Rejected, read_triage
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


class Assistant:
    def __init__(self, model: Model, record: Record, now: Callable[[], datetime], *,
                 budget: float, log_content: bool = False) -> None:
        self.model, self.record, self.now = model, record, now
        self.budget, self.log_content = budget, log_content

    async def close(self) -> None:
        await self.model.close()

    async def answer(self, request: AssistRequest) -> Answered:
        """Ask, read, log; never raises for anything the model or the network does."""
        call = ModelCall(request.task, request.prompt, SCHEMAS[request.task])
        at = self.now()
        reply: ModelReply | None = None
        payload: dict[str, object] = {"token": request.token, "proposals": {}}
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
            outcome, detail = self._read(request, reply.text, payload)
        if outcome != "ok":
            log.info("model %s for %s: %s (%s)", request.task, request.who.user_key, outcome,
                     detail)
        await self.record(RequestRecord(
            at=at, person_id=request.person_id, purpose=request.task, model=self.model.name,
            api=self.model.api, request_chars=len(request.prompt),
            response_chars=len(reply.text) if reply else 0, latency_ms=latency,
            outcome=outcome, detail=detail,
            prompt_tokens=reply.prompt_tokens if reply else None,
            completion_tokens=reply.completion_tokens if reply else None,
            content={"request": request.prompt, "response": reply.text if reply else None}
            if self.log_content else None))
        return Answered(Event(request.task, payload), outcome)

    def _read(self, request: AssistRequest, text: str, payload: dict[str, object]
              ) -> tuple[str, str | None]:
        if request.task == "triage":
            read = read_triage(text, request.question_ids, request.known_numbers)
            if isinstance(read, Rejected):
                return read.outcome, read.detail
            payload["proposals"] = {q: ["yes" if a else "no", reason]
                                    for q, (a, reason) in read.items()}
            return "ok", None
        return "unsupported", f"no reader for {request.task}"
