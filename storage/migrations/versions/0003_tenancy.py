"""organisations: people and their platform ids are scoped to an org and its workspaces

Adds ``organization`` and ``org_workspace`` (which Slack team / Teams tenant belongs to
which org), ``person.org_id`` (existing people go to the default org, id 1) with email
and platform ids unique per org instead of globally, and ``slack_view`` (whose modal a
view id is).

Revision ID: 0003_tenancy
Revises: 0002_slack
Create Date: 2026-11-28 18:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0003_tenancy"
down_revision = "0002_slack"
branch_labels = None
depends_on = None

DEFAULT_ORG_NAME = "Default organisation"


def upgrade() -> None:
    organization = op.create_table(
        "organization",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization")),
    )
    op.bulk_insert(organization, [{"id": 1, "name": DEFAULT_ORG_NAME}])
    if op.get_bind().dialect.name == "postgresql":  # an explicit id leaves the sequence behind
        op.execute("SELECT setval(pg_get_serial_sequence('organization', 'id'), 1)")
    op.create_table(
        "org_workspace",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("linked_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organization.id"],
                                name=op.f("fk_org_workspace_org_id_organization")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_workspace")),
        sa.UniqueConstraint("platform", "workspace_id",
                            name=op.f("uq_org_workspace_platform_workspace_id")),
    )
    with op.batch_alter_table("org_workspace", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_org_workspace_org_id"), ["org_id"], unique=False)

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("org_id", sa.Integer(), nullable=False,
                                      server_default=sa.text("1")))
        batch_op.create_foreign_key(batch_op.f("fk_person_org_id_organization"),
                                    "organization", ["org_id"], ["id"])
        batch_op.drop_constraint("uq_person_email", type_="unique")
        batch_op.drop_constraint("uq_person_slack_user_id", type_="unique")
        batch_op.drop_constraint("uq_person_teams_user_id", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_person_org_id_email"),
                                          ["org_id", "email"])
        batch_op.create_unique_constraint(batch_op.f("uq_person_org_id_slack_user_id"),
                                          ["org_id", "slack_user_id"])
        batch_op.create_unique_constraint(batch_op.f("uq_person_org_id_teams_user_id"),
                                          ["org_id", "teams_user_id"])
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.alter_column("org_id", server_default=None)

    op.create_table(
        "slack_view",
        sa.Column("view_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("user_key", sa.String(length=128), nullable=False),
        sa.Column("opened_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("view_id", name=op.f("pk_slack_view")),
    )
    with op.batch_alter_table("slack_view", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_slack_view_opened_at"), ["opened_at"], unique=False)


def downgrade() -> None:
    """Back to global uniqueness: fails if two orgs share an email or a platform id."""
    op.drop_table("slack_view")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_constraint("uq_person_org_id_teams_user_id", type_="unique")
        batch_op.drop_constraint("uq_person_org_id_slack_user_id", type_="unique")
        batch_op.drop_constraint("uq_person_org_id_email", type_="unique")
        batch_op.create_unique_constraint("uq_person_email", ["email"])
        batch_op.create_unique_constraint("uq_person_slack_user_id", ["slack_user_id"])
        batch_op.create_unique_constraint("uq_person_teams_user_id", ["teams_user_id"])
        batch_op.drop_constraint("fk_person_org_id_organization", type_="foreignkey")
        batch_op.drop_column("org_id")
    op.drop_table("org_workspace")
    op.drop_table("organization")
