"""Migration 0003 (organisations) on a database that already holds people and sessions:
everyone lands in the default organisation, references survive, and email and platform
ids become unique per organisation. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from storage.db import make_engine
from storage.migrate import migrate
from tests.conftest import PG_ADMIN_URL

NOW = datetime(2026, 11, 28, tzinfo=UTC).isoformat()


@pytest.fixture(params=["sqlite", "postgresql"])
def blank(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Engine]:
    """An empty database of its own (the shared test databases are already at head)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/m.db")
        yield engine
        engine.dispose()
        return
    name = f"coach_mig_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(admin.url.set(database=name).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _person(conn: Connection, email: str, manager: int | None, slack: str | None,
            org: int | None = None) -> None:
    """A person row written in SQL (the models are at head; the schema may not be)."""
    columns = ("email, name, role, manager_id, timezone, slack_user_id, active, created_at, "
               "updated_at" + (", org_id" if org else ""))
    values = ":email, 'N', 'rep', :manager, 'UTC', :slack, true, :now, :now" + (
        ", :org" if org else "")
    conn.execute(text(f"INSERT INTO person ({columns}) VALUES ({values})"),
                 {"email": email, "manager": manager, "slack": slack, "now": NOW, "org": org})


def test_existing_people_move_into_the_default_org(blank: Engine) -> None:
    migrate(blank, "0002_slack")
    with blank.begin() as conn:
        _person(conn, "boss@x.example", None, "U0BOSS")
        _person(conn, "rep@x.example", 1, "U0REP")
        conn.execute(text("INSERT INTO coaching_session (manager_id, rep_id, status, started_at)"
                          " VALUES (1, 2, 'open', :now)"), {"now": NOW})
    migrate(blank, "head")
    with blank.begin() as conn:
        rows = conn.execute(text("SELECT email, org_id, manager_id FROM person ORDER BY id"))
        assert [tuple(r) for r in rows] == [("boss@x.example", 1, None), ("rep@x.example", 1, 1)]
        assert conn.execute(text("SELECT rep_id FROM coaching_session")).scalar() == 2
        conn.execute(text("INSERT INTO organization (name) VALUES ('Other')"))  # id 2
        _person(conn, "boss@x.example", None, "U0BOSS", org=2)  # same email and id, org 2
    with pytest.raises(IntegrityError), blank.begin() as conn:
        _person(conn, "boss@x.example", None, None, org=2)
    assert {"organization", "org_workspace", "slack_view"} <= set(
        inspect(blank).get_table_names())


def test_0003_goes_down_and_up(blank: Engine) -> None:
    migrate(blank, "head")
    with blank.begin() as conn:
        _person(conn, "boss@x.example", None, "U0BOSS", org=1)
    migrate(blank, "0002_slack", down=True)
    assert "organization" not in inspect(blank).get_table_names()
    migrate(blank, "head")
    with blank.connect() as conn:
        assert conn.execute(text("SELECT org_id FROM person")).scalar() == 1
