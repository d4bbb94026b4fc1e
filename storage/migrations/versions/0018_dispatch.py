"""The outbox's unsent rows by when they may go (``ix_outbox_due``, partial), replacing the
(status, not_before) index over every row: a lease, the /metrics backlog and the held
digests read only the rows still to send.

Revision ID: 0018_dispatch
Revises: 0017_llmwire
Create Date: 2026-11-29 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_dispatch"
down_revision = "0017_llmwire"
branch_labels = None
depends_on = None

UNSENT = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_index("ix_outbox_due", "outbox", ["not_before", "kind"],
                    postgresql_where=UNSENT, sqlite_where=UNSENT)
    op.drop_index("ix_outbox_pending", "outbox")


def downgrade() -> None:
    op.create_index("ix_outbox_pending", "outbox", ["status", "not_before"])
    op.drop_index("ix_outbox_due", "outbox")
