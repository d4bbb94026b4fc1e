"""outbox.first_leased_at: when a row was first handed to a sender

A row leased again after that (its sender died, or a send failed) may already have
reached Slack; the sender checks the recipient's recent messages from this time on
before sending it again.

Revision ID: 0005_delivery
Revises: 0004_leaf_records
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0005_delivery"
down_revision = "0004_leaf_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("first_leased_at",
                                     storage.models.UTCDateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("first_leased_at")
