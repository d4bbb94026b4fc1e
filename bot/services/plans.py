"""A rep's side of an action plan: acknowledging it, and changing an action's status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.channels.who import Who
from bot.services.context import ServiceContext, person_of
from storage import conversations, rep_updates
from storage.models import ActionItem

ItemStatus = Literal["done", "blocked"]


@dataclass(frozen=True, slots=True)
class Acknowledged:
    first_name: str  # how to thank the rep


def acknowledge(ctx: ServiceContext, who: Who, session_id: int) -> Acknowledged | None:
    """The rep has read the plan of ``session_id``; None: not their plan."""
    with ctx.sessions.begin() as db:
        me = person_of(db, who)
        now = ctx.clock.now()
        if me is None or not rep_updates.acknowledge_plan(db, session_id, me.id, now):
            return None
        conversations.log(db, at=now, flow="sled", event="plan_acknowledged",
                          person_id=me.id, detail={"session_id": session_id})
        return Acknowledged(me.name.split()[0] if me.name else me.email)


@dataclass(frozen=True, slots=True)
class ItemChanged:
    description: str
    status: str


def set_item_status(ctx: ServiceContext, who: Who, item_id: int,
                    status: str) -> ItemChanged | None:
    """Mark one of the rep's own action items done or blocked; None: not theirs."""
    with ctx.sessions.begin() as db:
        me = person_of(db, who)
        now = ctx.clock.now()
        item: ActionItem | None = None
        if me is not None:
            item = rep_updates.set_item_status(db, item_id, me.id, status, now)
        if me is None or item is None:
            return None
        conversations.log(db, at=now, flow="-", event="action_item", person_id=me.id,
                          detail={"item": item_id, "status": status})
        return ItemChanged(item.description, item.status)
