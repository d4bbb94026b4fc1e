"""Slack payloads → neutral input. Pure: dicts in, small frozen values out.

Copes with every field of the sample payloads present or missing (enterprise
installs, empty strings); anything it cannot read becomes ``None``, never an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bot import command_table
from bot.channels.who import Who
from bot.slack.render import ViewMeta
from flows.messages import Choose, Input, Message, Say, Submit, message_from_json

PLATFORM = "slack"
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
RUNNER_VERBS = command_table.SLACK_SUBCOMMANDS - {"help"}
CommandKind = Literal["picker", "help", "team_add", "team_usage", "coach", "runner"]
ActionKind = Literal["choose", "form", "ack", "cmd", "item", "pick", "unknown"]


@dataclass(frozen=True, slots=True)
class SlashCommand:
    who: Who
    kind: CommandKind
    given: Say | None = None
    mention: str | None = None  # a <@U…> the command names (rep to coach or to add)
    trigger_id: str = ""
    channel_id: str = ""


@dataclass(frozen=True, slots=True)
class Action:
    who: Who
    kind: ActionKind
    given: Input | None = None
    expect_step: str | None = None
    label: str = ""
    trigger_id: str = ""
    in_view: bool = False
    view_id: str = ""
    view_hash: str = ""
    view_type: str = ""
    meta: ViewMeta = field(default_factory=ViewMeta)
    channel: str = ""
    message_ts: str = ""
    message_blocks: tuple[dict[str, Any], ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Submission:
    who: Who
    given: Submit
    meta: ViewMeta
    view_id: str = ""


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _json(raw: Any) -> dict[str, Any]:
    try:
        value = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def tenant_of(body: Mapping[str, Any]) -> str:
    """The acting user's own workspace: the user's team when the payload names it
    (``user.team_id`` in interactions, ``event.user_team`` in events), else the team the
    request came from, else the enterprise (org-wide apps).

    The user's own team comes first because in a Slack Connect channel the request's team
    can be ours while the user belongs to another organisation: such a user must not reach
    our people (storage.tenancy scopes every lookup to the workspace named here).
    """
    team, user, enterprise, event = (_dict(body.get(k))
                                     for k in ("team", "user", "enterprise", "event"))
    return (_str(user.get("team_id")) or _str(event.get("user_team")) or _str(team.get("id"))
            or _str(body.get("team_id")) or _str(enterprise.get("id"))
            or _str(body.get("enterprise_id")))


def who_of(body: Mapping[str, Any]) -> Who:
    user = body.get("user")
    user_id = _str(_dict(user).get("id")) if isinstance(user, Mapping) else _str(user)
    return Who(PLATFORM, tenant_of(body), user_id or _str(body.get("user_id")))


def view_id_of(body: Mapping[str, Any]) -> str:
    """The id of the view a view_closed (or view_submission) payload is about; "" if none."""
    return _str(_dict(body.get("view")).get("id"))


def read_meta(raw: Any) -> ViewMeta:
    data = _json(raw)
    nonce = data.get("n")
    return ViewMeta(flow=data.get("f") if isinstance(data.get("f"), str) else None,
                    step=data.get("s") if isinstance(data.get("s"), str) else None,
                    nonce=nonce if isinstance(nonce, int) else 0,
                    channel=data.get("c") if isinstance(data.get("c"), str) else None)


# Slash commands ---------------------------------------------------------------------------


def command(body: Mapping[str, Any]) -> SlashCommand:
    """``/coach [text]``: the picker, help, team add, a runner command or a rep to coach."""
    who = Who(PLATFORM, tenant_of(body), _str(body.get("user_id")))
    extra: dict[str, Any] = {"trigger_id": _str(body.get("trigger_id")),
             "channel_id": _str(body.get("channel_id"))}
    text = " ".join(_str(body.get("text")).split())
    verb, _, rest = text.partition(" ")
    verb = verb.lower()
    found = MENTION.search(text)
    mention = found.group(1) if found else None
    if not text:
        return SlashCommand(who, "picker", **extra)
    if verb == "help":
        return SlashCommand(who, "help", **extra)
    if verb == "team":
        action = rest.split(" ", 1)[0].lower()
        if action == "add" and mention:
            return SlashCommand(who, "team_add", mention=mention, **extra)
        return SlashCommand(who, "team_usage", **extra)
    if verb in RUNNER_VERBS:
        ref = MENTION.sub("", rest).strip()
        return SlashCommand(who, "runner", Say(f"/{verb} {ref}".strip()), mention, **extra)
    ref = MENTION.sub("", text).strip()
    return SlashCommand(who, "coach", Say(f"/coach {ref}".strip()), mention, **extra)


# Block actions ----------------------------------------------------------------------------


def action(body: Mapping[str, Any]) -> Action:
    """The first action of a ``block_actions`` payload, from a modal, the Home tab or a DM."""
    actions = body.get("actions")
    first = _dict(actions[0]) if isinstance(actions, list) and actions else {}
    action_id = _str(first.get("action_id"))
    container = _dict(body.get("container"))
    view = _dict(body.get("view"))
    message = _dict(body.get("message"))
    channel = _dict(body.get("channel"))
    base: dict[str, Any] = dict(
        who=who_of(body), trigger_id=_str(body.get("trigger_id")),
        in_view=_str(container.get("type")) == "view"
        or (not container.get("type") and bool(view.get("id"))),
        view_id=_str(view.get("id")) or _str(container.get("view_id")),
        view_hash=_str(view.get("hash")), view_type=_str(view.get("type")),
        meta=read_meta(view.get("private_metadata")),
        channel=_str(channel.get("id")) or _str(container.get("channel_id")),
        message_ts=_str(container.get("message_ts")) or _str(message.get("ts")),
        message_blocks=tuple(b for b in message.get("blocks") or () if isinstance(b, dict)),
    )
    value = _json(first.get("value"))
    if action_id == "coach.pick":
        picked = _str(_dict(first.get("selected_option")).get("value"))
        return Action(kind="pick", data={"person": int(picked)} if _digits(picked) else {},
                      **base)
    if action_id.startswith("coach.choose."):
        return _choice(base, value, _str(_dict(first.get("text")).get("text")))
    if action_id.startswith("coach.select."):
        option = _dict(first.get("selected_option"))
        raw = _str(option.get("value"))
        step = _str(first.get("block_id")).split(".", 2)[-1] or None
        label = _str(_dict(option.get("text")).get("text"))
        if raw.startswith("c:"):
            return Action(kind="choose", given=Choose(raw[2:]), expect_step=step, label=label,
                          **base)
        if raw.startswith("i:") and _digits(raw[2:]):
            return Action(kind="choose", given=Say(str(int(raw[2:]) + 1)), expect_step=step,
                          label=label, **base)
    if action_id == "coach.form":
        form = value.get("m")
        message_json = message_from_json(form) if isinstance(form, dict) else None
        return Action(kind="form", expect_step=_form_step(value, message_json),
                      data={"message": message_json, "flow": value.get("f")},
                      **base)
    if action_id == "coach.ack" and isinstance(value.get("session"), int):
        return Action(kind="ack", data={"session": value["session"]},
                      **base)
    if action_id.startswith("coach.cmd") and isinstance(value.get("t"), str):
        return Action(kind="cmd", given=Say(value["t"]), **base)
    if action_id in ("coach.item.done", "coach.item.blocked") and isinstance(value.get("id"),
                                                                             int):
        return Action(kind="item", data={"id": value["id"], "status": action_id.split(".")[-1]},
                      **base)
    return Action(kind="unknown", **base)


def _digits(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also passes "²" and "①", which ``int`` refuses."""
    return text.isascii() and text.isdigit()


def _choice(base: dict[str, Any], value: Mapping[str, Any], label: str) -> Action:
    step = value.get("s") if isinstance(value.get("s"), str) else None
    if isinstance(value.get("c"), str):
        return Action(kind="choose", given=Choose(value["c"]), expect_step=step, label=label,
                      **base)
    if isinstance(value.get("i"), int):
        return Action(kind="choose", given=Say(str(value["i"] + 1)), expect_step=step,
                      label=label, **base)
    return Action(kind="unknown", **base)


def _form_step(value: Mapping[str, Any], message: Message | None) -> str | None:
    if message is not None:
        return message.step
    return value.get("s") if isinstance(value.get("s"), str) else None


# View submissions -------------------------------------------------------------------------


def submission(body: Mapping[str, Any]) -> Submission:
    view = _dict(body.get("view"))
    meta = read_meta(view.get("private_metadata"))
    values: dict[str, str] = {}
    for block_id, by_action in _dict(_dict(view.get("state")).get("values")).items():
        field_id = block_id.split(".", 1)[1] if "." in block_id else block_id
        for state in _dict(by_action).values():
            text = _input_value(_dict(state))
            if text is not None:
                values[field_id] = text
    return Submission(who_of(body), Submit(values), meta, _str(view.get("id")))


def _input_value(state: Mapping[str, Any]) -> str | None:
    for key in ("value", "selected_date", "selected_time"):
        if isinstance(state.get(key), str):
            return str(state[key])
    option = state.get("selected_option")
    if isinstance(option, Mapping) and isinstance(option.get("value"), str):
        return str(option["value"])
    return None


# Events -----------------------------------------------------------------------------------


def dm_text(event: Mapping[str, Any]) -> str | None:
    """A person's own new message in the app's DM; None for bots, edits and channels."""
    if event.get("type") != "message" or event.get("channel_type") not in ("im", None):
        return None
    if event.get("subtype") or event.get("bot_id") or event.get("bot_profile"):
        return None
    if not _str(event.get("user")) or not _str(event.get("channel")).startswith("D"):
        return None
    text = _str(event.get("text")).strip()
    return text or None


def event_key(body: Mapping[str, Any]) -> tuple[str, str] | None:
    """(tenant, event id) of an Events API envelope, for deduplication."""
    event_id = _str(body.get("event_id"))
    return (tenant_of(body), event_id) if event_id else None
