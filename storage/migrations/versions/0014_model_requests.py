"""The language model's request log (issue 11): purpose, size, model, latency, outcome and
token counts of each request; its content only when the org turns that on.

Revision ID: 0014_model_requests
Revises: 0013_flat
Create Date: 2026-11-28 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0014_model_requests"
down_revision = "0013_flat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("api", sa.String(length=20), nullable=False),
        sa.Column("request_chars", sa.Integer(), nullable=False),
        sa.Column("response_chars", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("content", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_model_request_person_id_person"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_request")),
    )
    op.create_index(op.f("ix_model_request_at"), "model_request", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_model_request_at"), "model_request")
    op.drop_table("model_request")
