"""TurnLimiter on each storage COACH_RATE_LIMIT_STORAGE names: in this process's memory,
or in a real Redis where every replica's limiter draws on one budget per user; and a
storage that cannot be reached lets turns through with one warning."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Callable

import pytest
from limits import parse_many

import bot.channels.limits
from bot.channels.limits import STORAGE_RETRY, TurnLimiter
from bot.channels.who import Who
from bot.settings import Settings

LIMITS = parse_many("3 per 10 seconds")
MAYA, BOB = Who("teams", "t1", "maya"), Who("teams", "t1", "bob")
Opens = Callable[..., TurnLimiter]


@pytest.fixture
async def limiter() -> AsyncIterator[Opens]:
    """Makes TurnLimiters, closed after the test (as at shutdown)."""
    opened: list[TurnLimiter] = []

    def open_limiter(*args: object) -> TurnLimiter:
        opened.append(TurnLimiter(*args))  # type: ignore[arg-type]
        return opened[-1]

    yield open_limiter
    for each in opened:
        await each.close()


async def test_in_memory_each_limiter_counts_its_own_share() -> None:
    replicas = TurnLimiter(LIMITS), TurnLimiter(LIMITS, "memory://")
    admitted = [await replicas[n % 2].admit(MAYA) for n in range(8)]
    assert admitted == [True] * 6 + [False] * 2  # 3 each


async def test_in_redis_two_replicas_share_one_budget_per_user(redis_url: str,
                                                                limiter: Opens) -> None:
    replicas = limiter(LIMITS, redis_url), limiter(LIMITS, redis_url)
    admitted = [await replicas[n % 2].admit(MAYA) for n in range(6)]
    assert admitted == [True] * 3 + [False] * 3
    assert await replicas[1].admit(BOB)  # another user has a budget of their own
    assert not await replicas[0].admit(Who("teams", "t1", "maya"))


async def test_a_refused_turn_is_not_counted_against_a_longer_limit(redis_url: str,
                                                                    limiter: Opens) -> None:
    limited = limiter(parse_many("2 per 10 seconds; 3 per minute"), redis_url)
    assert [await limited.admit(MAYA) for _ in range(4)] == [True, True, False, False]
    other = limiter(parse_many("3 per minute"), redis_url)
    assert await other.admit(MAYA)  # the refused two left the minute's third turn free


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_storage_lets_turns_through_with_one_warning(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
        limiter: Opens) -> None:
    now = [1000.0]
    monkeypatch.setattr(bot.channels.limits.time, "monotonic", lambda: now[0])
    limited = limiter(LIMITS, f"redis://127.0.0.1:{_closed_port()}/0")
    with caplog.at_level(logging.INFO, "coach.channels"):
        assert [await limited.admit(MAYA) for _ in range(6)] == [True] * 6
        now[0] += STORAGE_RETRY + 1  # asked again, still away: no second warning
        assert await limited.admit(MAYA)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "rate-limit storage cannot be reached" in warnings[0].getMessage()


async def test_the_limiter_answers_again_once_the_storage_is_back(
        redis_url: str, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch, limiter: Opens) -> None:
    now = [1000.0]
    monkeypatch.setattr(bot.channels.limits.time, "monotonic", lambda: now[0])
    limited = limiter(LIMITS, f"redis://127.0.0.1:{_closed_port()}/0")
    shared = limiter(LIMITS, redis_url)
    with caplog.at_level(logging.INFO, "coach.channels"):
        assert await limited.admit(MAYA)  # away: let through, uncounted
        limited._window = shared._window  # the storage answers again
        assert await limited.admit(MAYA)  # left alone for STORAGE_RETRY: not counted
        now[0] += STORAGE_RETRY + 1
        assert [await limited.admit(MAYA) for _ in range(4)] == [True] * 3 + [False]
    assert "answers again" in caplog.records[-1].getMessage()


def test_the_storage_setting_takes_memory_or_a_redis_uri() -> None:
    assert Settings(coach_rate_limit_storage="redis://redis:6379/0")
    assert TurnLimiter.configured(Settings(coach_env="test")).items
    with pytest.raises(ValueError, match="Redis URI"):
        Settings(coach_rate_limit_storage="memcached://cache:11211")


def test_the_in_process_window_sweeps_expired_entries_once_a_period_not_per_hit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The library swept every key 10 ms after each hit (a thread holding the GIL); ours
    sweeps once per ``SWEEP_EVERY``, and still frees what expired."""
    import time

    from bot.channels.limits import SweptMemoryStorage

    monkeypatch.setattr(bot.channels.limits, "SWEEP_EVERY", 0.3)
    storage = SweptMemoryStorage()
    sweeps = 0
    sweep = storage._MemoryStorage__expire_events  # type: ignore[attr-defined]

    def counted() -> None:
        nonlocal sweeps
        sweeps += 1
        sweep()

    storage._MemoryStorage__expire_events = counted  # type: ignore[attr-defined]
    time.sleep(0.05)  # the library's first sweep, made as it is built, has run
    for n in range(20):  # 20 people's turns, 10 ms apart: the library swept ~20 times
        assert storage.acquire_entry(f"user-{n}", limit=5, expiry=1)
        time.sleep(0.01)
    assert sweeps == 0
    time.sleep(0.35)
    assert sweeps == 1
    deadline = time.monotonic() + 3
    while (any(storage.events.get(f"user-{n}") for n in range(20))
           and time.monotonic() < deadline):  # expired after 1 s: freed at a sweep
        storage.acquire_entry("late", limit=5, expiry=1)
        time.sleep(0.1)
    assert not any(storage.events.get(f"user-{n}") for n in range(20))


async def test_the_in_process_window_still_limits_between_sweeps() -> None:
    limiter = TurnLimiter(parse_many("3 per minute"))
    who = Who("teams", "t", "u")
    assert [await limiter.admit(who) for _ in range(4)] == [True, True, True, False]
