"""Rate limits per chat user on the turns they start (COACH_RATE_LIMIT): the ``limits``
library's moving window, counted in this process's memory. A user over the limit gets a
kind sentence and nothing of that input is stored; a turn already running always ends, and
turns nobody typed (a check-in opened by the scheduler, a model's late answer) are never
counted. With several replicas each counts its own share of a user's requests."""

from __future__ import annotations

from collections.abc import Sequence

from limits import RateLimitItem
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from bot.channels.who import Who


class TurnLimited(Exception):
    """The user is over their rate limit: nothing was stored (a surface says so)."""


class TurnLimiter:
    def __init__(self, items: Sequence[RateLimitItem] = ()) -> None:
        self.items = tuple(items)
        self._window = MovingWindowRateLimiter(MemoryStorage()) if self.items else None

    def admit(self, who: Who) -> bool:
        """Count one turn for ``who`` if every limit has room for it; False (and nothing
        counted) when one has not."""
        if self._window is None:
            return True
        key = (who.platform, who.tenant, who.user_key)
        if not all(self._window.test(item, *key) for item in self.items):
            return False
        return all([self._window.hit(item, *key) for item in self.items])
