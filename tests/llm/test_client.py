"""The real openai client against the fake server: answers, each failure mode named for
the log, bounded retries, a short timeout, and the JSON-schema fallback."""

from __future__ import annotations

import time

import pytest

from bot.llm.client import ModelCall, ModelFailed, OpenAIModel
from bot.settings import Settings
from tests.llm.fake_openai import FakeOpenAI, Reply

CALL = ModelCall("triage", "Say hi as JSON", {"type": "object"})


def model(fake: FakeOpenAI, **settings: object) -> OpenAIModel:
    values: dict[str, object] = {"coach_env": "test", "openai_base_url": fake.base_url,
                                 "coach_llm_timeout": 0.5, "coach_llm_retries": 1,
                                 **settings}
    return OpenAIModel(Settings(**values))  # type: ignore[arg-type]


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_an_answer_comes_back_with_its_token_counts(fake_openai: FakeOpenAI,
                                                          api: str) -> None:
    fake_openai.reply(Reply('{"hi": 1}'))
    m = model(fake_openai, coach_llm_api=api)
    reply = await m.complete(CALL)
    await m.close()
    assert reply.text == '{"hi": 1}'
    assert reply.prompt_tokens and reply.completion_tokens
    assert fake_openai.paths == [f"/v1/{'chat/completions' if api == 'chat' else 'responses'}"]
    assert "json_schema" in fake_openai.bodies[0]


@pytest.mark.parametrize(("status", "outcome"), [(429, "rate_limited"), (500, "server_error"),
                                                 (503, "server_error"), (401, "refused")])
async def test_errors_are_retried_a_bounded_number_of_times(fake_openai: FakeOpenAI,
                                                            status: int, outcome: str) -> None:
    fake_openai.default = Reply(status=status, headers={"retry-after-ms": "10"})
    m = model(fake_openai, coach_llm_retries=2)
    with pytest.raises(ModelFailed) as failed:
        await m.complete(CALL)
    await m.close()
    assert failed.value.outcome == outcome
    assert len(fake_openai.bodies) == (1 if status == 401 else 3)  # one try + two retries


async def test_a_retry_after_a_429_can_succeed(fake_openai: FakeOpenAI) -> None:
    fake_openai.reply(Reply(status=429, headers={"retry-after-ms": "10"}), Reply('{"ok": 1}'))
    m = model(fake_openai)
    assert (await m.complete(CALL)).text == '{"ok": 1}'
    await m.close()


async def test_a_slow_server_times_out_quickly(fake_openai: FakeOpenAI) -> None:
    fake_openai.default = Reply('{"late": 1}', delay=10)
    m = model(fake_openai, coach_llm_timeout=0.3, coach_llm_retries=0)
    started = time.monotonic()
    with pytest.raises(ModelFailed) as failed:
        await m.complete(CALL)
    await m.close()
    assert failed.value.outcome == "timeout"
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_a_server_without_json_schema_gets_plain_requests(fake_openai: FakeOpenAI,
                                                               api: str) -> None:
    fake_openai.reply(Reply('{"a": 1}', refuse_schema=True), Reply('{"b": 2}'))
    m = model(fake_openai, coach_llm_api=api)
    assert (await m.complete(CALL)).text == '{"a": 1}'
    assert (await m.complete(CALL)).text == '{"b": 2}'  # not asked with a schema again
    await m.close()
    assert ["json_schema" in b for b in fake_openai.bodies] == [True, False, False]


async def test_nobody_listening_is_unreachable() -> None:
    m = OpenAIModel(Settings(coach_env="test", openai_base_url="http://127.0.0.1:9/v1",
                             coach_llm_timeout=0.5, coach_llm_retries=0))
    with pytest.raises(ModelFailed) as failed:
        await m.complete(CALL)
    await m.close()
    assert failed.value.outcome in ("unreachable", "timeout")
