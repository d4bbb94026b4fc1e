"""Bolt listeners: parse, ack at once, and leave the work to the handlers.

The app runs with ``process_before_response=True``: each listener acks before it
returns, so Bolt answers Slack straight away (no polling for the ack), and the
work continues in a tracked background task. A view submission is the one
exception: it answers with the next view, after a local database turn.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.channels.who import Who
from bot.slack import parse
from bot.slack.handlers import SlackHandlers

log = logging.getLogger("coach.slack")


def register(bolt: AsyncApp, surface: SlackHandlers, *, oauth: bool) -> None:
    @bolt.command("/coach")
    async def coach_command(ack: Any, body: dict[str, Any], client: Any, respond: Any) -> None:
        cmd = parse.command(body)
        await ack()
        surface.spawn(cmd.who, client, surface.on_command(cmd, client, lambda text: respond(
            text=text, response_type="ephemeral", replace_original=False)))

    @bolt.action(re.compile(r"^coach\."))
    async def coach_action(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        action = parse.action(body)
        surface.spawn(action.who, client, surface.on_action(action, client))

    @bolt.view_submission(re.compile(r"^coach\.(step|form)$"))
    async def coach_submit(ack: Any, body: dict[str, Any], client: Any) -> None:
        await surface.on_submission(parse.submission(body), ack, client)

    @bolt.view_closed("coach.step")
    async def coach_closed(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        who = parse.who_of(body)
        surface.spawn(who, client, surface.on_closed(who, client, parse.view_id_of(body)))

    @bolt.event("app_home_opened")
    async def home_opened(body: dict[str, Any], event: dict[str, Any], client: Any) -> None:
        if event.get("tab", "home") in ("home", ""):
            who = Who("slack", parse.tenant_of(body), str(event.get("user", "")))
            surface.spawn(who, client, surface.on_home(who, client, parse.event_key(body)))

    @bolt.event("message")
    async def direct_message(body: dict[str, Any], event: dict[str, Any], client: Any) -> None:
        text = parse.dm_text(event)
        if text is None:
            return
        who = Who("slack", parse.tenant_of(body), str(event["user"]))
        surface.spawn(who, client, surface.on_dm(who, text, str(event["channel"]), client,
                                                 parse.event_key(body)))

    if oauth:
        bolt.enable_token_revocation_listeners()
    else:
        @bolt.event("app_uninstalled")
        @bolt.event("tokens_revoked")
        async def revoked(body: dict[str, Any]) -> None:
            log.warning("Slack %s for %s: remove SLACK_BOT_TOKEN",
                        body.get("event", {}).get("type"), parse.tenant_of(body))

    @bolt.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("Slack listener failed", exc_info=error)
