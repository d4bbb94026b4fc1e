"""Indexes for the reads that grow with history: reviews by session, escalations by
owner, open action items by rep.

Revision ID: 0007_history_indexes
Revises: 0006_review_loop
Create Date: 2026-11-28 19:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0007_history_indexes"
down_revision = "0006_review_loop"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_review_session_status", "review", ["session_id", "status"])
    op.create_index("ix_escalation_owner_status", "escalation", ["owner_id", "status"])
    op.create_index("ix_action_item_rep_status_due", "action_item",
                    ["rep_id", "status", "due_date"])


def downgrade() -> None:
    op.drop_index("ix_action_item_rep_status_due", "action_item")
    op.drop_index("ix_escalation_owner_status", "escalation")
    op.drop_index("ix_review_session_status", "review")
