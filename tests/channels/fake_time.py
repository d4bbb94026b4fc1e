"""The clock of the ``limits`` library's memory storage, moved by the test (no sleeping)."""

from __future__ import annotations

import limits.storage.memory
import pytest


class FakeTime:
    """Stands in for the ``time`` module in limits.storage.memory: ``time()`` only."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    @classmethod
    def installed(cls, monkeypatch: pytest.MonkeyPatch) -> FakeTime:
        clock = cls()
        monkeypatch.setattr(limits.storage.memory, "time", clock)
        return clock
