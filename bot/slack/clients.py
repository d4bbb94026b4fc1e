"""Web API clients: retry handlers (429 after Retry-After, 5xx, connection errors), an
explicit timeout, and one client per workspace token."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

Sleep = Callable[[float], Awaitable[Any]]
DEFAULT_API_URL = "https://slack.com/api/"
API_TIMEOUT = 10.0  # seconds for one Web API call (aiohttp's own default is 300)


class RateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, waiting exactly Retry-After through an injectable sleep."""

    def __init__(self, sleep: Sleep = asyncio.sleep, max_retry_count: int = 2) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.sleep = sleep

    async def prepare_for_next_attempt_async(
        self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error or RuntimeError("rate limited without a response")
        state.next_attempt_requested = True
        await self.sleep(retry_after(response.headers) or 1.0)
        state.increment_current_attempt()


class ServerErrorRetry(AsyncServerErrorRetryHandler):
    """Retry 500 and 503 with backoff, through an injectable sleep."""

    def __init__(self, sleep: Sleep = asyncio.sleep, max_retry_count: int = 2) -> None:
        super().__init__(max_retry_count, BackoffRetryIntervalCalculator(backoff_factor=0.5))
        self.sleep = sleep

    async def prepare_for_next_attempt_async(
        self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        await self.sleep(self.interval_calculator.calculate_sleep_duration(state.current_attempt))
        state.increment_current_attempt()


def retry_after(headers: Any) -> float | None:
    for key, value in dict(headers or {}).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return float(raw)
            except (TypeError, ValueError):
                return None
    return None


def retry_handlers(sleep: Sleep = asyncio.sleep) -> list[AsyncRetryHandler]:
    return [AsyncConnectionErrorRetryHandler(), RateLimitRetry(sleep), ServerErrorRetry(sleep)]


def api_logger(level: str) -> logging.Logger:
    """The Web API client's logger, with its own level set.

    slack_sdk builds its debug lines (the whole request, the whole response) whenever
    its logger's *own* level is NOTSET or DEBUG, even when nothing would print them: on
    a views.open that is most of the client's CPU. With the level set here, the lines
    are built only when debug logging is on (COACH_LOG_LEVEL=DEBUG).
    """
    logger = logging.getLogger("coach.slack.api")
    logger.setLevel(level.upper())
    return logger


def web_client(*, token: str | None, base_url: str, timeout: float, logger: logging.Logger,
               retry_handlers: list[AsyncRetryHandler],
               session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """A Web API client that gives up on a call after ``timeout`` seconds."""
    return AsyncWebClient(token=token, base_url=base_url, timeout=math.ceil(timeout),
                          session=session, logger=logger, retry_handlers=retry_handlers)


def api_session(timeout: float) -> aiohttp.ClientSession:
    """The keep-alive pool every Web API call shares. slack_sdk applies its own timeout
    only to sessions it makes itself, so this one carries the timeout too."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))


def api_url(configured: str | None) -> str:
    url = configured or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


class Clients:
    """The Web API client for a workspace: the single bot token, or the installed one."""

    def __init__(self, base: AsyncWebClient, store: AsyncInstallationStore | None) -> None:
        self.base, self.store = base, store
        self._by_token: dict[str, AsyncWebClient] = {}

    async def for_tenant(self, tenant: str) -> AsyncWebClient | None:
        if self.store is None:
            return self.base if self.base.token else None
        bot = await self.store.async_find_bot(enterprise_id=None, team_id=tenant or None)
        if bot is None or not bot.bot_token:
            return None
        client = self._by_token.get(bot.bot_token)
        if client is None:
            client = web_client(token=bot.bot_token, base_url=self.base.base_url,
                                timeout=self.base.timeout, session=self.base.session,
                                logger=self.base.logger,
                                retry_handlers=list(self.base.retry_handlers or []))
            self._by_token[bot.bot_token] = client
        return client
