"""Privacy and security (issue 12): the audit log of administrative acts; when a person was
erased (``coach privacy delete``); the Slack OAuth
token columns widened for their encrypted form (a Fernet token is about 2.3 times longer
than the token it holds); indexes for the retention job.

Revision ID: 0015_privsec
Revises: 0014_model_requests
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0015_privsec"
down_revision = "0014_model_requests"
branch_labels = None
depends_on = None

# slack_sdk's columns that hold a secret, each String(200) in migration 0002.
SECRET_COLUMNS = {
    "slack_installations": ("bot_token", "bot_refresh_token", "user_token",
                            "user_refresh_token", "incoming_webhook_url"),
    "slack_bots": ("bot_token", "bot_refresh_token"),
}
SEALED_LENGTH = 1000


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organization.id"],
                                name=op.f("fk_audit_event_org_id_organization")),
        sa.ForeignKeyConstraint(["actor_id"], ["person.id"],
                                name=op.f("fk_audit_event_actor_id_person"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    op.create_index(op.f("ix_audit_event_at"), "audit_event", ["at"])
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("erased_at", UTCDateTime(timezone=True), nullable=True))
    for table, columns in SECRET_COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, type_=sa.String(SEALED_LENGTH),
                                   existing_type=sa.String(200), existing_nullable=True)
    text_kept = sa.text("blockers IS NOT NULL OR action_updates IS NOT NULL")
    op.create_index("ix_checkin_text_answered", "checkin", ["answered_at"],
                    postgresql_where=text_kept, sqlite_where=text_kept)
    op.create_index("ix_private_note_created_at", "private_note", ["created_at"])
    noted = sa.text("note IS NOT NULL")
    op.create_index("ix_action_item_noted", "action_item", ["updated_at"],
                    postgresql_where=noted, sqlite_where=noted)
    ended = sa.text("status = 'ended'")
    op.create_index("ix_conversation_ended", "conversation", ["updated_at"],
                    postgresql_where=ended, sqlite_where=ended)


def downgrade() -> None:
    op.drop_index("ix_conversation_ended", "conversation")
    op.drop_index("ix_action_item_noted", "action_item")
    op.drop_index("ix_private_note_created_at", "private_note")
    op.drop_index("ix_checkin_text_answered", "checkin")
    # Encrypted tokens do not fit String(200): the columns stay wide (harmless below).
    # Dropped in place (SQLite >= 3.35): a rebuilt table would lose the expression index
    # of the picker's search (migration 0013), which SQLite's reflection cannot read.
    with op.batch_alter_table("person", recreate="never") as batch:
        batch.drop_column("erased_at")
    op.drop_index(op.f("ix_audit_event_at"), "audit_event")
    op.drop_table("audit_event")
