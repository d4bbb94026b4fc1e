"""A manager's team: whom they may coach (the picker), and adding a direct report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.channels.who import Who
from bot.services.context import ServiceContext, person_of
from storage import audit, conversations, people, team
from storage.models import Person
from storage.team import Added


@dataclass(frozen=True, slots=True)
class NewReport:
    """Someone to add, as the manager's platform knows them."""

    email: str
    name: str
    timezone: str
    user_id: str  # their id on the manager's platform, bound at once


@dataclass(frozen=True, slots=True)
class ReportAdded:
    result: Added | Literal["not_a_manager"]
    name: str = ""


def coachable(ctx: ServiceContext, who: Who, at_most: int) -> list[tuple[int, str]]:
    """(id, name) of the first ``at_most`` people this person may coach, by name (more
    than a picker shows: the caller asks for a name instead)."""
    with ctx.sessions() as db:
        me = person_of(db, who)
        if me is None:
            return []
        return [(p.id, p.name)
                for p in people.coachable(db.connection(), me.id, me.role, at_most)]


def email_of(ctx: ServiceContext, who: Who, person_id: object) -> str | None:
    """The email of someone picked by id (the picker's choice), only when ``who`` may coach
    them: an id in a crafted payload tells nothing about anyone else (another
    organisation's people included)."""
    if not isinstance(person_id, int):
        return None
    with ctx.sessions() as db:
        me = person_of(db, who)
        person = db.get(Person, person_id)
        if me is None or person is None or not people.may_coach(
                db.connection(), me.id, me.role, person.id):
            return None
        return person.email


def add_report(ctx: ServiceContext, who: Who, new: NewReport) -> ReportAdded:
    with ctx.sessions.begin() as db:
        me = person_of(db, who)
        if me is None or me.role not in people.COACHING_ROLES:
            return ReportAdded("not_a_manager")
        now = ctx.clock.now()
        result, person = team.add_report(
            db, me, email=new.email, name=new.name, timezone=new.timezone,
            platform=who.platform, user_id=new.user_id, now=now)
        conversations.log(db, at=now, flow="-", event="team_add", person_id=me.id,
                          detail={"result": result, "email": new.email})
        if person is not None and result in ("added", "attached"):
            audit.record(db, at=now, actor=audit.Actor.person(me.id), action="person.add",
                         subject=f"person:{person.id}", org_id=me.org_id,
                         detail={"result": result, "platform": who.platform})
        return ReportAdded(result, person.name if person is not None else new.email)
