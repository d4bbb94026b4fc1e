"""The digest narrative and the check-in blockers, each on its own, with the real openai
client and the fake server: numbers not in the figures drop their sentence, blockers must
quote the rep, and every failure gives nothing (the digest goes on without)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from bot.llm.assistant import Assistant
from bot.llm.client import OpenAIModel
from bot.llm.digest_text import Blocker, extract_blockers, figures_text, narrate
from bot.settings import Settings
from storage.model_requests import RequestRecord
from tests.llm.fake_openai import FakeOpenAI, Reply, good
from tests.support import START

FIGURES = {"coverage": 0.75, "sessions": {"Maya Manager": 4, "Omar Manager": 2},
           "action_items": {"opened": 12, "done": 7, "overdue": 3},
           "checkin_response_rate": 0.8}


@pytest.fixture
async def assistant(fake_openai: FakeOpenAI) -> AsyncIterator[tuple[Assistant,
                                                                    list[RequestRecord]]]:
    logged: list[RequestRecord] = []

    async def record(entry: RequestRecord) -> None:
        logged.append(entry)

    settings = Settings(coach_env="test", openai_base_url=fake_openai.base_url,
                        coach_llm_timeout=0.5, coach_llm_retries=0)
    a = Assistant(OpenAIModel(settings), record, lambda: START, budget=1.0)
    yield a, logged
    await a.close()


async def test_sentences_with_numbers_not_in_the_figures_are_dropped(
        assistant: tuple[Assistant, list[RequestRecord]], fake_openai: FakeOpenAI) -> None:
    a, logged = assistant
    fake_openai.reply(good({"sentences": [
        "Coverage reached 75% of reps this week.",
        "Managers held 4 and 2 sessions.",
        "Twelve items opened, 7 done and 3 overdue.",
        "Coverage rose by 15 points.",  # 15 is not a figure
        "Fifteen reps were coached.",  # nor is fifteen
        "Check-ins came back from 80% of reps.",
    ]}))
    sentences = await narrate(a, FIGURES, names=["Maya Manager", "Omar Manager"])
    assert sentences == ["Coverage reached 75% of reps this week.",
                         "Managers held 4 and 2 sessions.",
                         "Twelve items opened, 7 done and 3 overdue.",
                         "Check-ins came back from 80% of reps."]
    sent = json.loads(fake_openai.bodies[0])["messages"][0]["content"]
    assert "Maya" not in sent and "Omar" not in sent and "0.75" in sent
    assert [r.outcome for r in logged] == ["ok"]


@pytest.mark.parametrize("reply", [Reply("no json"), Reply(status=500), Reply(status=429),
                                   good({"sentences": ["It went up 40%."]}),
                                   Reply('{"sentences": []}'), Reply("{}", delay=3)])
async def test_a_narrative_failure_gives_no_sentences(
        assistant: tuple[Assistant, list[RequestRecord]], fake_openai: FakeOpenAI,
        reply: Reply) -> None:
    a, logged = assistant
    fake_openai.reply(reply)
    assert await narrate(a, FIGURES) == []
    assert logged[0].outcome != "ok"


async def test_no_model_no_narrative() -> None:
    assert await narrate(None, FIGURES) == []
    assert await extract_blockers(None, "CRM is down") == []


async def test_blockers_are_tagged_and_quote_the_rep(
        assistant: tuple[Assistant, list[RequestRecord]], fake_openai: FakeOpenAI) -> None:
    a, _ = assistant
    fake_openai.reply(good({"blockers": [
        {"tag": "tools", "quote": "the CRM  was down"},
        {"tag": "approvals", "quote": "waiting on legal for the Acme contract"},
        {"tag": "weather", "quote": "the CRM was down"},  # no such tag: dropped
        {"tag": "leads", "quote": "marketing sent no leads"},  # not what the rep wrote
    ]}))
    text = ("The CRM was down Tuesday; still waiting on legal for the Acme contract. "
            "Call me at (415) 555-2671, Bob Brown says hi.")
    found = await extract_blockers(a, text, names=["Bob Brown", "Alice Adams"], keep="Alice")
    assert found == [Blocker("tools", "the CRM was down"),
                     Blocker("approvals", "waiting on legal for the Acme contract")]
    sent = json.loads(fake_openai.bodies[0])["messages"][0]["content"]
    assert "555-2671" not in sent and "Bob" not in sent


async def test_blockers_failure_gives_none(assistant: tuple[Assistant, list[RequestRecord]],
                                           fake_openai: FakeOpenAI) -> None:
    a, logged = assistant
    fake_openai.reply(good({"blockers": [{"tag": "tools", "quote": "invented words"}]}))
    assert await extract_blockers(a, "All fine this week, the CRM was slow") == []
    assert logged[0].outcome == "nothing_usable"


def test_figures_are_named_lines() -> None:
    assert figures_text(FIGURES).splitlines()[:2] == ["coverage: 0.75",
                                                      "sessions.Maya Manager: 4"]
