"""Teams user → person: by Entra object id (the people CSV's ``teams_user_id``, looked up
by the turn itself), else by the email the Teams roster gives for them (the connector's
conversation member API, what botbuilder called TeamsInfo.get_member), bound once.

Only ever among the people of the organisation the user's tenant is linked to: a user of
another tenant is "outside" and sees nothing but how to get in."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from microsoft_agents.activity import ConversationReference
from microsoft_agents.hosting.core import ChannelServiceAdapter, ConnectorClientBase, TurnContext

from bot.channels.database import Database
from bot.channels.directory import Binding
from bot.channels.who import Who
from bot.teams.connector import proactively
from bot.teams.store import TeamsStore
from bot.teams.text import TeamsText

log = logging.getLogger("coach.teams.identity")


class TeamsIdentity:
    def __init__(self, store: TeamsStore, database: Database) -> None:
        self.store, self.run = store, database.run

    async def bind(self, context: TurnContext, who: Who) -> Binding:
        org = await self.run(self.store.org_of, who.tenant)
        if org is None:
            return Binding("outside")
        email = await roster_email(context)
        if not email:
            return Binding("unknown")
        status = await self.run(self.store.bind, org, email, who.user_key)
        return Binding(status, email)


async def roster_email(context: TurnContext) -> str:
    """The speaker's email (or user principal name) from the conversation's roster."""
    activity = context.activity
    client = context.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
    conversation = activity.conversation.id if activity.conversation else ""
    user = activity.from_property.id if activity.from_property else ""
    if client is None or not conversation or not user:
        return ""
    try:
        member = await client.conversations.get_conversation_member(conversation, user)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.info("no roster entry for %s: %s", user, type(exc).__name__)
        return ""
    extra = member.model_extra or {}
    email = extra.get("email") or extra.get("userPrincipalName") or ""
    return str(email).strip().lower() if isinstance(email, str) else ""


class TeamsFinder:
    """The channel layer's Finder for Teams. Someone the rhythm must reach is found only
    where the app is installed for them (a personal chat's reference is stored): the
    roster of each such chat whose user is bound to nobody gives that user's email
    (through the stored reference, proactively; asked once per chat), and the user with
    the person's email is bound. Without such a chat they cannot be written to: their
    messages wait until they open the app."""

    def __init__(self, store: TeamsStore, database: Database,
                 adapter: ChannelServiceAdapter, app_id: str) -> None:
        self.store, self.run = store, database.run
        self.adapter, self.app_id = adapter, app_id
        self.emails: dict[tuple[str, str], str] = {}  # (tenant, user key) -> roster email

    async def find(self, tenant: str, email: str) -> bool:
        email = email.strip().lower()
        if await self.run(self.store.personal_chat, tenant, email) is not None:
            return True
        org = await self.run(self.store.org_of, tenant)
        if org is None:
            return False
        for user_key, reference in await self.run(self.store.unbound_chats, tenant, org):
            known = self.emails.get((tenant, user_key))
            if known is None:
                known = await self.roster_email_of(reference)
                self.emails[(tenant, user_key)] = known
            if known == email:
                await self.run(self.store.bind, org, email, user_key)
                break
        return await self.run(self.store.personal_chat, tenant, email) is not None

    async def roster_email_of(self, reference: dict[str, Any]) -> str:
        """The email of a stored personal chat's user, from its roster ("" when the
        connector will not say)."""
        found: list[str] = []

        async def read(context: TurnContext) -> None:
            found.append(await roster_email(context))

        try:
            await proactively(self.adapter, self.app_id,
                              ConversationReference.model_validate(reference), read)
        except Exception as exc:  # noqa: BLE001 - a lookup: the message waits, logged
            log.info("no roster for a stored chat: %s", type(exc).__name__)
        return found[0] if found else ""


@dataclass(frozen=True, slots=True)
class TeamsDirectory:
    """The channel layer's Directory for one Teams turn: binds with the turn's connector."""

    identity: TeamsIdentity
    context: TurnContext

    async def bind(self, who: Who) -> Binding:
        return await self.identity.bind(self.context, who)

    def stranger(self, binding: Binding) -> str:
        return stranger_text(binding)


def stranger_text(binding: Binding) -> str:
    if binding.status == "outside":
        return TeamsText.outside
    if binding.status == "conflict":
        return TeamsText.rebound.format(email=binding.email)
    return TeamsText.unknown.format(email=f" ({binding.email})" if binding.email else "")
