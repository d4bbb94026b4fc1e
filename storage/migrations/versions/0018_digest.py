"""The weekly digest's windows read from the index alone: the time indexes of 0010 (and the
action items' of 0016) become covering indexes holding every column the digest counts,
so a VP's digest reads no table page of the reported weeks' sessions, check-ins, metric
periods or action items once PostgreSQL has vacuumed them. The check-in index also holds
the person (a leader's tree: the week's rows of their reps alone). SQLite ignores INCLUDE:
there the new indexes are the old ones under a new name.

Revision ID: 0018_digest
Revises: 0017_llmwire
Create Date: 2026-12-03 04:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0018_digest"
down_revision = "0017_llmwire"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_coaching_session_ended", "coaching_session", ["ended_at"],
                    postgresql_include=["status", "rep_id", "manager_id", "category",
                                        "focus_area", "leaf"])
    op.drop_index("ix_coaching_session_ended_at", "coaching_session")
    op.create_index("ix_checkin_period_person", "checkin", ["period_start", "person_id"],
                    postgresql_include=["status", "got_coaching"])
    op.drop_index("ix_checkin_period_start", "checkin")
    op.create_index("ix_metric_period", "metric", ["period_start"],
                    postgresql_include=["period_end", "kind", "person_id", "metric", "actual",
                                        "target"])
    op.drop_index("ix_metric_period_start", "metric")
    op.create_index("ix_action_item_rep_changed", "action_item", ["rep_id", "updated_at"],
                    postgresql_include=["status", "created_at", "due_date"])
    op.drop_index("ix_action_item_rep_updated", "action_item")


def downgrade() -> None:
    op.create_index("ix_action_item_rep_updated", "action_item", ["rep_id", "updated_at"])
    op.drop_index("ix_action_item_rep_changed", "action_item")
    op.create_index("ix_metric_period_start", "metric", ["period_start"])
    op.drop_index("ix_metric_period", "metric")
    op.create_index("ix_checkin_period_start", "checkin", ["period_start"])
    op.drop_index("ix_checkin_period_person", "checkin")
    op.create_index("ix_coaching_session_ended_at", "coaching_session", ["ended_at"])
    op.drop_index("ix_coaching_session_ended", "coaching_session")
