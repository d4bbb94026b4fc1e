"""Where a message for someone else goes: the recipient's reachable channel, not the
sender's. A manager on one platform reaches a rep bound on another one there."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from bot.channels.who import Who
from storage import people, tenancy


@dataclass(frozen=True, slots=True)
class Route:
    channel: str  # the outbox kind: the platform whose notifier sends it
    tenant: str  # the recipient's tenant on that platform ("" when none is linked)


def route(conn: Connection, sender: Who, org_id: int, recipient: str) -> Route:
    """The recipient's channel: a platform they are bound to (the sender's own when it is
    one of them), else the sender's platform, where they may still be found by email (Slack
    looks them up and binds them; the console shows the message in the session)."""
    bound = people.bound_platforms(conn, recipient, org_id)
    if not bound or sender.platform in bound:
        return Route(sender.platform, sender.tenant)
    channel = bound[0]
    tenants = tenancy.workspaces_of(conn, org_id, channel)
    return Route(channel, tenants[0] if tenants else "")
