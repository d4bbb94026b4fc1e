"""Stay flat as the organisation grows (issue 14).

The leader's and VP's figures join the tree's reps to what is current, never to the
history: partial indexes of the open action items (by rep, due date) and of the completed
sessions by end time (the window), sizes bounded by what is open / recent.

The /coach picker searches a large tree instead of listing it: people by the start of
their name (any case) or email within their org, in byte order (PostgreSQL's
text_pattern_ops, which its pattern operators ~>=~ / ~<~ use whatever the database's
collation; SQLite compares bytes anyway).

Revision ID: 0013_flat
Revises: 0012_teams
Create Date: 2026-11-28 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

OPEN_ACTION = sa.text("status IN ('open', 'in_progress', 'blocked')")
COMPLETED = sa.text("status = 'completed'")

revision = "0013_flat"
down_revision = "0012_teams"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pattern = " text_pattern_ops" if op.get_bind().dialect.name == "postgresql" else ""
    op.execute(f"CREATE INDEX ix_person_name_search ON person (org_id, lower(name){pattern})")
    op.execute(f"CREATE INDEX ix_person_email_search ON person (org_id, email{pattern})")
    op.create_index("ix_action_item_open", "action_item", ["rep_id", "due_date"],
                    postgresql_where=OPEN_ACTION, sqlite_where=OPEN_ACTION)
    op.create_index("ix_coaching_session_completed_ended", "coaching_session",
                    ["ended_at", "rep_id"], postgresql_where=COMPLETED, sqlite_where=COMPLETED)


def downgrade() -> None:
    op.drop_index("ix_coaching_session_completed_ended", "coaching_session")
    op.drop_index("ix_action_item_open", "action_item")
    op.drop_index("ix_person_email_search", "person")
    op.drop_index("ix_person_name_search", "person")
