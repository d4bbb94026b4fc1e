"""Shared fixtures: a migrated database on SQLite and on PostgreSQL for every DB test.

PostgreSQL: ``COACH_TEST_PG_URL`` (default: the local server, database ``test``) is
used to create one scratch database per test run; tables are emptied between tests.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Connection, Engine, insert, make_url, text

from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import DEFAULT_ORG, Base, Organization

if TYPE_CHECKING:
    from tests.drills.outage import Outage


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--long-fuzz", action="store_true",
                     help="property tests run 20,000 cases each instead of 3,000")


def pytest_configure(config: pytest.Config) -> None:
    from tests import fuzz

    fuzz.long_run = bool(config.getoption("--long-fuzz"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.fuzz import RAN

    if RAN:
        terminalreporter.write_sep("-", "property-test cases run")
        for name, cases in sorted(RAN.items()):
            terminalreporter.write_line(f"{name}: {cases:,}")


REDIS_URL = os.environ.get("COACH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A reachable Redis for shared rate limits (``COACH_TEST_REDIS_URL``, default the
    local server); this test's keys under a prefix of their own, deleted after it."""
    import redis

    import bot.channels.limits

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is required for the shared rate-limit tests ({REDIS_URL}): {exc}")
    prefix = f"coach-test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setattr(bot.channels.limits, "KEY_PREFIX", prefix)
    yield REDIS_URL
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def outage(db_url: str) -> Iterator[Outage]:
    """The database of ``db_url`` taken away on ``cut()``: PostgreSQL behind a loopback
    proxy (connect to ``url``), SQLite under another writer's lock."""
    from tests.drills.outage import Outage, Proxy

    if db_url.startswith("sqlite"):
        yield Outage(db_url, None)
        return
    url = make_url(db_url)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.start()
    try:
        yield Outage(db_url, proxy)
    finally:
        proxy.stop()


PG_ADMIN_URL = os.environ.get(
    "COACH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"coach_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - turn any connection failure into one clear message
        pytest.fail(f"PostgreSQL is required for the test suite ({PG_ADMIN_URL}): {exc}")
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database URL."""
    if request.param == "sqlite":
        path = tmp_path / "coach.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("pg_url")
    yield url
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        reseed_default_org(conn)
    engine.dispose()


def reseed_default_org(conn: Connection) -> None:
    """The row migration 0003 adds (the default organisation), back after a TRUNCATE."""
    conn.execute(insert(Organization).values(id=DEFAULT_ORG, name="Default organisation"))
    conn.execute(text("SELECT setval(pg_get_serial_sequence('organization', 'id'), 1)"))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL with nothing in it yet: not even migrated (a first deployment)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"coach_fresh_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()
