"""Organisations and the chat workspaces that belong to them. Never commits.

A request from a chat platform reaches the people of exactly one org: the org its
workspace (Slack team or enterprise, Teams tenant) is linked to. A workspace that is
not linked reaches nobody.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, cast

from sqlalchemy import Connection, ScalarSelect, Table, bindparam, select
from sqlalchemy.orm import Session

from storage.models import DEFAULT_ORG, OrgWorkspace

__all__ = ["DEFAULT_ORG", "Linked", "link", "org_of", "org_of_request", "workspaces_of"]

Linked = Literal["linked", "already", "elsewhere"]
_links = cast(Table, OrgWorkspace.__table__)
# Platforms whose people are reached through a linked workspace; any other platform
# (the console, keyed by email) works in the default org.
LINKED_PLATFORMS = ("slack", "teams")


def org_of_request() -> ScalarSelect[int]:
    """The org ids a request's workspace is linked to, as a subquery on the bound
    ``platform`` and ``tenant``: at most one row (unique per platform and workspace)."""
    return (select(_links.c.org_id)
            .where(_links.c.platform == bindparam("platform"),
                   _links.c.workspace_id == bindparam("tenant"))
            .scalar_subquery())


def _on(db: Connection | Session) -> Connection:
    return db if isinstance(db, Connection) else db.connection()


def org_of(db: Connection | Session, platform: str, workspace_id: str) -> int | None:
    """The org a workspace belongs to; None when nobody linked it. The console's
    platform has no workspaces: it is the default org's own terminal."""
    if platform not in LINKED_PLATFORMS:
        return DEFAULT_ORG
    if not workspace_id:
        return None
    found = _on(db).execute(select(_links.c.org_id).where(
        _links.c.platform == platform, _links.c.workspace_id == workspace_id)).scalar()
    return None if found is None else int(found)


def link(db: Connection | Session, org_id: int, platform: str, workspace_id: str,
         now: datetime) -> Linked:
    """Make ``workspace_id`` part of ``org_id``; a workspace linked to another org stays
    there (moving a workspace between orgs is a deliberate, manual act)."""
    current = org_of(db, platform, workspace_id)
    if current == org_id:
        return "already"
    if current is not None:
        return "elsewhere"
    _on(db).execute(_links.insert().values(org_id=org_id, platform=platform,
                                           workspace_id=workspace_id, linked_at=now))
    return "linked"


def workspaces_of(db: Connection | Session, org_id: int, platform: str) -> list[str]:
    return list(_on(db).execute(select(_links.c.workspace_id).where(
        _links.c.org_id == org_id, _links.c.platform == platform)
        .order_by(_links.c.id)).scalars())
