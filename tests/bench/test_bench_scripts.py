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
async def test_bench_teams_activities_are_stored_turns(db_url: str) -> None:
    """Both bench_teams cases advance a conversation (a refused answer would be timed), after
    the install the bench sends first stored the chat's reference."""
    from sqlalchemy import func, select

    from bench import bench_teams
    from storage.models import Conversation, TeamsConversation
    from tests.teams.conftest import start
    from tests.teams.fake_connector import FakeConnector

    connector = await FakeConnector().start()
    app = make_app(db_url, demo=False, teams_tenant_id=bench_teams.TENANT)
    bench_teams.setup(app, 4)  # managers 0 and 1 mid-session, 2 and 3 fresh
    async for h in start(app, connector):
        installed = await h.http.post(None, raw=bench_teams.activity("install", 0,
                                                                      connector.url))
        assert installed.status in (200, 202)
        with app.sessions() as db:
            before = db.scalar(select(func.sum(Conversation.version)))
            assert db.scalar(select(func.count(TeamsConversation.id))) == 1  # the reference
        for kind, n in (("answer", 0), ("coach", 2)):
            response = await h.http.post(None, raw=bench_teams.activity(kind, n, connector.url))
            assert response.status in (200, 202)
        with app.sessions() as db:
            after = db.scalar(select(func.sum(Conversation.version)))
            assert db.scalar(select(func.count(Conversation.id))) == 3
        assert after == (before or 0) + 2  # the answer moved its session on; a new one began
        said = " ".join(s.said for s in connector.sent)
        assert "earlier question" not in said and "Sorry" not in said
    await connector.close()
    assert connector.problems == []
