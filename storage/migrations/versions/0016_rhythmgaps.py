"""The operating rhythm's gaps (issue 10).

- When the rhythm started serving an organisation: nothing that fell due before it (last
  week's digest on a new install, a check-in whose Friday came before the first run) is
  caught up.
- action_item (rep_id, updated_at): a pipeline review's prep nudge reads a rep's actions
  opened or done since the last one (a window of time, not the rep's whole history).

``organization.rhythm_started_at`` is set by the first run of the due work. An
organisation whose rhythm already ran (it has cadences) gets its earliest person's arrival,
so an upgrade changes nothing for it: a person's own arrival bounds the catch-up anyway.

Revision ID: 0016_rhythmgaps
Revises: 0014_model_requests
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0016_rhythmgaps"
down_revision = "0015_privsec"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organization") as batch:
        batch.add_column(sa.Column("rhythm_started_at", UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE organization SET rhythm_started_at = ("
        " SELECT MIN(person.created_at) FROM person WHERE person.org_id = organization.id)"
        " WHERE EXISTS (SELECT 1 FROM cadence JOIN person ON cadence.owner_id = person.id"
        " WHERE person.org_id = organization.id)")
    op.create_index("ix_action_item_rep_updated", "action_item", ["rep_id", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_action_item_rep_updated", table_name="action_item")
    with op.batch_alter_table("organization") as batch:
        batch.drop_column("rhythm_started_at")
