"""The fault drills' figures (issue 12): each drill adds what it counted (runs, kills,
duplicates, losses, fuzz cases, crashes, matrix cells) under its name, and the test
session prints them at the end (tests/drills/conftest.py), so the CI log shows them.

How big the drills are comes from the environment, for quick local runs; CI sets none of
these and runs the real sizes: ``COACH_DRILL_OUTAGE`` (seconds the database is away,
default 30), ``COACH_DRILL_CASES`` (fuzz cases per parser, default 10,000) and
``COACH_DRILL_KILLS`` (``kill -9`` per database, default 50: 100 over the two).
"""

from __future__ import annotations

import os

OUTAGE_SECONDS = float(os.environ.get("COACH_DRILL_OUTAGE", "30"))
FUZZ_CASES = int(os.environ.get("COACH_DRILL_CASES", "10000"))
KILLS = int(os.environ.get("COACH_DRILL_KILLS", "50"))

FIGURES: dict[str, dict[str, float]] = {}


def record(drill: str, **figures: float) -> None:
    """Add ``figures`` to the drill's totals (a drill run on both databases adds twice)."""
    totals = FIGURES.setdefault(drill, {})
    for name, value in figures.items():
        totals[name] = totals.get(name, 0) + value


def lines() -> list[str]:
    """One line per drill: its figures in the order they were first recorded."""
    return [f"{drill}: " + ", ".join(f"{name} {_shown(value)}" for name, value in totals.items())
            for drill, totals in FIGURES.items()]


def _shown(value: float) -> str:
    return f"{value:,.1f}" if value != int(value) else f"{int(value):,}"
