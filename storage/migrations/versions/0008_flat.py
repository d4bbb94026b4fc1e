"""Indexes so that a turn's reads stay flat as history grows: a rep's sessions by end
time (the card's last session, the tree's recent sessions) and a person's live
conversation by everything the turn's first query matches (SQLite otherwise walks all of
the speaker's ended conversations through the unique key's first three columns). The
rep_id-only index on action_item goes: (rep_id, status, due_date) serves every read by
rep, and PostgreSQL preferred the narrower one, reading all of a rep's 200 items to count
the 8 open ones.

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
    op.drop_index("ix_action_item_rep_id", "action_item")
    op.drop_index("ix_conversation_person", "conversation")
    op.create_index("ix_conversation_person", "conversation",
                    ["person_id", "status", "platform", "tenant", "user_key"])


def downgrade() -> None:
    op.drop_index("ix_conversation_person", "conversation")
    op.create_index("ix_conversation_person", "conversation", ["person_id", "status"])
    op.create_index("ix_action_item_rep_id", "action_item", ["rep_id"])
    op.drop_index("ix_coaching_session_rep_ended", "coaching_session")
