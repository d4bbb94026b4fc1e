"""How a platform tells who an unknown user is: each surface implements ``Directory``
(Slack: users.info and the profile's email, within the workspace's organisation), and
``Finder``: the other way round, someone the rhythm must reach whom the platform has not
shown us yet, by their email (Slack: users.lookupByEmail; Teams: the roster of the chats
the app is installed in)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from bot.channels.who import Who

BindingStatus = Literal["known", "unknown", "conflict", "outside"]


@dataclass(frozen=True, slots=True)
class Binding:
    """``known``: bound to a person (now or before); ``unknown``: no person has this
    email; ``conflict``: the person is bound to another account of this platform;
    ``outside``: the user's tenant belongs to no organisation of ours."""

    status: BindingStatus
    email: str = ""


class Directory(Protocol):
    async def bind(self, who: Who) -> Binding:
        """Bind ``who`` to the person with their platform email, when there is one."""
        ...

    def stranger(self, binding: Binding) -> str:
        """What a user we could not bind is told: why, and what to do (in the platform's
        own words: its workspace, its user ids)."""
        ...


class Finder(Protocol):
    async def find(self, tenant: str, email: str) -> bool:
        """Bind the person with ``email``, of the organisation ``tenant`` belongs to, to
        their account on this platform: True when they are bound and can be written to
        (now or before), False when the platform does not know them (yet)."""
        ...
