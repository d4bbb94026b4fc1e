"""The benchmarks' scripted sessions still fit the flows (a bench that measures retries
would print figures about nothing)."""

from __future__ import annotations

from bench.bench_turns import START, engine_turns
from tests.support import make_app


def test_bench_turns_sessions_run_to_the_end(db_url: str) -> None:
    app = make_app(db_url, start=START)
    samples = engine_turns(app, 3)
    assert len(samples) > 3 * 20
    app.close()
