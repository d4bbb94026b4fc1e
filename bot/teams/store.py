"""What the Teams surface keeps, each one short transaction: the tenants linked to the
organisation, the activities already handled (Teams retries a delivery it thinks we
missed), the conversation references for proactive messages, and Teams ids bound to
people."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.teams.parse import PLATFORM
from flows.messages import Message, message_to_json
from storage import events, people, replies, teams_conversations, tenancy
from storage.models import DEFAULT_ORG, Person

log = logging.getLogger("coach.teams.store")
BindStatus = Literal["known", "unknown", "conflict"]


@dataclass(frozen=True, slots=True)
class Chat:
    """A Teams conversation the bot may write to later: its reference, and whose
    personal chat it is (``user_key`` "" for a team or group chat)."""

    tenant: str
    conversation_id: str
    user_key: str
    scope: str
    reference: Mapping[str, Any]


@dataclass(slots=True)
class Behind:
    """Until when the speaker's earlier replies wait in the outbox, as the turn's claim
    found (None: none waits); this turn's replies then go behind them."""

    until: datetime | None = None


class TeamsStore:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.sessions, self.clock = sessions, clock

    def link_tenants(self, tenants: Sequence[str]) -> None:
        """TEAMS_TENANT_ID's tenants belong to the default organisation (once)."""
        for tenant in tenants:
            try:
                with self.sessions.begin() as db:
                    result = tenancy.link(db, DEFAULT_ORG, PLATFORM, tenant, self.clock.now())
            except IntegrityError:  # another process linked it at the same moment
                continue
            if result == "elsewhere":
                log.warning("Teams tenant %s belongs to another organisation", tenant)

    def org_of(self, tenant: str) -> int | None:
        with self.sessions() as db:
            return tenancy.org_of(db, PLATFORM, tenant)

    def arrive(self, tenant: str, activity_id: str, chat: Chat | None) -> bool:
        """An activity that runs no turn, in a transaction of its own: see :meth:`claim`."""
        with self.sessions.begin() as db:
            return self.claim(tenant, activity_id, chat, db.connection())

    def claim(self, tenant: str, activity_id: str, chat: Chat | None,
              conn: Connection) -> bool:
        """As an activity arrives, in the transaction ``conn`` (a turn's: the runner's
        claim): keep its conversation's reference (``chat``, when not known yet), and claim
        its id: True the first time the id is seen (the one delivery to act on)."""
        if chat is not None:
            self._remember(conn, chat)
        return not activity_id or events.claim(conn, PLATFORM, tenant, activity_id,
                                               self.clock.now())

    def claim_turn(self, user_key: str, behind: Behind, tenant: str, activity_id: str,
                   chat: Chat | None, conn: Connection) -> bool:
        """:meth:`claim` for a turn, which also looks (with the claim's own statement on
        PostgreSQL) whether the speaker's earlier replies still wait in the outbox
        (``behind``)."""
        if chat is not None:
            self._remember(conn, chat)
        if not activity_id:  # an activity without an id: nothing to claim, only look
            behind.until = replies.waiting_until(conn, PLATFORM, tenant, user_key)
            return True
        claimed, behind.until = replies.claim_behind(conn, PLATFORM, tenant, user_key,
                                                     activity_id, self.clock.now())
        return claimed

    def defer_replies(self, tenant: str, user_key: str, activity_id: str,
                      messages: Sequence[Message], not_before: datetime | None) -> bool:
        """Queue a turn's replies the Bot Connector did not take to the speaker's personal
        chat (see storage/replies.py); False when the speaker is bound to no person (the
        outbox reaches people by email)."""
        with self.sessions.begin() as db:
            person = people.by_platform_id(db, PLATFORM, tenant, user_key)
            if person is None:
                return False
            replies.defer(db.connection(), platform=PLATFORM, tenant=tenant,
                          user_key=user_key, email=person.email, delivery=activity_id,
                          messages=[message_to_json(m) for m in messages],
                          now=self.clock.now(), not_before=not_before)
            return True

    def remember_chat(self, chat: Chat) -> None:
        with self.sessions.begin() as db:
            self._remember(db.connection(), chat)

    def _remember(self, conn: Connection, chat: Chat) -> None:
        teams_conversations.remember(conn, tenant=chat.tenant,
                                     conversation_id=chat.conversation_id,
                                     user_key=chat.user_key, scope=chat.scope,
                                     reference=chat.reference, now=self.clock.now())

    def forget_chat(self, tenant: str, conversation_id: str) -> int:
        with self.sessions.begin() as db:
            return teams_conversations.forget(db.connection(), tenant=tenant,
                                              conversation_id=conversation_id)

    def personal_chat(self, tenant: str, email: str) -> dict[str, Any] | None:
        with self.sessions() as db:
            return teams_conversations.personal_of(db.connection(), tenant, email)

    def unbound_chats(self, tenant: str, org: int) -> list[tuple[str, dict[str, Any]]]:
        """The personal chats of users bound to nobody of ``org`` (user key, reference)."""
        with self.sessions() as db:
            return teams_conversations.unbound_personal(db.connection(), tenant, org)

    def bind(self, org: int, email: str, user_key: str) -> BindStatus:
        """Bind a Teams user (their Entra object id) to the person with this email, once:
        a person already bound to another Teams id stays bound to it."""
        with self.sessions.begin() as db:
            person: Person | None = people.by_email(db, email, org)
            if person is None:
                return "unknown"
            if person.teams_user_id not in (None, user_key):
                log.warning("person %s is bound to another Teams id", person.id)
                return "conflict"
            person.teams_user_id = user_key
            person.updated_at = self.clock.now()
            return "known"
