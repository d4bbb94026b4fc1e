"""A manager adds a direct report (when the playbook allows it)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from storage import people
from storage.models import Person

Added = Literal["added", "attached", "already", "taken", "not_a_rep"]


def add_report(db: Session, manager: Person, *, email: str, name: str, timezone: str,
               platform: str, user_id: str | None,
               now: datetime) -> tuple[Added, Person | None]:
    """Create the rep under ``manager``, or attach an existing rep who has no manager;
    either way bound to ``user_id`` on ``platform`` unless bound there already."""
    email = email.strip().lower()
    person = people.by_email(db, email, manager.org_id)
    if person is None:
        person = Person(org_id=manager.org_id, email=email, name=name or email, role="rep",
                        manager_id=manager.id, timezone=timezone or "UTC",
                        active=True, created_at=now, updated_at=now)
        people.bind_if_unbound(person, platform, user_id)
        db.add(person)
        db.flush()
        return "added", person
    if person.manager_id == manager.id:
        return "already", person
    if person.manager_id is not None:
        return "taken", person
    if person.role != "rep" or person.id == manager.id:
        return "not_a_rep", person
    person.manager_id, person.updated_at = manager.id, now
    people.bind_if_unbound(person, platform, user_id)
    return "attached", person
