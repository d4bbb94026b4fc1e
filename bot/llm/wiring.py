"""Wiring the model into an application: the planner the runner uses inside turns, and the
assistant a gateway (or the console) asks after them, with what it writes (the request
log, a check-in's tagged blockers), each in a short transaction of its own off the event
loop. Nothing connects before first use."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from bot.llm.assistant import Assistant
from bot.llm.blockers import Blocker
from bot.llm.client import Model, ModelSetup, OpenAIModel, model_setup
from bot.llm.narrator import Narrator
from bot.llm.requests import RequestPlanner
from bot.settings import Settings
from flows.playbook import Playbook
from storage import blockers, model_requests
from storage.model_requests import RequestRecord

Run = Callable[..., Awaitable[Any]]  # Database.run: synchronous work off the event loop


async def in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """A :data:`Run` for callers without a Database lane (the console, the CLI)."""
    return await asyncio.to_thread(fn, *args)


def setup_of(settings: Settings, playbook: Playbook) -> ModelSetup:
    return model_setup(settings, playbook.model.enabled)


def planner_for(settings: Settings, playbook: Playbook) -> RequestPlanner | None:
    return RequestPlanner(playbook) if setup_of(settings, playbook).on else None


def narrative_hold(settings: Settings, playbook: Playbook) -> timedelta | None:
    """How long a queued digest waits for the model's narrative (its turn budget: never
    longer); None when no model is on (the digest goes at once, as it is)."""
    if not setup_of(settings, playbook).on:
        return None
    return timedelta(seconds=settings.coach_llm_turn_budget)


def write_record(engine: Engine, entry: RequestRecord) -> None:
    with engine.begin() as conn:
        model_requests.record(conn, entry)


def write_blockers(engine: Engine, checkin_id: int, found: list[Blocker]) -> None:
    with engine.begin() as conn:
        blockers.replace(conn, checkin_id, [(b.tag, b.quote) for b in found])


def assistant_for(settings: Settings, playbook: Playbook, engine: Engine, run: Run,
                  now: Callable[[], Any], model: Model | None = None) -> Assistant | None:
    """The assistant, when a model is on; ``run`` writes the request log off the loop."""
    if not setup_of(settings, playbook).on:
        return None

    async def record(entry: RequestRecord) -> None:
        await run(write_record, engine, entry)

    async def keep_blockers(checkin_id: int, found: list[Blocker]) -> None:
        await run(write_blockers, engine, checkin_id, found)

    return Assistant(model or OpenAIModel(settings), record, now,
                     budget=settings.coach_llm_turn_budget,
                     log_content=playbook.model.log_content, keep_blockers=keep_blockers)


def narrator_for(settings: Settings, playbook: Playbook, assistant: Assistant | None,
                 engine: Engine, run: Run, now: Callable[[], Any]) -> Narrator | None:
    """What puts the model's narrative on the digests the due work held (None: no model)."""
    hold = narrative_hold(settings, playbook)
    if assistant is None or hold is None:
        return None
    return Narrator(assistant, engine, run, now, hold)
