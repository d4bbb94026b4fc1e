"""Prometheus metrics of one ``coach serve`` process (prometheus-client), served at
GET /metrics.

One registry per application (not the library's global one), so two apps in one process
(tests) never mix their counts. Turns, deliveries, errors and the scheduler are counted
as they happen; the outbox backlog is read from the database when Prometheus scrapes,
in the scraping thread, by one indexed query (storage/outbox.py ``backlog``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage import outbox

log = logging.getLogger("coach.metrics")
# Seconds: an ack's worth of turn up to a slow model-backed one (the turn budget is 20 s).
TURN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The counters, histograms and gauges of one application, in its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.turns = Counter(
            "coach_turns", "Turns run, by surface and outcome (ok, unknown_person, stale, "
            "refused, busy, crashed; error: the turn raised)", ["surface", "outcome"],
            registry=registry)
        self.turn_seconds = Histogram(
            "coach_turn_duration_seconds", "How long a turn took, database work included",
            ["surface", "outcome"], buckets=TURN_BUCKETS, registry=registry)
        self.errors = Counter(
            "coach_errors", "Failures logged with a traceback, by where they happened "
            "(turn, due_work, outbox)", ["where"], registry=registry)
        self.deliveries = Counter(
            "coach_deliveries", "Outbox messages handed to a platform, by channel and "
            "result (sent, failed: rescheduled)", ["channel", "result"], registry=registry)
        self._delivered: dict[tuple[str, bool], Any] = {}
        self.scheduler_leader = Gauge(
            "coach_scheduler_leader", "1 while this process runs the scheduler (one "
            "replica per database), else 0", registry=registry)
        self.scheduler_lag = Gauge(
            "coach_scheduler_lag_seconds", "How late the latest run of the due work "
            "started after the time it was scheduled for", registry=registry)
        self.scheduler_last_run = Gauge(
            "coach_scheduler_last_run_timestamp_seconds", "When the due work last ran to "
            "the end on this process (Unix time)", registry=registry)
        self._backlog: OutboxBacklog | None = None
        # Each (surface, outcome)'s counter and histogram, looked up once: the library's
        # ``labels`` takes a lock on every call, and this runs on every turn.
        self._turn_series: dict[tuple[str, str], tuple[Counter, Histogram]] = {}

    def turn_done(self, surface: str, outcome: str, seconds: float) -> None:
        series = self._turn_series.get((surface, outcome))
        if series is None:
            series = (self.turns.labels(surface, outcome),
                      self.turn_seconds.labels(surface, outcome))
            self._turn_series[(surface, outcome)] = series
        series[0].inc()
        series[1].observe(seconds)

    def failed(self, where: str) -> None:
        self.errors.labels(where).inc()

    def delivered(self, channel: str, sent: bool) -> None:
        counter = self._delivered.get((channel, sent))
        if counter is None:  # the labelled child, looked up once (a burst counts thousands)
            counter = self._delivered[(channel, sent)] = self.deliveries.labels(
                channel, "sent" if sent else "failed")
        counter.inc()

    def leading(self, leads: bool) -> None:
        self.scheduler_leader.set(1 if leads else 0)

    def due_work_started(self, late_seconds: float) -> None:
        self.scheduler_lag.set(max(0.0, late_seconds))

    def due_work_ran(self) -> None:
        self.scheduler_last_run.set(time.time())

    def watch_outbox(self, sessions: sessionmaker[Session], now: Callable[[], datetime],
                     channels: Sequence[str]) -> None:
        """Report the outbox backlog of ``channels`` at each scrape (replacing an earlier
        watch: one web application per process serves these metrics)."""
        if self._backlog is not None:
            self.registry.unregister(self._backlog)
        self._backlog = OutboxBacklog(sessions, now, channels)
        self.registry.register(self._backlog)

    def exposition(self, accept: str | None = None) -> tuple[bytes, str]:
        """The body and its content type for a scraper's ``Accept`` header: OpenMetrics
        when asked for, else Prometheus' text format (the library's own negotiation).
        Runs the backlog query: call it off the event loop."""
        encode, content_type = choose_encoder(accept or "")
        return encode(self.registry), content_type


class OutboxBacklog(Collector):
    """``coach_outbox_depth`` and ``coach_outbox_oldest_age_seconds`` per channel, read
    when scraped; a channel with nothing due reports 0. A database that does not answer
    leaves both out of that scrape (``/readyz`` reports it) instead of failing it."""

    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime],
                 channels: Iterable[str]) -> None:
        self.sessions, self.now, self.channels = sessions, now, tuple(channels)

    def collect(self) -> Iterator[Metric]:
        now = self.now()
        try:
            with self.sessions() as db:
                found = {b.channel: b for b in outbox.backlog(db, now)}
        except SQLAlchemyError as exc:
            log.warning("metrics: the outbox backlog could not be read: %s",
                        type(exc).__name__)
            return
        depth = GaugeMetricFamily("coach_outbox_depth", "Outbox messages due now and not "
                                  "sent yet, by channel", labels=["channel"])
        age = GaugeMetricFamily("coach_outbox_oldest_age_seconds", "How long the oldest "
                                "due, unsent message has been due, by channel",
                                labels=["channel"])
        for channel in sorted({*self.channels, *found}):
            backlog = found.get(channel)
            depth.add_metric([channel], backlog.depth if backlog else 0)
            age.add_metric([channel], max(0.0, (now - backlog.oldest_due).total_seconds())
                           if backlog else 0.0)
        yield depth
        yield age
