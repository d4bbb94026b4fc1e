"""Indexes for the weekly digest of a large tree: a VP's digest reads the reported weeks'
sessions, check-ins, meetings and metric periods of the whole org; without an index on
the time column each of those is a scan of the whole table, which grows with history.

Revision ID: 0010_digest
Revises: 0009_rhythm
Create Date: 2026-11-28 21:55:00
"""

from __future__ import annotations

from alembic import op

revision = "0010_digest"
down_revision = "0009_rhythm"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_coaching_session_ended_at", "coaching_session", ["ended_at"])
    op.create_index("ix_checkin_period_start", "checkin", ["period_start"])
    op.create_index("ix_metric_period_start", "metric", ["period_start"])
    op.create_index("ix_cadence_occurrence_scheduled_for", "cadence_occurrence",
                    ["scheduled_for"])


def downgrade() -> None:
    op.drop_index("ix_cadence_occurrence_scheduled_for", "cadence_occurrence")
    op.drop_index("ix_metric_period_start", "metric")
    op.drop_index("ix_checkin_period_start", "checkin")
    op.drop_index("ix_coaching_session_ended_at", "coaching_session")
