"""Slack's notifier for the outbox worker (bot/channels/outbox.py): one DM per row.

Each message carries its idempotency key in Slack message metadata. A row handed
out before (its sender died after Slack took the message, or a call timed out
after it arrived) is first looked for in the recipient's DM since then
(``conversations.history``) and only sent if it is not there: exactly once where
Slack lets us check, at least once where it does not (see docs/slack.md). A 429
that outlives the client's own retries is reported with its Retry-After. A message with a
picture (the digest's chart) is followed by the picture, uploaded into the same DM; a
resend checks for each of the two by itself.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.outbox import DeliveryFailed, LeasedMessage
from bot.slack import render
from bot.slack.clients import Clients, retry_after
from bot.slack.identity import Identity
from flows.messages import Image, Message

log = logging.getLogger("coach.slack.notifier")
CHANNEL = "slack"
METADATA_EVENT = "coach_outbox"  # Slack message metadata: {"key": <idempotency key>}
CLOCK_SKEW = timedelta(minutes=5)  # our clock against Slack's, when reading back history
HISTORY_PAGES = 5  # pages of 200 messages read back at most before a resend
RENDERED_KEPT = 256  # DMs kept rendered: a burst of due check-ins is one message many times


@functools.lru_cache(maxsize=RENDERED_KEPT)
def _rendered(message: Message, ack_session: int | None) -> tuple[str, list[render.Block]]:
    """A DM rendered once for every recipient of the same message (the blocks are only
    read: slack_sdk copies the list it is given)."""
    return render.dm(message, ack_session=ack_session)


def rendered(message: Message, ack_session: int | None) -> tuple[str, list[render.Block]]:
    try:
        return _rendered(message, ack_session)
    except TypeError:  # a message holding something unhashable: rendered for itself
        return render.dm(message, ack_session=ack_session)


class SlackNotifier:
    channel = CHANNEL

    def __init__(self, clients: Clients, identity: Identity) -> None:
        self.clients, self.identity = clients, identity

    async def send(self, row: LeasedMessage) -> None:
        """Send one row as a DM (unless an earlier try already arrived)."""
        try:
            await self._send(row)
        except SlackApiError as exc:
            status = exc.response.status_code
            wait = retry_after(exc.response.headers) if status == 429 else None
            raise DeliveryFailed(f"{status} {exc.response.get('error')}", wait) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:  # it may still have arrived
            raise DeliveryFailed(f"no answer from Slack ({type(exc).__name__})") from exc

    async def _send(self, row: LeasedMessage) -> None:
        client = await self.clients.for_tenant(row.tenant)
        if client is None:
            raise DeliveryFailed(f"no Slack installation for workspace {row.tenant!r}")
        user_id = row.recipient_id or await self.identity.user_id_for(client, row.target,
                                                                      row.tenant)
        if user_id is None:
            raise DeliveryFailed(f"no Slack user for {row.target}")
        image = row.message.image
        arrived = Arrived()
        if row.resend_since is not None:
            arrived = await self._arrived(client, user_id, row)
        if arrived.text and (image is None or arrived.image):
            log.info("slack delivery %s had arrived before: not sent again", row.id)
            return
        if not arrived.text:
            text, blocks = rendered(row.message, row.plan_session)
            await client.chat_postMessage(channel=user_id, text=text, blocks=blocks,
                                          metadata=outbox_metadata(row.key))
        if image is not None:
            await self._upload(client, user_id, row.key, image)

    async def _upload(self, client: AsyncWebClient, user_id: str, key: str,
                      image: Image) -> None:
        """The message's picture, shared in the DM right after its text (files_upload_v2:
        getUploadURLExternal, the upload, completeUploadExternal). Its file name carries
        the row's key, so a resend can see whether it arrived."""
        opened = await client.conversations_open(users=user_id)
        channel = str((opened.get("channel") or {}).get("id") or user_id)
        try:
            await client.files_upload_v2(channel=channel, content=image.png,
                                         filename=image_file_name(key), title=image.name,
                                         alt_txt=image.alt)
        except SlackRequestError as exc:  # the upload itself (step 2) was refused
            raise DeliveryFailed(f"the picture was not uploaded: {exc}") from exc

    async def _arrived(self, client: AsyncWebClient, user_id: str,
                       row: LeasedMessage) -> Arrived:
        """Are this row's message and its picture already in the recipient's DM (sent
        since the row was first handed out)? A workspace that will not let us look gets
        them again."""
        assert row.resend_since is not None
        oldest = f"{(row.resend_since - CLOCK_SKEW).timestamp():.6f}"
        wants_image = row.message.image is not None
        found = Arrived()
        try:
            opened = await client.conversations_open(users=user_id)
            channel = str((opened.get("channel") or {}).get("id") or user_id)
            cursor = None
            for _ in range(HISTORY_PAGES):
                page = await client.conversations_history(
                    channel=channel, oldest=oldest, include_all_metadata=True, limit=200,
                    cursor=cursor)
                for message in page.get("messages") or []:
                    found.text = found.text or carries_key(message, row.key)
                    found.image = found.image or carries_image(message, row.key)
                if found.text and (found.image or not wants_image):
                    return found
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return found
        except SlackApiError as exc:
            if exc.response.status_code != 200:
                raise  # 429 / 5xx: try again later, still checking first
            log.warning("cannot check the DM of %s before a resend (%s): sending again",
                        row.target, exc.response.get("error"))
        return found


@dataclass(slots=True)
class Arrived:
    """What of a row is already in the DM: its text (by metadata), its picture (by name)."""

    text: bool = False
    image: bool = False


def outbox_metadata(key: str) -> dict[str, Any]:
    """Slack message metadata naming the outbox row a message came from."""
    return {"event_type": METADATA_EVENT, "event_payload": {"key": key}}


def image_file_name(key: str) -> str:
    """The picture's file name in Slack: the row's key, made a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", key).strip("-") + ".png"


def carries_image(message: dict[str, Any], key: str) -> bool:
    name = image_file_name(key)
    return any(isinstance(f, dict) and f.get("name") == name for f in message.get("files") or [])


def carries_key(message: dict[str, Any], key: str) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return bool(metadata.get("event_type") == METADATA_EVENT and payload.get("key") == key)
