"""Slack user → person: by stored Slack id, else by the profile email (users.info).

Binding stores the Slack id on the person, and the profile's time zone when the
person has none (empty or UTC). Known ids are cached in memory (positives only).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.runner import Who
from storage import people
from storage.models import Person

log = logging.getLogger("coach.slack.identity")
R = TypeVar("R")
Run = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Profile:
    user_id: str
    email: str
    name: str
    timezone: str


@dataclass(frozen=True, slots=True)
class Resolved:
    status: Literal["known", "unknown", "conflict"]
    email: str = ""


class Identity:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, run: Run) -> None:
        self.sessions, self.clock, self.run = sessions, clock, run
        self.known: set[str] = set()

    async def resolve(self, client: AsyncWebClient, who: Who) -> Resolved:
        if who.user_key in self.known:
            return Resolved("known")
        found = await self.run(self._by_id, who.user_key)
        if found:
            self.known.add(who.user_key)
            return Resolved("known")
        profile = await profile_of(client, who.user_key)
        if profile is None or not profile.email:
            return Resolved("unknown")
        status = await self.run(self._bind, profile)
        if status == "known":
            self.known.add(who.user_key)
        return Resolved(status, profile.email)

    async def email_of(self, client: AsyncWebClient, user_id: str) -> Profile | None:
        """Who a mention names: the stored person first, else their Slack profile."""
        stored = await self.run(self._profile_by_id, user_id)
        return stored if stored is not None else await profile_of(client, user_id)

    async def user_id_for(self, client: AsyncWebClient, email: str) -> str | None:
        """The Slack id for a person's email: stored, else users.lookupByEmail (then stored)."""
        stored = await self.run(self._id_by_email, email)
        if stored:
            return str(stored)
        try:
            response = await client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            log.info("no Slack user for %s: %s", email, exc.response.get("error"))
            return None
        user = response.get("user") or {}
        user_id = str(user.get("id") or "")
        if user_id:
            tz = str(user.get("tz") or "")
            await self.run(self._bind, Profile(user_id, email, "", tz))
        return user_id or None

    def _by_id(self, user_id: str) -> bool:
        with self.sessions() as db:
            return people.by_platform_id(db, "slack", user_id) is not None

    def _profile_by_id(self, user_id: str) -> Profile | None:
        with self.sessions() as db:
            person = people.by_platform_id(db, "slack", user_id)
            return None if person is None else Profile(user_id, person.email, person.name,
                                                       person.timezone)

    def _id_by_email(self, email: str) -> str | None:
        with self.sessions() as db:
            person = people.by_email(db, email)
            return person.slack_user_id if person is not None else None

    def _bind(self, profile: Profile) -> Literal["known", "unknown", "conflict"]:
        with self.sessions.begin() as db:
            person: Person | None = people.by_email(db, profile.email)
            if person is None:
                return "unknown"
            if person.slack_user_id not in (None, profile.user_id):
                log.warning("person %s is bound to another Slack id", person.id)
                return "conflict"
            person.slack_user_id = profile.user_id
            if profile.timezone and person.timezone in ("", "UTC"):
                person.timezone = profile.timezone
            person.updated_at = self.clock.now()
            return "known"


async def profile_of(client: AsyncWebClient, user_id: str) -> Profile | None:
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError as exc:
        log.info("users.info %s failed: %s", user_id, exc.response.get("error"))
        return None
    user = response.get("user") or {}
    profile = user.get("profile") or {}
    return Profile(user_id, str(profile.get("email") or "").strip().lower(),
                   str(profile.get("real_name") or user.get("real_name") or ""),
                   str(user.get("tz") or ""))
