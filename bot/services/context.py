"""What the services outside a turn work with: sessions, the clock and the playbook."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.who import Who
from bot.clock import Clock
from flows.playbook import Playbook
from storage import people
from storage.models import Person


@dataclass(frozen=True)
class ServiceContext:
    sessions: sessionmaker[Session]
    clock: Clock
    playbook: Playbook


def person_of(db: Session, who: Who) -> Person | None:
    """The person behind ``who``, in the organisation of their tenant."""
    return people.by_platform_id(db, who.platform, who.tenant, who.user_key)
