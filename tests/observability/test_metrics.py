"""GET /metrics after real traffic: turns by surface and outcome with their latency, the
outbox backlog read from the database, deliveries, the scheduler's leader, lag and last
run, and errors; scraped and parsed as Prometheus would."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from bot.channels.outbox import DeliveryFailed
from bot.cli.demo_org import DOMAIN
from bot.observability.metrics import Metrics
from bot.rhythm.leader import SoleProcess
from flows.messages import Message, message_to_json
from storage import outbox
from storage.db import make_sessions
from tests.channels.fakes import FakeNotifier
from tests.rhythm.test_hosting import host_for, running, until
from tests.slack.conftest import IDS, Harness, fake, harness
from tests.support import make_app

__all__ = ["fake", "harness"]  # the Slack harness's fixtures
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def scrape(harness: Harness) -> Samples:
    response = await harness.http.http.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(await response.text())


def queue(harness: Harness, key: str, overdue: float) -> None:
    now = harness.app.clock.now()
    with harness.app.engine.begin() as conn:
        outbox.enqueue(conn, key=key, kind="slack", target=f"alice@{DOMAIN}", now=now,
                       not_before=now - timedelta(seconds=overdue), payload={
                           "tenant": "T0TEAM", "message": message_to_json(Message("hi"))})


async def test_a_scrape_after_traffic_counts_turns_and_reads_the_outbox_backlog(
        harness: Harness) -> None:
    await harness.http.command(IDS["maya"], "alice")  # opens a session: ok
    await harness.http.command(IDS["alice"], "checkin")  # ok
    harness.fake.add_user("U0NOBODY", "nobody@elsewhere.example", "No Body")
    await harness.http.command("U0NOBODY", "help")  # not one of ours
    await harness.http.settle()
    queue(harness, "overdue", 90)
    queue(harness, "later", -3600)  # not due for an hour: not in the backlog
    found = await scrape(harness)
    ok = ("outcome", "ok"), ("surface", "slack")
    assert found[("coach_turns_total", ok)] == 2
    assert found[("coach_turns_total", (("outcome", "unknown_person"), ("surface", "slack")))] \
        == 1
    assert found[("coach_turn_duration_seconds_count", ok)] == 2
    assert 0 < found[("coach_turn_duration_seconds_sum", ok)] < 30
    assert found[("coach_outbox_depth", (("channel", "slack"),))] == 1
    assert found[("coach_outbox_oldest_age_seconds", (("channel", "slack"),))] == 90
    assert found[("coach_scheduler_leader", ())] == 0  # no scheduler in this harness


async def test_an_empty_outbox_reports_zero_for_each_channel(harness: Harness) -> None:
    found = await scrape(harness)
    assert found[("coach_outbox_depth", (("channel", "slack"),))] == 0
    assert found[("coach_outbox_oldest_age_seconds", (("channel", "slack"),))] == 0


def test_a_database_that_does_not_answer_leaves_the_backlog_out_of_the_scrape() -> None:
    metrics = Metrics()
    engine = create_engine("sqlite:////nonexistent/folder/coach.db")
    metrics.watch_outbox(make_sessions(engine), lambda: datetime.now(UTC), ["slack"])
    body, _ = metrics.exposition()
    found = parse(body.decode())
    assert not [name for name, _ in found if name.startswith("coach_outbox")]
    assert ("coach_scheduler_leader", ()) in found
    engine.dispose()


async def test_the_scheduler_reports_its_leader_lag_last_run_deliveries_and_errors(
        db_url: str) -> None:
    app = make_app(db_url)
    notifier = FakeNotifier("slack", failures=[DeliveryFailed("429", retry_after=0)])
    host = host_for(app, notifier, SoleProcess())
    metrics = app.metrics.registry
    try:
        async with running(host):
            await until(lambda: host.ticks >= 3 and len(notifier.sent) >= 1)
            assert metrics.get_sample_value("coach_scheduler_leader") == 1
            assert metrics.get_sample_value("coach_scheduler_last_run_timestamp_seconds") > 0
            lag = metrics.get_sample_value("coach_scheduler_lag_seconds")
            assert lag is not None and 0 <= lag < 30
        assert metrics.get_sample_value("coach_scheduler_leader") == 0
        assert metrics.get_sample_value("coach_deliveries_total", {
            "channel": "slack", "result": "failed"}) == 1
        assert metrics.get_sample_value("coach_deliveries_total", {
            "channel": "slack", "result": "sent"}) == len(notifier.sent)
    finally:
        host.gateway.close()
        app.close()


async def test_a_failing_due_work_counts_an_error(db_url: str) -> None:
    app = make_app(db_url, demo=False)

    def broken(now: object) -> None:
        raise RuntimeError("due work broke")

    host = host_for(app, FakeNotifier("slack"), SoleProcess(), broken)
    try:
        async with running(host):
            await until(lambda: (app.metrics.registry.get_sample_value(
                "coach_errors_total", {"where": "due_work"}) or 0) >= 1)
            await asyncio.sleep(0)
    finally:
        host.gateway.close()
        app.close()
