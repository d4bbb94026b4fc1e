"""Check-in blockers tagged by the language model (the digest counts them by tag), and the
index that finds a Slack user's latest modal (a model's late answer updates it).

Revision ID: 0017_llmwire
Revises: 0014_model_requests
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_llmwire"
down_revision = "0016_rhythmgaps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkin_blocker",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["checkin_id"], ["checkin.id"],
                                name=op.f("fk_checkin_blocker_checkin_id_checkin"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_blocker")),
    )
    op.create_index(op.f("ix_checkin_blocker_checkin_id"), "checkin_blocker", ["checkin_id"])
    op.create_index("ix_slack_view_user", "slack_view", ["tenant", "user_key", "opened_at"])


def downgrade() -> None:
    op.drop_index("ix_slack_view_user", "slack_view")
    op.drop_index(op.f("ix_checkin_blocker_checkin_id"), "checkin_blocker")
    op.drop_table("checkin_blocker")
