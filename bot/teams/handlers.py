"""What a Teams activity does once the SDK has authenticated it: run the turn through the
gateway, reply in the conversation, and keep the conversation references proactive
messages need.

Coaching happens only in a personal chat: in a team channel or a group chat the bot says so
and runs nothing (everyone there would see the session). Activities are handled before the
HTTP answer (Teams waits up to 15 seconds), one
person at a time and in order (the gateway's lock per person); only the read-only update
of an answered card is sent after the answer, in order per person, best effort. A retried delivery
(the same activity id) is answered and not handled again. The SDK's error handler is
replaced: a failure is logged in full and the user gets one short sentence.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core import TurnContext

from bot.channels.gateway import Gateway, GatewayText
from bot.channels.who import Who
from bot.services import plans
from bot.services.context import ServiceContext
from bot.teams import parse, render
from bot.teams.connector import kept_client, send_in_turn, update_in_turn
from bot.teams.identity import TeamsDirectory, TeamsIdentity
from bot.teams.notifier import failure, retry_after, retryable
from bot.teams.store import Behind, Chat, TeamsStore
from bot.teams.text import TeamsText
from flows.messages import Message
from storage.db import is_unavailable

log = logging.getLogger("coach.teams")
PERSONAL = "personal"
# Statuses whose transaction committed: the claim, and a new chat's reference, are stored.
COMMITTED = frozenset({"ok", "refused", "seen"})


class TeamsHandlers:
    def __init__(self, gateway: Gateway, store: TeamsStore, services: ServiceContext) -> None:
        self.gateway, self.store, self.services = gateway, store, services
        self.run = gateway.database.run
        self.identity = TeamsIdentity(store, gateway.database)
        self._known_chats: set[tuple[str, str, str]] = set()
        # each person's last queued card update: the next one is sent after it
        self._card_updates: dict[Who, asyncio.Task[None]] = {}

    async def on_message(self, context: TurnContext, _state: Any = None) -> None:
        activity = context.activity
        given = parse.inbound(activity)
        if given is None:
            return
        chat = self.new_chat(activity)
        activity_id = activity.id or ""
        if scope_of(activity) != PERSONAL or given.acknowledged is not None:
            if not await self.run(self.store.arrive, given.who.tenant, activity_id, chat):
                log.info("teams activity %s seen before: not handled again", activity_id)
                return
            self.known(chat)
            if scope_of(activity) != PERSONAL:  # a team channel or a group chat: no session
                await context.send_activity(TeamsText.personal_only)
                return
        async with self.gateway.background.lock(given.who):
            if given.acknowledged is not None:
                await self.acknowledge(context, given)
                return
            assert given.given is not None
            directory = TeamsDirectory(self.identity, context)
            # the activity's id (and a new chat's reference) claimed in the turn's own
            # transaction: one commit per activity; it also finds whether the speaker's
            # earlier replies still wait in the outbox
            behind = Behind()
            claim = functools.partial(self.store.claim_turn, given.who.user_key, behind,
                                      given.who.tenant, activity_id, chat)
            result = await self.gateway.turn(given.who, given.given, given.expect_step,
                                             directory=directory, claim=claim)
            if result.status in COMMITTED:
                self.known(chat)
            if result.status == "seen":
                log.info("teams activity %s seen before: not handled again", activity_id)
                return
            if result.status == "busy":
                await context.send_activity(GatewayText.busy)
                return
            if result.status == "limited":  # the card stays as it was: send it again later
                await self.reply(context, result.messages)
                return
            await self.reply(context, result.messages, given.who, activity_id, behind)
            if given.card is not None and given.card_id and result.status in ("ok", "refused"):
                shown = (render.answered(given.card) if result.status == "ok"
                         else render.closed(given.card))
                await self.update_later(context, given.who, given.card_id, shown)

    async def acknowledge(self, context: TurnContext, given: parse.Inbound) -> None:
        """A rep's "got it" on their action plan: recorded, the card says thanks."""
        assert given.acknowledged is not None and given.card is not None
        thanked = await self.run(plans.acknowledge, self.services, given.who,
                                 given.acknowledged)
        text = (TeamsText.acknowledged.format(name=thanked.first_name) if thanked
                else TeamsText.not_yours)
        if given.card_id:
            await self.update_card(context, given.card_id, render.answered(
                parse.CardAnswer(given.card.question, text)))
        else:
            await context.send_activity(text)

    async def reply(self, context: TurnContext, messages: Sequence[Message],
                    who: Who | None = None, activity_id: str = "",
                    behind: Behind | None = None) -> None:
        """The turn's messages in its chat. For a stored turn (``who``): the activities
        the Bot Connector would not take now (429, 5xx, no answer), and all of them while
        the speaker's earlier replies still wait (``behind``), go to the outbox, to the
        speaker's personal chat, in order and once, sent when the connector takes them
        (its Retry-After honoured, bot/teams/notifier.py)."""
        shown = render.shown(messages)
        if who is not None and behind is not None and behind.until is not None:
            await self._defer(who, activity_id, shown, None, behind.until)
            return
        for index, (activity, _) in enumerate(shown):
            try:
                await send_in_turn(context, Activity.model_validate(activity))
            except Exception as exc:
                if who is None or not retryable(exc):
                    raise
                log.warning("teams reply to %s not taken (%s): queued in the outbox",
                            activity_id, failure(exc))
                await self._defer(who, activity_id, shown[index:], exc, None)
                return

    async def _defer(self, who: Who, activity_id: str,
                     left: list[tuple[dict[str, Any], tuple[Message, ...]]],
                     exc: Exception | None, behind: datetime | None) -> None:
        """Queue the messages of the activities ``left``, not before the connector's
        Retry-After, nor before the earlier replies they go ``behind``."""
        wait = (retry_after(exc.headers)
                if isinstance(exc, aiohttp.ClientResponseError) else None)
        not_before = (self.services.clock.now() + timedelta(seconds=wait)
                      if wait is not None else behind)
        unsent = [message for _, group in left for message in group]
        if not await self.run(self.store.defer_replies, who.tenant, who.user_key,
                              activity_id, unsent, not_before):
            if exc is not None:
                raise exc  # nobody to queue them for: the error handler apologises
            return
        self.gateway.outbox.wake(self.gateway.background)

    async def update_later(self, context: TurnContext, who: Who, card_id: str,
                           content: render.Card) -> None:
        """Replace an answered card by its read-only form after the HTTP answer (the turn
        is stored and the next question sent: the update is cosmetic), after this
        person's earlier card updates; at once when the turn's connector client does not
        outlive the turn (an agentic request: the SDK closes its own client)."""
        if kept_client(context) is None:
            await self.update_card(context, card_id, content)
            return
        earlier = self._card_updates.get(who)
        task = self.gateway.background.spawn(
            self._update_after(earlier, context, card_id, content))
        self._card_updates[who] = task
        task.add_done_callback(lambda done: self._forget_update(who, done))

    async def _update_after(self, earlier: asyncio.Task[None] | None, context: TurnContext,
                            card_id: str, content: render.Card) -> None:
        if earlier is not None:
            await asyncio.wait([earlier])
        await self.update_card(context, card_id, content)

    def _forget_update(self, who: Who, done: asyncio.Task[None]) -> None:
        if self._card_updates.get(who) is done:
            del self._card_updates[who]

    async def card_updates_sent(self) -> None:
        """Wait until every card update queued so far is sent (or given up)."""
        while pending := list(self._card_updates.values()):
            await asyncio.wait(pending)

    async def update_card(self, context: TurnContext, card_id: str,
                          content: render.Card) -> None:
        """Replace an answered card by its read-only form (best effort: the answer is
        stored whatever happens to the old card)."""
        update = Activity.model_validate({**render.card_activity(content), "id": card_id})
        try:
            await update_in_turn(context, update)
        except Exception as exc:  # noqa: BLE001 - the turn is stored; the card stays as it was
            log.warning("could not update card %s: %s", card_id, type(exc).__name__)

    async def on_conversation_update(self, context: TurnContext, _state: Any = None) -> None:
        """The bot added to a chat or a team: keep the reference; say hello in a personal
        chat. Removed from it: forget the reference."""
        activity = context.activity
        bot = activity.recipient.id if activity.recipient else None
        added = [m.id for m in activity.members_added or ()]
        removed = [m.id for m in activity.members_removed or ()]
        if bot and bot in removed:
            await self.forget_chat(activity)
        elif bot and bot in added:
            await self.remember_chat(activity)
            if scope_of(activity) == PERSONAL:
                await context.send_activity(TeamsText.welcome)

    async def on_installation_update(self, context: TurnContext, _state: Any = None) -> None:
        action = (context.activity.action or "").lower()
        if action.startswith("remove"):
            await self.forget_chat(context.activity)
        elif action.startswith("add"):
            await self.remember_chat(context.activity)

    async def remember_chat(self, activity: Activity) -> None:
        """Store the conversation reference now (an install: maybe a new service URL)."""
        chat = self.new_chat(activity, force=True)
        if chat is not None:
            await self.run(self.store.remember_chat, chat)
            self.known(chat)

    def new_chat(self, activity: Activity, *, force: bool = False) -> Chat | None:
        """The conversation of this activity to remember: None when there is none, or this
        process stored it already (unless ``force``)."""
        conversation = activity.conversation.id if activity.conversation else ""
        if not conversation or not activity.service_url:
            return None
        tenant = parse.tenant_of(activity)
        if (tenant, conversation, activity.service_url) in self._known_chats and not force:
            return None
        who = parse.who_of(activity)
        scope = scope_of(activity)
        user = who.user_key if who is not None and scope == PERSONAL else ""
        reference = activity.get_conversation_reference().model_dump(
            mode="json", by_alias=True, exclude_none=True)
        reference.pop("activityId", None)  # a proactive message replies to nothing
        return Chat(tenant, conversation, user, scope, reference)

    def known(self, chat: Chat | None) -> None:
        if chat is not None:
            self._known_chats.add((chat.tenant, chat.conversation_id,
                                   str(chat.reference.get("serviceUrl", ""))))

    async def forget_chat(self, activity: Activity) -> None:
        conversation = activity.conversation.id if activity.conversation else ""
        tenant = parse.tenant_of(activity)
        self._known_chats = {k for k in self._known_chats if k[:2] != (tenant, conversation)}
        removed = await self.run(self.store.forget_chat, tenant, conversation)
        log.info("teams app removed from %s (%d reference)", conversation, removed)

    async def on_error(self, context: TurnContext, error: Exception) -> None:
        """Replaces the SDK's handler (which sends the exception text to the user)."""
        busy = is_unavailable(error)
        if busy:
            log.warning("database unavailable (%s): teams activity not stored",
                        type(error).__name__)
        else:
            log.error("teams turn failed", exc_info=error)
        try:
            await context.send_activity(GatewayText.busy if busy else GatewayText.crashed)
        except Exception as failed:  # noqa: BLE001 - the apology is best effort; logged
            log.warning("could not tell the user about the failure: %s",
                        type(failed).__name__)


def scope_of(activity: Activity) -> str:
    """personal, groupChat or team (a conversation's type; a team's channels are 'channel')."""
    conversation_type = (activity.conversation.conversation_type or "") if (
        activity.conversation) else ""
    if conversation_type == "channel":
        return "team"
    return conversation_type or PERSONAL
