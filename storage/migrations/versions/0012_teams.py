"""teams_conversation: the Bot Framework conversation references of Teams chats

Stored on install (conversationUpdate / installationUpdate) and on a person's first
message; a proactive message (a check-in, a nudge, a digest) continues the recipient's
personal chat through it. The Agents SDK keeps references only in memory, blob or
Cosmos storage: ours live beside the rest of the data.

Revision ID: 0012_teams
Revises: 0011_escalation_inbox
Create Date: 2026-11-28 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0012_teams"
down_revision = "0011_escalation_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams_conversation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=400), nullable=False),
        sa.Column("user_key", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams_conversation")),
        sa.UniqueConstraint("tenant", "conversation_id",
                            name=op.f("uq_teams_conversation_tenant_conversation_id")),
    )
    op.create_index("ix_teams_conversation_user", "teams_conversation",
                    ["tenant", "user_key", "scope"])


def downgrade() -> None:
    op.drop_index("ix_teams_conversation_user", "teams_conversation")
    op.drop_table("teams_conversation")
