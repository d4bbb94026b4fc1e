"""The composition root: settings in, a wired application out. Nothing connects at import."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.flowset import FlowSet, build_flows
from bot.llm.client import ModelSetup
from bot.llm.wiring import planner_for, setup_of
from bot.observability.logs import configure_logging
from bot.observability.metrics import Metrics
from bot.playbook_loader import load_playbook
from bot.runner import TurnRunner
from bot.services.commands import commands
from bot.services.handoffs import start_model
from bot.settings import SECRETS, Settings
from flows.playbook import Playbook
from storage.db import LONG_BUSY_TIMEOUT, make_engine, make_sessions
from storage.migrate import upgrade


@dataclass
class App:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    playbook: Playbook
    flows: FlowSet
    clock: Clock
    runner: TurnRunner
    model: ModelSetup  # whether a language model is on, which, where (never the key)
    metrics: Metrics = field(default_factory=Metrics)  # served at GET /metrics

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(settings: Settings, clock: Clock | None = None, *, migrate: bool = True,
              busy_timeout: float = LONG_BUSY_TIMEOUT) -> App:
    """Load the playbook, connect, migrate to head and wire the turn runner.

    ``busy_timeout``: how long SQLite work waits for another process's write lock
    (``coach serve`` answers within Slack's 3 seconds, so it waits briefly; the
    migration at start still waits long)."""
    configure_logging(settings.coach_log_format, settings.coach_log_level,
                      secret_values(settings))
    playbook = load_playbook(settings.coach_playbook)
    engine = make_engine(settings.sqlalchemy_url, busy_timeout=busy_timeout)
    if migrate and busy_timeout < LONG_BUSY_TIMEOUT:
        patient = make_engine(settings.sqlalchemy_url)
        try:
            upgrade(patient)
        finally:
            patient.dispose()
    elif migrate:
        upgrade(engine)
    sessions = make_sessions(engine)
    flows = build_flows(playbook)
    clock = clock or SystemClock()
    runner = TurnRunner(engine, flows, clock, commands(), start_model,
                        planner_for(settings, playbook))
    return App(settings, engine, sessions, playbook, flows, clock, runner,
               setup_of(settings, playbook))


def secret_values(settings: Settings) -> list[str]:
    """What no log line may show: the configured secrets and the database's password."""
    values = [value for name in SECRETS if (value := getattr(settings, name))]
    try:
        password = make_url(settings.database_url).password
    except ArgumentError:  # reported by the engine; nothing to mask here
        password = None
    return [*values, *([str(password)] if password else [])]
