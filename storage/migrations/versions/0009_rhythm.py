"""The operating rhythm (issue 10): what the due-work function needs to remember.

- cadence_occurrence: ``moved_to`` (a moved meeting's new time; the new time is a planned
  occurrence of its own), ``checked_at`` (when the owner said held / moved / skipped);
  its status is planned | held | moved | skipped. Read by (status, scheduled_for): the
  prep nudges and "did it happen?" prompts look at a window of time, never all history.
- cadence: ``planned_until`` (occurrences are materialised up to there, a bounded
  horizon ahead).
- person: ``away_until`` (out of office through that local date: /away).
- checkin: ``asked_at`` (when the check-in was last put to the rep) and ``ask_again_at``
  (a snooze's time); read by (status, asked_at) for the reminder and the missed mark.
- action_item (status, due_date) and review (status, due_date): the reminders' windows.

Revision ID: 0009_rhythm
Revises: 0008_flat
Create Date: 2026-11-28 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0009_rhythm"
down_revision = "0008_flat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cadence_occurrence") as batch:
        batch.add_column(sa.Column("moved_to", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("checked_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("cadence") as batch:
        batch.add_column(sa.Column("planned_until", UTCDateTime(), nullable=True))
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("away_until", sa.Date(), nullable=True))
    with op.batch_alter_table("checkin") as batch:
        batch.add_column(sa.Column("asked_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("ask_again_at", UTCDateTime(), nullable=True))
    op.create_index("ix_cadence_occurrence_status_at", "cadence_occurrence",
                    ["status", "scheduled_for"])
    op.create_index("ix_checkin_status_asked", "checkin", ["status", "asked_at"])
    op.create_index("ix_action_item_status_due", "action_item", ["status", "due_date"])
    op.create_index("ix_review_status_due", "review", ["status", "due_date"])


def downgrade() -> None:
    op.drop_index("ix_review_status_due", "review")
    op.drop_index("ix_action_item_status_due", "action_item")
    op.drop_index("ix_checkin_status_asked", "checkin")
    op.drop_index("ix_cadence_occurrence_status_at", "cadence_occurrence")
    with op.batch_alter_table("checkin") as batch:
        batch.drop_column("ask_again_at")
        batch.drop_column("asked_at")
    with op.batch_alter_table("person") as batch:
        batch.drop_column("away_until")
    with op.batch_alter_table("cadence") as batch:
        batch.drop_column("planned_until")
    with op.batch_alter_table("cadence_occurrence") as batch:
        batch.drop_column("checked_at")
        batch.drop_column("moved_to")
