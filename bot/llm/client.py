"""The one place that talks to a language model, through the ``openai`` package: OpenAI,
Azure OpenAI's v1 endpoint and any OpenAI-compatible server (``OPENAI_BASE_URL``: vLLM,
Ollama, a test's fake on loopback).

Short timeouts and bounded retries (the client's own backoff on 429 / 5xx, which honours
Retry-After) instead of the package's 600 s and 2 retries. A structured answer is asked
for with a JSON schema; a server that refuses that parameter is asked again without it
(and not asked with it again), and the answer's text is parsed either way.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import urlsplit, urlunsplit

from bot.settings import Settings

if TYPE_CHECKING:  # imported when a model is made: a CLI command that never asks one (an
    import openai  # import, a migration) starts without the second or so openai costs

log = logging.getLogger("coach.llm")
NO_KEY = "not-needed"  # a local server with no key: the client insists on one
Outcome = Literal["timeout", "rate_limited", "server_error", "refused", "unreachable", "error"]


@dataclass(frozen=True, slots=True)
class ModelCall:
    """One request: what it is for (the log's ``purpose``), the prompt, and the JSON schema
    the answer should follow."""

    purpose: str
    prompt: str
    schema: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ModelReply:
    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_ms: int


class ModelFailed(Exception):
    """No usable answer came back; ``outcome`` names why, for the request log."""

    def __init__(self, outcome: Outcome, detail: str, latency_ms: int = 0) -> None:
        super().__init__(f"{outcome}: {detail}")
        self.outcome, self.detail, self.latency_ms = outcome, detail, latency_ms


class Model(Protocol):
    """What the tasks need from a model (the real client, or a test's recording fake)."""

    name: str
    api: str

    async def complete(self, call: ModelCall) -> ModelReply: ...

    async def close(self) -> None: ...


class OpenAIModel:
    """A model behind the openai client; one per event loop (it holds an HTTP pool)."""

    def __init__(self, settings: Settings) -> None:
        self.name: str = settings.coach_llm_model
        self.api: str = settings.coach_llm_api
        self.max_tokens = settings.coach_llm_max_tokens
        self.schemas = True  # cleared when the server refuses a JSON-schema response format
        import openai  # late: see the module's imports

        self.client = openai.AsyncOpenAI(
            api_key=settings.openai_api_key or NO_KEY, base_url=settings.openai_base_url,
            timeout=settings.coach_llm_timeout, max_retries=settings.coach_llm_retries)

    async def complete(self, call: ModelCall) -> ModelReply:
        import openai  # loaded by __init__ already: a look-up

        started = time.monotonic()
        try:
            try:
                reply = await self._ask(call, with_schema=self.schemas)
            except openai.BadRequestError as exc:
                if not self.schemas or not _about_format(exc):
                    raise
                log.info("the model server refused a JSON schema: asking for plain JSON text")
                self.schemas = False
                reply = await self._ask(call, with_schema=False)
        except openai.APITimeoutError as exc:
            raise ModelFailed("timeout", str(exc), _since(started)) from exc
        except openai.RateLimitError as exc:
            raise ModelFailed("rate_limited", _status(exc), _since(started)) from exc
        except openai.APIStatusError as exc:
            outcome: Outcome = "server_error" if exc.status_code >= 500 else "refused"
            raise ModelFailed(outcome, _status(exc), _since(started)) from exc
        except openai.APIConnectionError as exc:
            raise ModelFailed("unreachable", str(exc), _since(started)) from exc
        except openai.OpenAIError as exc:
            raise ModelFailed("error", f"{type(exc).__name__}: {exc}", _since(started)) from exc
        text, prompt_tokens, completion_tokens = reply
        return ModelReply(text, prompt_tokens, completion_tokens, _since(started))

    async def _ask(self, call: ModelCall, *, with_schema: bool
                   ) -> tuple[str, int | None, int | None]:
        if self.api == "responses":
            extra: dict[str, Any] = {}
            if with_schema:
                extra["text"] = {"format": {"type": "json_schema", "name": call.purpose,
                                            "schema": call.schema, "strict": False}}
            response = await self.client.responses.create(
                model=self.name, input=call.prompt, max_output_tokens=self.max_tokens, **extra)
            usage = response.usage
            return (response.output_text, usage.input_tokens if usage else None,
                    usage.output_tokens if usage else None)
        fmt: dict[str, Any] = (
            {"type": "json_schema",
             "json_schema": {"name": call.purpose, "schema": call.schema, "strict": False}}
            if with_schema else {"type": "json_object"})
        completion = await self.client.chat.completions.create(  # type: ignore[call-overload]
            model=self.name, messages=[{"role": "user", "content": call.prompt}],
            max_tokens=self.max_tokens, response_format=fmt)
        text = completion.choices[0].message.content if completion.choices else None
        used = completion.usage
        return (text or "", used.prompt_tokens if used else None,
                used.completion_tokens if used else None)

    async def close(self) -> None:
        await self.client.close()


def _about_format(exc: openai.BadRequestError) -> bool:
    words = str(exc).lower()
    return any(w in words for w in ("response_format", "json_schema", "text.format", "format"))


def _status(exc: openai.APIStatusError) -> str:
    return f"HTTP {exc.status_code}"


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


@dataclass(frozen=True, slots=True)
class ModelSetup:
    """Whether a model is used, and which: what ``coach chat`` and ``coach serve`` say at
    start (never the key)."""

    on: bool
    model: str
    base_url: str
    why_off: str = ""

    def describe(self) -> str:
        if not self.on:
            return f"Language model: off ({self.why_off})."
        return f"Language model: on — {self.model} at {self.base_url}."


class SetupText:
    not_configured = "no OPENAI_API_KEY or OPENAI_BASE_URL"
    playbook_off = "the playbook's llm.enabled is false"
    default_url = "https://api.openai.com/v1"


def shown_url(url: str) -> str:
    """A base URL as it may be shown: no user, password or query (a key may hide there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def model_setup(settings: Settings, enabled_by_playbook: bool) -> ModelSetup:
    base = shown_url(settings.openai_base_url or SetupText.default_url)
    if not settings.llm_configured:
        return ModelSetup(False, settings.coach_llm_model, base, SetupText.not_configured)
    if not enabled_by_playbook:
        return ModelSetup(False, settings.coach_llm_model, base, SetupText.playbook_off)
    return ModelSetup(True, settings.coach_llm_model, base)
