"""The Alembic migrations and the typed models describe the same schema."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from storage.models import Base

SLACK_SDK_TABLES = {"slack_installations", "slack_bots", "slack_oauth_states",
                    "alembic_version"}


def _ours(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    """slack_sdk's own tables have no models of ours: leave them out of the comparison."""
    table = name if kind == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table not in SLACK_SDK_TABLES


# SQLite's reflection cannot read an index on an expression (the picker's lower(name)):
# compared on PostgreSQL, which reflects it.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": False, "include_object": _ours})
        diffs = compare_metadata(context, Base.metadata)
    assert diffs == []


def test_postgresql_vacuums_the_outbox_as_the_queue_it_is(engine: Engine) -> None:
    """0021: the outbox (two dead versions a message) is vacuumed after 1,000 dead rows
    plus 1 %, not after a fifth of the table; SQLite has no dead versions to vacuum."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps no dead row versions")
    with engine.connect() as conn:
        options = conn.exec_driver_sql(
            "SELECT reloptions FROM pg_class WHERE relname = 'outbox'").scalar_one()
    assert set(options) == {"autovacuum_vacuum_threshold=1000",
                            "autovacuum_vacuum_scale_factor=0.01",
                            "autovacuum_analyze_threshold=1000",
                            "autovacuum_analyze_scale_factor=0.01"}
