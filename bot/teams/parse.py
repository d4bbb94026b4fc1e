"""Teams activities → neutral input. Pure: an SDK ``Activity`` in, small frozen values out.

A message's text becomes ``Say`` (a command word typed without its slash, ``coach Alice``,
becomes ``/coach Alice``; ``<at>`` mentions are stripped, the bot's own entirely, anyone
else's down to their name). A card submit (``Action.Submit``: a message whose ``value``
carries our ``coach`` verb) becomes ``Choose`` or ``Submit`` with the step the card asked
about. Anything unreadable becomes ``None``, never an error.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from microsoft_agents.activity import Activity

from bot import command_table
from bot.channels.who import Who
from flows.messages import Choose, Input, Say, Submit

PLATFORM = "teams"
FIELD_PREFIX = "f."  # card input ids of form fields, apart from our own data keys
CHOICE_INPUT = "choice"  # the card input of a long list of choices
MAX_TEXT = 4000  # characters of typed text handed to a flow
TEAMS_COMMANDS = frozenset(c.name for c in command_table.COMMANDS
                           if "teams" in c.surfaces)
_MENTION = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]{0,200}>")


@dataclass(frozen=True, slots=True)
class CardAnswer:
    """What a submitted card said, to show it read-only afterwards."""

    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class Inbound:
    """One user message: who, what (``given``), the step a card answered (``expect_step``),
    and the card's own activity id (``card_id``) to update it once answered; or a rep's
    "got it" on an action plan (``acknowledged``)."""

    who: Who
    given: Input | None  # None: not a turn (an acknowledged plan)
    expect_step: str | None = None
    card_id: str = ""
    card: CardAnswer | None = None
    acknowledged: int | None = None  # the coaching session whose plan the rep has read


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def tenant_of(activity: Activity) -> str:
    """The user's Entra tenant: the conversation's, else the one in channelData."""
    conversation = activity.conversation
    tenant = _str(getattr(conversation, "tenant_id", None)) if conversation else ""
    return tenant or _str(_dict(_dict(activity.channel_data).get("tenant")).get("id"))


def who_of(activity: Activity) -> Who | None:
    """The speaker: their Entra object id (the people CSV's ``teams_user_id``), else the
    Teams user id (the Bot Framework Emulator has no Entra id)."""
    sender = activity.from_property
    if sender is None:
        return None
    user = _str(sender.aad_object_id) or _str(sender.id)
    return Who(PLATFORM, tenant_of(activity), user) if user else None


def inbound(activity: Activity) -> Inbound | None:
    """A user's message or card submit as neutral input; None for anything else."""
    if activity.type != "message":
        return None
    who = who_of(activity)
    if who is None:
        return None
    value = activity.value
    if isinstance(value, Mapping) and _str(value.get("coach")):
        return _card(who, value, _str(activity.reply_to_id))
    text = typed_text(activity)
    return Inbound(who, Say(command(text))) if text else None


def typed_text(activity: Activity) -> str:
    """The message text without mentions or markup: the bot's own mention removed, anyone
    else's kept as their name (``coach <at>Alice Adams</at>`` names the rep)."""
    raw = _str(activity.text)
    bot = _str(activity.recipient.id) if activity.recipient else ""
    for entity in activity.entities or ():
        if _str(getattr(entity, "type", None)) != "mention":
            continue
        mentioned = getattr(entity, "mentioned", None)
        mentioned_id = _str(_dict(mentioned).get("id")) or _str(getattr(mentioned, "id", None))
        tag = _str(getattr(entity, "text", None))
        if bot and mentioned_id == bot and tag:
            raw = raw.replace(tag, " ")
    text = _MENTION.sub(lambda m: m.group(1), raw)
    text = html.unescape(_TAG.sub(" ", text))
    return " ".join(text.split())[:MAX_TEXT]


def command(text: str) -> str:
    """``coach Alice`` → ``/coach Alice``: a command word works with or without its slash."""
    word, _, rest = text.partition(" ")
    name = word.lower()
    if name in TEAMS_COMMANDS:
        return f"/{name} {rest}".strip()
    return text


def _card(who: Who, value: Mapping[str, Any], card_id: str) -> Inbound | None:
    verb = _str(value.get("coach"))
    step = _str(value.get("step")) or None
    question = _str(value.get("question"))
    labels = _dict(value.get("labels"))
    session = value.get("session")
    if verb == "ack" and isinstance(session, int) and not isinstance(session, bool):
        return Inbound(who, None, None, card_id, CardAnswer(question, ""), session)
    if verb == "choose":
        choice = _str(value.get("choice")) or _str(value.get(CHOICE_INPUT))
        if not choice:
            return None
        label = _str(value.get("label")) or _str(labels.get(choice)) or choice
        return Inbound(who, Choose(choice), step, card_id, CardAnswer(question, label))
    if verb == "submit":
        values = {key[len(FIELD_PREFIX):]: _plain(raw) for key, raw in value.items()
                  if isinstance(key, str) and key.startswith(FIELD_PREFIX)
                  and _plain(raw) is not None}
        shown = "; ".join(f"{_str(labels.get(k)) or k}: {v}" for k, v in values.items() if v)
        return Inbound(who, Submit({k: v for k, v in values.items() if v is not None}), step,
                       card_id, CardAnswer(question, shown))
    return None


def _plain(raw: Any) -> str | None:
    """A card input's value as text (Teams sends strings; numbers and booleans are read
    too); nested values are not an input's."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        return raw.strip()[:MAX_TEXT]
    if isinstance(raw, int | float):
        return str(raw)
    return None
