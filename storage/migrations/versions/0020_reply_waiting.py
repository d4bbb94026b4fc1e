"""The waiting replies of a speaker found by a partial index: every Teams turn asks whether
any of its speaker's replies still wait in the outbox (storage/replies.py); without it
that read every unsent row, so a turn's cost grew with the messages queued to everyone.

Revision ID: 0020_reply_waiting
Revises: 0019_dispatch
Create Date: 2026-11-29 05:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_reply_waiting"
down_revision = "0019_dispatch"
branch_labels = None
depends_on = None

WAITING = sa.text("status = 'pending' AND idempotency_key LIKE 'reply:%'")


def upgrade() -> None:
    op.create_index("ix_outbox_reply_waiting", "outbox", ["kind", "not_before"],
                    postgresql_where=WAITING, sqlite_where=WAITING)


def downgrade() -> None:
    op.drop_index("ix_outbox_reply_waiting", "outbox")
