"""What happens after the ack: run the turn through the gateway, then show its messages
where they belong.

A coaching flow lives in a modal (views.open, then views.update per step); a flow that
runs in the DM (the check-in) and anything sent to someone else live in the DM. A model's
late answer (triage proposals, suggested questions, drafts) updates the person's open
modal (:meth:`SlackHandlers.show_late`), and goes to the DM only when that modal is gone.
The gateway (bot/channels/) runs turns one person at a time and decides nothing about
Slack; this module only chooses the Slack surface and calls the Web API.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.bootstrap import App
from bot.channels.directory import Binding
from bot.channels.gateway import Gateway, GatewayText
from bot.channels.limits import TurnLimited
from bot.channels.presentation import prompt_of, runs_in_dm
from bot.channels.who import Who
from bot.channels.work import BackgroundWork
from bot.services import plans, team
from bot.services.context import ServiceContext
from bot.services.home import home_of
from bot.services.team import NewReport
from bot.slack import home, render
from bot.slack.clients import Clients
from bot.slack.identity import Identity, SlackDirectory
from bot.slack.parse import Action, SlashCommand, Submission
from bot.slack.store import SlackStore
from bot.slack.text import SlackText
from bot.slack.workspaces import Workspaces
from flows.messages import Input, Message, Say
from storage.db import DatabaseBusy

log = logging.getLogger("coach.slack")
Reply = Callable[[str], Awaitable[Any]]
SUBMIT_WAIT = 1.5  # seconds a view submission waits for the same person's earlier work
GONE = ("not_found", "view_not_found")  # what views.update says of a modal that was closed


class SlackHandlers:
    def __init__(self, app: App, clients: Clients, gateway: Gateway) -> None:
        self.app, self.clients, self.gateway = app, clients, gateway
        self.run = gateway.database.run
        self.workspaces = Workspaces(app, clients, gateway.database)
        self.identity = Identity(app.sessions, app.clock, gateway.database, self.workspaces)
        self.store = SlackStore(app.engine, app.sessions, app.clock)
        self.services = ServiceContext(app.sessions, app.clock, app.playbook)
        self._nonce = itertools.count(1)

    @property
    def background(self) -> BackgroundWork:
        """The gateway's work after the ack (shutdown and tests wait for it)."""
        return self.gateway.background

    async def turn(self, who: Who, given: Input, expect_step: str | None = None, *,
                   client: AsyncWebClient | None = None) -> list[Message]:
        """One turn through the gateway; with ``client``, an unknown Slack user is bound
        by email first. Raises DatabaseBusy when nothing could be stored, TurnLimited when
        the user is over their rate limit: Slack answers those itself (a modal keeps the
        answer open, other work says so in the DM)."""
        directory = SlackDirectory(self.identity, client) if client is not None else None
        result = await self.gateway.turn(who, given, expect_step, directory=directory)
        if result.status == "busy":
            raise DatabaseBusy
        if result.status == "limited":
            raise TurnLimited
        return list(result.messages)

    def spawn(self, who: Who, client: AsyncWebClient, work: Coroutine[Any, Any, Any]) -> None:
        async def tell(text: str) -> None:
            await client.chat_postMessage(channel=who.user_key, text=text)

        self.gateway.spawn(who, work, tell)

    # Showing messages ---------------------------------------------------------------------

    async def post(self, client: AsyncWebClient, channel: str,
                   messages: Sequence[Message]) -> None:
        for message in messages:
            text, blocks = render.dm(message)
            await client.chat_postMessage(channel=channel, text=text, blocks=blocks)

    async def update_view(self, client: AsyncWebClient, view_id: str, view_hash: str,
                          view: dict[str, Any]) -> None:
        try:
            await client.views_update(view_id=view_id, hash=view_hash or None, view=view)
        except SlackApiError as exc:
            if exc.response.get("error") != "hash_conflict":
                raise
            log.info("view %s changed meanwhile (a double click): left as it is", view_id)

    async def show(self, client: AsyncWebClient, who: Who, replies: Sequence[Message], *,
                   trigger_id: str = "", view_id: str = "", view_hash: str = "",
                   nonce: int | None = None, reply: Reply | None = None) -> None:
        """A modal for a coaching flow, the DM for a check-in, plain text for the rest."""
        prompt = prompt_of(replies)
        nonce = next(self._nonce) if nonce is None else nonce
        if view_id:
            await self.update_view(client, view_id, view_hash, render.modal(replies, nonce=nonce))
        elif prompt is not None and not runs_in_dm(prompt.flow) and trigger_id:
            await self.open_view(client, who, trigger_id, render.modal(replies, nonce=nonce))
        elif prompt is None and reply is not None:
            text = render.slack_commands("\n\n".join(m.text for m in replies))
            await reply(render.escape(render.clip_escaped(text, 3000)))
        else:
            await self.post(client, who.user_key, replies)

    async def show_late(self, who: Who, messages: tuple[Message, ...]) -> bool:
        """A model's late answer in the person's open modal: views.update of the newest
        view we opened for them (no hash: the one Slack gives after a submission's
        ``response_action`` never reaches us; the person's lock orders our own updates).
        False, and it goes to the DM, for a flow that runs there, no modal we know of, or
        one Slack no longer has (closed)."""
        prompt = prompt_of(messages)
        if prompt is None or runs_in_dm(prompt.flow):
            return False
        view_id = await self.run(self.store.open_view_of, who)
        client = await self.clients.for_tenant(who.tenant) if view_id else None
        if not view_id or client is None:
            return False
        # A nonce no earlier view of this modal had: fresh block ids, no stale inputs.
        nonce = time.time_ns() // 1_000_000 % 1_000_000_000
        try:
            await client.views_update(view_id=view_id, view=render.modal(messages, nonce=nonce))
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error in GONE:
                await self.run(self.store.forget_view, view_id)
            log.info("late answer for %s not shown in view %s (%s): sent to the DM",
                     who.user_key, view_id, error)
            return False
        return True

    async def open_view(self, client: AsyncWebClient, who: Who, trigger_id: str,
                        view: dict[str, Any]) -> None:
        """views.open, remembering whose modal it is (see owns_view)."""
        response = await client.views_open(trigger_id=trigger_id, view=view)
        view_id = str((response.get("view") or {}).get("id") or "")
        if view_id:
            await self.run(self.store.remember_view, view_id, who)

    async def owns_view(self, a: Action) -> bool:
        """A button in a modal may only change the clicking user's own modal: Slack's
        payload does not say whose a view is, so we keep the owner of each one we open."""
        if await self.run(self.store.owns_view, a.view_id, a.who):
            return True
        log.warning("Slack user %s acted on view %s, not theirs: ignored", a.who.user_key,
                    a.view_id)
        return False

    async def known(self, client: AsyncWebClient, who: Who, reply: Reply) -> bool:
        """Bind an unknown Slack user by email first; a user we cannot bind gets told how."""
        directory = SlackDirectory(self.identity, client)
        binding = await directory.bind(who)
        if binding.status == "known":
            return True
        await reply(directory.stranger(binding))
        return False

    # Slash command ------------------------------------------------------------------------

    async def on_command(self, cmd: SlashCommand, client: AsyncWebClient, reply: Reply) -> None:
        if cmd.kind in ("team_usage", "team_add", "picker") and not await self.known(
                client, cmd.who, reply):
            return
        if cmd.kind == "team_usage":
            await reply(SlackText.team_usage)
            return
        if cmd.kind == "help":
            replies = await self.turn(cmd.who, Say("/help"), client=client)
            text = "\n\n".join(m.text for m in replies) + "\n" + SlackText.help_more
            await reply(render.escape(render.slack_commands(text)))
            return
        if cmd.kind == "team_add":
            await self._team_add(cmd, client, reply)
            return
        if cmd.kind == "picker":
            reps = await self.run(team.coachable, self.services, cmd.who, render.PICKER_MAX + 1)
            if not reps:
                await reply(SlackText.no_reports)
            elif len(reps) > render.PICKER_MAX:  # a large tree: search by name, no long lists
                await reply(SlackText.picker_search.format(count=render.PICKER_MAX))
            else:
                await self.open_view(client, cmd.who, cmd.trigger_id, render.picker(reps))
            return
        assert cmd.given is not None
        given = cmd.given
        if cmd.mention:
            profile = await self.identity.email_of(client, cmd.who, cmd.mention)
            if profile is not None and profile.email:
                given = Say(f"{given.text.split(' ', 1)[0]} {profile.email}")
        replies = await self.turn(cmd.who, given, client=client)
        await self.show(client, cmd.who, replies, trigger_id=cmd.trigger_id, reply=reply)

    async def _team_add(self, cmd: SlashCommand, client: AsyncWebClient, reply: Reply) -> None:
        if not self.app.playbook.managers_may_add_reports:
            await reply(SlackText.team_not_allowed)
            return
        assert cmd.mention is not None
        profile = await self.identity.email_of(client, cmd.who, cmd.mention)
        if profile is None or not profile.email:
            await reply(SlackText.team_no_email.format(who=f"<@{cmd.mention}>"))
            return
        org = await self.workspaces.org_of(cmd.who.tenant)
        if org is None or not await self.identity.in_org(profile, org):
            await reply(SlackText.team_outside.format(who=f"<@{cmd.mention}>"))
            return
        new = NewReport(profile.email, profile.name, profile.timezone, profile.user_id)
        added = await self.run(team.add_report, self.services, cmd.who, new)
        if added.result == "not_a_manager":
            await reply(SlackText.team_not_manager)
        else:
            await reply(SlackText.team_added[added.result].format(name=added.name))

    # Block actions ------------------------------------------------------------------------

    async def on_action(self, a: Action, client: AsyncWebClient) -> None:
        in_modal = a.in_view and a.view_type == "modal"
        if in_modal and a.kind in ("choose", "cmd", "pick") and not await self.owns_view(a):
            return
        if a.kind == "choose":
            assert a.given is not None
            replies = await self.turn(a.who, a.given, a.expect_step or a.meta.step,
                                      client=client)
            if in_modal:
                await self.update_view(client, a.view_id, a.view_hash, render.modal(
                    replies, nonce=a.meta.nonce + 1, channel=a.meta.channel))
                return
            if a.channel and a.message_ts:
                chose = SlackText.chose.format(label=a.label)
                await client.chat_update(channel=a.channel, ts=a.message_ts, text=a.label,
                                         blocks=render.answered(a.message_blocks, chose))
            await self.post(client, a.channel or a.who.user_key, replies)
        elif a.kind == "form":
            await self._open_form(a, client)
        elif a.kind in ("cmd", "pick"):
            given = a.given
            if a.kind == "pick":
                email = await self.run(team.email_of, self.services, a.who,
                                       a.data.get("person"))
                given = Say(f"/coach {email or ''}".strip())
            assert given is not None  # parse gives every command button its input
            replies = await self.turn(a.who, given, client=client)
            await self.show(client, a.who, replies, trigger_id=a.trigger_id,
                            view_id=a.view_id if in_modal else "",
                            view_hash=a.view_hash if in_modal else "")
        elif a.kind == "ack":
            thanked = await self.run(plans.acknowledge, self.services, a.who, a.data["session"])
            text = (SlackText.acknowledged.format(name=thanked.first_name) if thanked
                    else SlackText.not_yours)
            await client.chat_update(channel=a.channel, ts=a.message_ts, text=text,
                                     blocks=render.answered(a.message_blocks, text))
        elif a.kind == "item":
            status = a.data["status"]
            item = await self.run(plans.set_item_status, self.services, a.who, a.data["id"],
                                  status)
            template = SlackText.item_done if status == "done" else SlackText.item_blocked
            text = (template.format(description=item.description) if item is not None
                    else SlackText.item_missing)
            if a.view_type == "home":
                await self.publish_home(client, a.who)
            await client.chat_postMessage(channel=a.who.user_key, text=render.escape(text))
        else:
            log.info("unknown Slack action from %s", a.who.user_key)

    async def _open_form(self, a: Action, client: AsyncWebClient) -> None:
        message = a.data.get("message")
        if not isinstance(message, Message):
            message = prompt_of(await self.turn(a.who, Say("/resume")))
        if message is None or message.form is None:
            return
        view = render.modal([message], nonce=next(self._nonce), channel=a.channel or "dm")
        await self.open_view(client, a.who, a.trigger_id, view)

    # View submissions and closes ----------------------------------------------------------

    async def on_submission(self, s: Submission, ack: Callable[..., Awaitable[Any]],
                            client: AsyncWebClient) -> None:
        """Before the ack (a local database turn): answer with the next view, or errors."""
        lock = self.background.lock(s.who)
        held = False
        try:  # wait for this person's earlier work, but never past Slack's 3 seconds
            held = await asyncio.wait_for(lock.acquire(), timeout=SUBMIT_WAIT)
        except TimeoutError:
            log.warning("submission from %s went ahead of earlier work", s.who.user_key)
        try:
            replies = await self.turn(s.who, s.given, s.meta.step)
        except DatabaseBusy:
            await self._unsaved_submission(s, ack, client, SlackText.busy_submit)
            return
        except TurnLimited:
            await self._unsaved_submission(s, ack, client, GatewayText.limited)
            return
        finally:
            if held:
                lock.release()
        prompt = prompt_of(replies)
        retry = prompt is not None and (prompt.flow, prompt.step) == (s.meta.flow, s.meta.step)
        if s.meta.channel and not retry:
            await ack()
            channel = s.meta.channel if s.meta.channel != "dm" else s.who.user_key
            self.spawn(s.who, client, self.post(client, channel, replies))
            return
        nonce = s.meta.nonce if retry else s.meta.nonce + 1
        await ack(response_action="update",
                  view=render.modal(replies, nonce=nonce, channel=s.meta.channel))

    async def _unsaved_submission(self, s: Submission, ack: Callable[..., Awaitable[Any]],
                                  client: AsyncWebClient, text: str) -> None:
        """Nothing was stored (the database was busy, or the user is over their rate
        limit): keep the modal open with the answer in it (Slack keeps the values on
        ``errors``) and ask for another submit."""
        if s.given.values:
            field_id = next(iter(s.given.values))
            await ack(response_action="errors",
                      errors={render.input_block_id(s.meta.nonce, field_id): text})
            return
        await ack()
        await client.chat_postMessage(channel=s.who.user_key, text=text)

    async def on_closed(self, who: Who, client: AsyncWebClient, view_id: str = "") -> None:
        """A session modal closed mid-flow: pause it and offer a way back in the DM. The
        pause note (tagged with the flow it paused) names the rep and what picks it up.
        The view is forgotten: a late answer goes to the DM from now on."""
        if view_id:
            await self.run(self.store.forget_view, view_id)
        paused = [m for m in await self.turn(who, Say("/pause")) if m.flow is not None]
        if not paused:
            return  # nothing was in progress: nothing to say
        text = render.slack_commands(paused[0].text)
        blocks = [*render.sections(text), {
            "type": "actions", "block_id": "resume", "elements": [{
                "type": "button", "action_id": "coach.cmd.resume", "style": "primary",
                "text": render.plain(SlackText.continue_session, 75),
                "value": render.dumps({"t": "/resume"})}]}]
        await client.chat_postMessage(channel=who.user_key, text=render.escape(text),
                                      blocks=blocks)

    # Events -------------------------------------------------------------------------------

    async def first_delivery(self, key: tuple[str, str] | None) -> bool:
        """Whether this event is new (Slack retries a delivery it thinks we missed)."""
        return key is None or await self.run(self.store.claim_event, key)

    async def on_home(self, who: Who, client: AsyncWebClient, key: tuple[str, str] | None) -> None:
        if await self.first_delivery(key):
            await self.publish_home(client, who)

    async def publish_home(self, client: AsyncWebClient, who: Who) -> None:
        directory = SlackDirectory(self.identity, client)
        binding = await directory.bind(who)
        if binding.status != "known":
            view = home.stranger_view(directory.stranger(binding))
        else:
            data = await self.run(home_of, self.services, who)
            view = (home.view(data) if data is not None  # bound a moment ago, gone since:
                    else home.stranger_view(directory.stranger(Binding("unknown"))))
        await client.views_publish(user_id=who.user_key, view=view)

    async def on_dm(self, who: Who, text: str, channel: str, client: AsyncWebClient,
                    key: tuple[str, str] | None) -> None:
        if await self.first_delivery(key):
            await self.post(client, channel, await self.turn(who, Say(text), client=client))
