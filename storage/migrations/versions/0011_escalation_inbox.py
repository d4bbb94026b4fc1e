"""The escalation inbox: when an escalation was acknowledged and resolved, the
resolution note, and an audit trail of who acknowledged, resolved or reassigned it.

Revision ID: 0011_escalation_inbox
Revises: 0010_digest
Create Date: 2026-11-28 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0011_escalation_inbox"
down_revision = "0010_digest"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("escalation") as batch:
        batch.add_column(sa.Column("acknowledged_at", storage.models.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column("resolved_at", storage.models.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column("resolution", sa.Text(), nullable=True))
    op.create_table(
        "escalation_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("from_owner_id", sa.Integer(), nullable=True),
        sa.Column("to_owner_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalation.id"],
                                name=op.f("fk_escalation_event_escalation_id_escalation"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_id"], ["person.id"],
                                name=op.f("fk_escalation_event_actor_id_person")),
        sa.ForeignKeyConstraint(["from_owner_id"], ["person.id"],
                                name=op.f("fk_escalation_event_from_owner_id_person")),
        sa.ForeignKeyConstraint(["to_owner_id"], ["person.id"],
                                name=op.f("fk_escalation_event_to_owner_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_event")),
    )
    op.create_index(op.f("ix_escalation_event_escalation_id"), "escalation_event",
                    ["escalation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_escalation_event_escalation_id"), table_name="escalation_event")
    op.drop_table("escalation_event")
    with op.batch_alter_table("escalation") as batch:
        batch.drop_column("resolution")
        batch.drop_column("resolved_at")
        batch.drop_column("acknowledged_at")
