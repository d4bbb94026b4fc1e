"""Slack user → person: by stored Slack id, else by the profile email (users.info),
only ever among the people of the organisation the user's workspace belongs to.

A user whose workspace is not linked to an organisation (another company's workspace,
a Slack Connect guest) is "outside": never bound, never shown anything. Binding stores
the Slack id on the person, and the profile's time zone when the person has none
(empty or UTC). Known (workspace, user) pairs are cached in memory (positives only).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.database import Database
from bot.channels.directory import Binding
from bot.channels.who import Who
from bot.clock import Clock
from bot.slack.clients import Clients
from bot.slack.text import SlackText
from bot.slack.workspaces import Workspaces
from storage import people
from storage.models import Person

log = logging.getLogger("coach.slack.identity")


@dataclass(frozen=True, slots=True)
class Profile:
    user_id: str
    email: str
    name: str
    timezone: str
    team: str = ""  # the user's own workspace, as Slack says ("" when read from storage)


class Identity:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, database: Database,
                 workspaces: Workspaces) -> None:
        self.sessions, self.clock, self.run = sessions, clock, database.run
        self.workspaces = workspaces
        self.known: set[tuple[str, str]] = set()

    async def bind(self, client: AsyncWebClient, who: Who) -> Binding:
        key = (who.tenant, who.user_key)
        if key in self.known:
            return Binding("known")
        org = await self.workspaces.org_of(who.tenant)
        if org is None:
            return Binding("outside")
        found = await self.run(self._by_id, org, who.user_key)
        if found:
            self.known.add(key)
            return Binding("known")
        profile = await profile_of(client, who.user_key)
        if profile is None or not profile.email:
            return Binding("unknown")
        if not await self.in_org(profile, org):
            log.warning("Slack user %s of workspace %s is not in org %s", who.user_key,
                        profile.team, org)
            return Binding("outside")
        status = await self.run(self._bind, org, profile)
        if status == "known":
            self.known.add(key)
        return Binding(status, profile.email)

    async def in_org(self, profile: Profile, org: int) -> bool:
        """Whether the profile's own workspace belongs to ``org`` (a stored profile, with no
        team, was checked when it was bound)."""
        return not profile.team or await self.workspaces.org_of(profile.team) == org

    async def email_of(self, client: AsyncWebClient, who: Who, user_id: str) -> Profile | None:
        """Who a mention names: the stored person of the speaker's organisation first,
        else their Slack profile."""
        org = await self.workspaces.org_of(who.tenant)
        stored = None if org is None else await self.run(self._profile_by_id, org, user_id)
        return stored if stored is not None else await profile_of(client, user_id)

    async def user_id_for(self, client: AsyncWebClient, email: str, tenant: str) -> str | None:
        """The Slack id for a person's email, in the organisation of workspace ``tenant``:
        stored, else users.lookupByEmail (then stored, when that user is one of ours)."""
        org = await self.workspaces.org_of(tenant)
        if org is None:
            return None
        stored = await self.run(self._id_by_email, org, email)
        if stored:
            return stored
        try:
            response = await client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            log.info("no Slack user for %s: %s", email, exc.response.get("error"))
            return None
        user = response.get("user") or {}
        profile = Profile(str(user.get("id") or ""), email, "", str(user.get("tz") or ""),
                          str(user.get("team_id") or ""))
        if not profile.user_id or not await self.in_org(profile, org):
            return None
        await self.run(self._bind, org, profile)
        return profile.user_id

    def _by_id(self, org: int, user_id: str) -> bool:
        return self._person_by_id(org, user_id) is not None

    def _person_by_id(self, org: int, user_id: str) -> Person | None:
        with self.sessions() as db:
            return db.scalar(select(Person).where(Person.org_id == org,
                                                  Person.slack_user_id == user_id))

    def _profile_by_id(self, org: int, user_id: str) -> Profile | None:
        person = self._person_by_id(org, user_id)
        return None if person is None else Profile(user_id, person.email, person.name,
                                                   person.timezone)

    def _id_by_email(self, org: int, email: str) -> str | None:
        with self.sessions() as db:
            person = people.by_email(db, email, org)
            return person.slack_user_id if person is not None else None

    def _bind(self, org: int, profile: Profile) -> Literal["known", "unknown", "conflict"]:
        with self.sessions.begin() as db:
            person: Person | None = people.by_email(db, profile.email, org)
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


@dataclass(frozen=True, slots=True)
class SlackDirectory:
    """The channel layer's Directory for one Slack request: binds through ``identity``
    with the request's own Web API client."""

    identity: Identity
    client: AsyncWebClient

    async def bind(self, who: Who) -> Binding:
        return await self.identity.bind(self.client, who)

    def stranger(self, binding: Binding) -> str:
        return stranger_text(binding)


@dataclass(frozen=True, slots=True)
class SlackFinder:
    """The channel layer's Finder for Slack: someone the rhythm must reach who never used
    the app is looked up by email (users.lookupByEmail, scope ``users:read.email``) in
    the workspace, and bound when they are of its organisation (``Identity.user_id_for``)."""

    identity: Identity
    clients: Clients

    async def find(self, tenant: str, email: str) -> bool:
        client = await self.clients.for_tenant(tenant)
        if client is None:
            return False
        return await self.identity.user_id_for(client, email, tenant) is not None


def stranger_text(binding: Binding) -> str:
    """Why a Slack user we could not bind sees nothing, and what to do about it."""
    if binding.status == "outside":
        return SlackText.outside
    if binding.status == "conflict":
        return SlackText.rebound.format(email=binding.email)
    return SlackText.unknown.format(email=f" ({binding.email})" if binding.email else "")


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
                   str(user.get("tz") or ""), str(user.get("team_id") or ""))
