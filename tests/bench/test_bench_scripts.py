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


def test_bench_history_commands_run_on_a_small_org(db_url: str) -> None:
    """Every command of bench_history starts what it should (a refusal would be timed)."""
    from bench.bench_history import measure
    from bench.history import NOW, Scale, add_history, build_people, fix_sequences

    app = make_app(db_url, demo=False, start=NOW)
    with app.engine.begin() as conn:
        org = build_people(conn, 16)
        add_history(conn, org, Scale(reps=16, sessions=2, actions=4, checkins=2, months=1),
                    0.0, 1.0)
        fix_sequences(conn)
    figures = measure(app, org, samples=2)
    assert figures["manager App Home"][2] == figures["VP App Home"][2] - 1
    assert all(p50 > 0 for p50, _, _ in figures.values())
    app.close()


def test_bench_digest_runs_on_a_small_org(db_url: str) -> None:
    """The digest bench loads its org, checks the raw SQL counts what the digest counts,
    and the digest's statement count is the fixed one for every recipient."""
    import pytest

    from bench.bench_digest import run
    from storage.digest import STATEMENTS

    if not db_url.startswith("postgresql"):
        pytest.skip("bench_digest is a PostgreSQL benchmark (COPY, raw PostgreSQL SQL)")
    found = run(db_url, scale=0.004, samples=2)
    assert [f.statements for f in found] == [STATEMENTS] * 3
    assert all(f.p50 > 0 and f.raw_p50 > 0 for f in found)
def test_bench_dispatch_sends_every_due_checkin_once() -> None:
    """The dispatch benchmark's both senders reach the fake Slack API; ours sends each
    queued check-in exactly once (a bench whose rows failed would time nothing)."""
    from bench.bench_dispatch import run

    figures = run(count=30, rounds=2, database_url=None)
    assert figures["duplicates"] == 0 and figures["lost"] == 0
    assert figures["ours"] > 0 and figures["bare"] > 0 and figures["rss_mb"] > 0
