"""PostgreSQL vacuums the outbox after every 1,000 dead rows (plus 1 % of the table), not
after a fifth of the table: it is a queue, every message leaving two dead versions (its
lease and its sent mark). With the default, a burst of check-ins into an outbox with a
long history left its dead versions in ``ix_outbox_due`` until the next burst, whose
leases then walked them (bench_dispatch: a lease of 500 rows 6 → 15 ms, the planner
turning to the primary key). SQLite keeps no dead versions: nothing to do there.

Revision ID: 0021_outbox_vacuum
Revises: 0020_reply_waiting
Create Date: 2026-11-29 12:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0021_outbox_vacuum"
down_revision = "0020_reply_waiting"
branch_labels = None
depends_on = None

SETTINGS = {"autovacuum_vacuum_threshold": "1000", "autovacuum_vacuum_scale_factor": "0.01",
            "autovacuum_analyze_threshold": "1000", "autovacuum_analyze_scale_factor": "0.01"}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        settings = ", ".join(f"{name} = {value}" for name, value in SETTINGS.items())
        op.execute(f"ALTER TABLE outbox SET ({settings})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE outbox RESET ({', '.join(SETTINGS)})")
