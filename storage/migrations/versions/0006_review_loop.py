"""Close the review loop: planned next sessions, repeated model runs, a later coaching review

- ``planned_session``: the next focus chosen when a review found the target met.
- ``model_run.round`` / ``session_stage.round``: a field training repeated is a new run
  whose stages do not overwrite the first run's.
- ``model_run.review_due``: a coaching run's Review planned for a later day.

Revision ID: 0006_review_loop
Revises: 0005_delivery
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0006_review_loop"
down_revision = "0005_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("model_run") as batch:
        batch.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("review_due", sa.Date(), nullable=True))
        batch.drop_constraint("uq_model_run_session_id_model", type_="unique")
        batch.create_unique_constraint("uq_model_run_session_id_model_round",
                                       ["session_id", "model", "round"])
    with op.batch_alter_table("session_stage") as batch:
        batch.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="1"))
        batch.drop_constraint("uq_session_stage_session_id_model_stage", type_="unique")
        batch.create_unique_constraint("uq_session_stage_session_id_model_stage_round",
                                       ["session_id", "model", "stage", "round"])
    op.create_table(
        "planned_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rep_id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=False),
        sa.Column("focus_area", sa.String(length=64), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["rep_id"], ["person.id"],
                                name=op.f("fk_planned_session_rep_id_person")),
        sa.ForeignKeyConstraint(["manager_id"], ["person.id"],
                                name=op.f("fk_planned_session_manager_id_person")),
        sa.ForeignKeyConstraint(["review_id"], ["review.id"],
                                name=op.f("fk_planned_session_review_id_review"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["session_id"], ["coaching_session.id"],
                                name=op.f("fk_planned_session_session_id_coaching_session"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planned_session")),
    )
    op.create_index(op.f("ix_planned_session_rep_id"), "planned_session", ["rep_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_planned_session_rep_id"), table_name="planned_session")
    op.drop_table("planned_session")
    with op.batch_alter_table("session_stage") as batch:
        batch.drop_constraint("uq_session_stage_session_id_model_stage_round", type_="unique")
        batch.create_unique_constraint("uq_session_stage_session_id_model_stage",
                                       ["session_id", "model", "stage"])
        batch.drop_column("round")
    with op.batch_alter_table("model_run") as batch:
        batch.drop_constraint("uq_model_run_session_id_model_round", type_="unique")
        batch.create_unique_constraint("uq_model_run_session_id_model", ["session_id", "model"])
        batch.drop_column("review_due")
        batch.drop_column("round")
