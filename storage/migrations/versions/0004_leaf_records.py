"""leaf outcomes as typed records; shared action items; escalation fix owner and review

- ``leaf_outcome``: what was agreed after each solution-chart leaf, in a session or in
  a review's rerun of the chart (the record's kind and its values).
- ``action_item.shared``: whether the rep sees the item. Existing rows: shared when the
  rep owns it and the session did not end on a private leaf.
- ``escalation.fix_owner`` (who should own the fix) and ``escalation.review_id``.

Revision ID: 0004_leaf_records
Revises: 0003_tenancy
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0004_leaf_records"
down_revision = "0003_tenancy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leaf_outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("leaf", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["coaching_session.id"],
                                name=op.f("fk_leaf_outcome_session_id_coaching_session"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["review_id"], ["review.id"],
                                name=op.f("fk_leaf_outcome_review_id_review"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaf_outcome")),
    )
    with op.batch_alter_table("leaf_outcome", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leaf_outcome_session_id"), ["session_id"],
                              unique=False)
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shared", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.execute(
        "UPDATE action_item SET shared = TRUE WHERE owner_id = rep_id AND session_id NOT IN "
        "(SELECT id FROM coaching_session WHERE leaf IN ('REFER_PERSONAL', 'JOB_FIT'))")
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fix_owner", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("review_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_escalation_review_id_review"), "review",
                                    ["review_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_escalation_review_id_review"),
                                 type_="foreignkey")
        batch_op.drop_column("review_id")
        batch_op.drop_column("fix_owner")
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.drop_column("shared")
    with op.batch_alter_table("leaf_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leaf_outcome_session_id"))
    op.drop_table("leaf_outcome")
