"""How many cases a property test runs: 3,000 in the normal run, 20,000 with ``--long-fuzz``.

Property tests carry the ``slow`` marker, so ``pytest -m slow --long-fuzz`` runs only the
long runs (and the other slow tests). Each test counts its cases in ``RAN``; the counts are
printed at the end of the session (``pytest -rA`` or in the terminal summary).
"""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, settings

CASES = 3_000
LONG_CASES = 20_000
long_run = False  # set from the command line by tests/conftest.py before tests are imported
RAN: Counter[str] = Counter()


def fuzz(scale: float = 1.0) -> settings:
    """Hypothesis settings for a property test; ``scale`` < 1 for costly cases (HTTP)."""
    cases = max(1, int((LONG_CASES if long_run else CASES) * scale))
    return settings(max_examples=cases, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture,
                                           HealthCheck.filter_too_much])


def count(name: str) -> None:
    RAN[name] += 1
