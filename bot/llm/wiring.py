"""Wiring the model into an application: the planner the runner uses inside turns, and the
assistant a gateway (or the console) asks after them. Nothing connects before first use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Engine

from bot.llm.assistant import Assistant
from bot.llm.client import Model, ModelSetup, OpenAIModel, model_setup
from bot.llm.requests import RequestPlanner
from bot.settings import Settings
from flows.playbook import Playbook
from storage import model_requests
from storage.model_requests import RequestRecord

Run = Callable[..., Awaitable[Any]]  # Database.run: synchronous work off the event loop


def setup_of(settings: Settings, playbook: Playbook) -> ModelSetup:
    return model_setup(settings, playbook.model.enabled)


def planner_for(settings: Settings, playbook: Playbook) -> RequestPlanner | None:
    return RequestPlanner(playbook) if setup_of(settings, playbook).on else None


def write_record(engine: Engine, entry: RequestRecord) -> None:
    with engine.begin() as conn:
        model_requests.record(conn, entry)


def assistant_for(settings: Settings, playbook: Playbook, engine: Engine, run: Run,
                  now: Callable[[], Any], model: Model | None = None) -> Assistant | None:
    """The assistant, when a model is on; ``run`` writes the request log off the loop."""
    if not setup_of(settings, playbook).on:
        return None

    async def record(entry: RequestRecord) -> None:
        await run(write_record, engine, entry)

    return Assistant(model or OpenAIModel(settings), record, now,
                     budget=settings.coach_llm_turn_budget,
                     log_content=playbook.model.log_content)
