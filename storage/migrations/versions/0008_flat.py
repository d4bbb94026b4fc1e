"""Indexes so that a turn's reads stay flat as history grows: a rep's sessions by end
time (the card's last session, the tree's recent sessions) and a person's live
conversation by everything the turn's first query matches (SQLite otherwise walks all of
the speaker's ended conversations through the unique key's first three columns).

Revision ID: 0008_flat
Revises: 0007_history_indexes
Create Date: 2026-11-28 20:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0008_flat"
down_revision = "0007_history_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_coaching_session_rep_ended", "coaching_session", ["rep_id", "ended_at"])
    op.drop_index("ix_conversation_person", "conversation")
    op.create_index("ix_conversation_person", "conversation",
                    ["person_id", "status", "platform", "tenant", "user_key"])


def downgrade() -> None:
    op.drop_index("ix_conversation_person", "conversation")
    op.create_index("ix_conversation_person", "conversation", ["person_id", "status"])
    op.drop_index("ix_coaching_session_rep_ended", "coaching_session")
