"""The outbox's unsent rows in a partial index, ``ix_outbox_due`` (kind, id, not_before),
replacing the (status, not_before) one over every row: a sender's lease walks its
channel's rows in order, the /metrics backlog and the held digests read the unsent rows,
and none of them the history of sent ones.

Revision ID: 0019_dispatch
Revises: 0018_digest
Create Date: 2026-11-29 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_dispatch"
down_revision = "0018_digest"
branch_labels = None
depends_on = None

UNSENT = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_index("ix_outbox_due", "outbox", ["kind", "id", "not_before"],
                    postgresql_where=UNSENT, sqlite_where=UNSENT)
    op.drop_index("ix_outbox_pending", "outbox")


def downgrade() -> None:
    op.create_index("ix_outbox_pending", "outbox", ["status", "not_before"])
    op.drop_index("ix_outbox_due", "outbox")
