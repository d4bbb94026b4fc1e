"""Neutral messages → Block Kit: modal views and DM messages, always within the limits.

Pure. User text is escaped (``&``, ``<``, ``>``) and long text is split into
several sections or shortened, never rejected. What a button or select carries
back (the step it answers and the choice) is encoded here and decoded in
:mod:`bot.slack.parse`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot import command_table
from bot.channels.presentation import prompt_of, window_title
from bot.slack import limits
from bot.slack.limits import units
from bot.slack.text import SlackText
from flows.messages import Choice, Field, Form, Message, message_to_json

Block = dict[str, Any]
MODAL_CALLBACK = "coach.step"
FORM_CALLBACK = "coach.form"
MAX_BUTTONS = 5


@dataclass(frozen=True, slots=True)
class ViewMeta:
    """What a modal remembers in ``private_metadata``: the step it shows and where it lives."""

    flow: str | None = None
    step: str | None = None
    nonce: int = 0
    channel: str | None = None  # set when the modal fills in a form of a DM message

    def dump(self) -> str:
        raw = {"f": self.flow, "s": self.step, "n": self.nonce, "c": self.channel}
        return dumps({k: v for k, v in raw.items() if v is not None})


COMMANDS = re.compile(r"(?<![\w/])/(" + "|".join(sorted(command_table.SLACK_SUBCOMMANDS))
                      + r")\b")


def slack_commands(text: str) -> str:
    """The flows name commands as on the terminal (``/resume``); in Slack they are
    subcommands of the one slash command (``/coach resume``)."""
    return COMMANDS.sub(r"/coach \1", text)


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` UTF-16 units, with an ellipsis when cut."""
    if units(text) <= limit:
        return text
    out, size = [], 0
    for ch in text:
        size += units(ch)
        if size > limit - 1:
            break
        out.append(ch)
    return "".join(out).rstrip() + "…"


def clip_escaped(text: str, limit: int) -> str:
    """``text`` cut so that, once escaped, it takes at most ``limit`` units."""
    if units(escape(text)) <= limit - 1:  # fits whole (the usual case): no walk by character
        return text
    size = 0
    for i, ch in enumerate(text):
        size += units(escape(ch))
        if size > limit - 1:
            return text[:i].rstrip() + "…"
    return text


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text or " ", limit), "emoji": True}


def split_escaped(raw: str, limit: int) -> list[str]:
    """Escape ``raw`` and cut it into pieces of at most ``limit`` units, at line ends
    where possible and never inside an escape sequence."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in raw.split("\n"):
        part = escape(line) + "\n"
        if size + units(part) <= limit:
            current.append(part)
            size += units(part)
            continue
        if current:
            pieces.append("".join(current))
        *whole, rest = _hard_split(part, limit)
        pieces += whole
        current, size = [rest], units(rest)
    if current:
        pieces.append("".join(current))
    return [p.rstrip("\n") for p in pieces if p.strip()]


def _hard_split(escaped: str, limit: int) -> list[str]:
    """A line longer than ``limit``: cut at spaces when near, never inside "&amp;"."""
    pieces: list[str] = []
    start, end = 0, len(escaped)
    while start < end:
        size, i = 0, start
        while i < end and size + units(escaped[i]) <= limit:
            size += units(escaped[i])
            i += 1
        if i < end:
            amp = escaped.rfind("&", max(start, i - 4), i)
            if amp > start and ";" not in escaped[amp:i]:
                i = amp
            space = escaped.rfind(" ", max(start, i - 200), i)
            if space > start:
                i = space + 1
        pieces.append(escaped[start:i])
        start = i
    return pieces or [""]


def sections(raw: str) -> list[Block]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": piece}}
            for piece in split_escaped(raw, limits.SECTION_TEXT)]


# Choices ----------------------------------------------------------------------------------


def choice_value(step: str | None, index: int, choice: Choice) -> str:
    value = dumps({"s": step, "c": choice.id})
    return value if units(value) <= limits.BUTTON_VALUE else dumps({"s": step, "i": index})


def option_value(index: int, choice: Choice) -> str:
    value = "c:" + choice.id
    return value if units(value) <= limits.OPTION_VALUE else f"i:{index}"


def choice_blocks(message: Message) -> list[Block]:
    choices = message.choices
    step = message.step or ""
    if len(choices) <= MAX_BUTTONS and all(units(c.label) <= limits.BUTTON_TEXT
                                           for c in choices):
        return [{"type": "actions", "block_id": clip(f"choose.{step}", limits.ID),
                 "elements": [{"type": "button", "action_id": f"coach.choose.{i}",
                               "text": plain(c.label, limits.BUTTON_TEXT),
                               "value": choice_value(message.step, i, c)}
                              for i, c in enumerate(choices)]}]
    blocks: list[Block] = []
    for k in range(0, len(choices), limits.OPTIONS):
        chunk = choices[k:k + limits.OPTIONS]
        blocks.append({"type": "actions", "block_id": clip(f"select.{k}.{step}", limits.ID),
                       "elements": [{
                           "type": "static_select", "action_id": f"coach.select.{k}",
                           "placeholder": plain(SlackText.pick, limits.PLACEHOLDER),
                           "options": [{"text": plain(c.label, limits.OPTION_TEXT),
                                        "value": option_value(k + i, c)}
                                       for i, c in enumerate(chunk)]}]})
    return blocks


# Forms ------------------------------------------------------------------------------------


def input_blocks(form: Form, nonce: int) -> list[Block]:
    return [_input(f, nonce) for f in form.fields[:limits.VIEW_BLOCKS - 10]]


def _input(f: Field, nonce: int) -> Block:
    element: dict[str, Any]
    if f.kind == "date":
        element = {"type": "datepicker"}
    elif f.kind in ("number", "integer"):
        element = {"type": "number_input", "is_decimal_allowed": f.kind == "number"}
    elif f.kind == "choice" and f.options:
        element = {"type": "static_select",
                   "placeholder": plain(SlackText.pick, limits.PLACEHOLDER),
                   "options": [_option(o) for o in f.options[:limits.OPTIONS]]}
    else:
        element = {"type": "plain_text_input", "multiline": f.kind == "long_text"}
    element.update(_initial(f))
    element["action_id"] = clip(f.id, limits.ID)
    block: Block = {"type": "input", "block_id": input_block_id(nonce, f.id),
                    "label": plain(f.label, limits.LABEL), "optional": not f.required,
                    "element": element}
    if f.hint:
        block["hint"] = plain(f.hint, limits.HINT)
    return block


def _option(choice: Choice) -> dict[str, Any]:
    return {"text": plain(choice.label, limits.OPTION_TEXT),
            "value": clip(choice.id, limits.OPTION_VALUE)}


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PLAIN_NUMBER = re.compile(r"^-?\d{1,15}(\.\d{1,10})?$")


def _initial(f: Field) -> dict[str, Any]:
    """The field's earlier answer as the element's initial value, in the shape each
    element takes; a value the element cannot show (a date not yet read) is left out."""
    if not f.value:
        return {}
    if f.kind == "date":
        return {"initial_date": f.value} if _ISO_DATE.match(f.value) else {}
    if f.kind in ("number", "integer"):
        whole = f.kind == "integer" and "." in f.value
        return {"initial_value": f.value} if _PLAIN_NUMBER.match(f.value) and not whole else {}
    if f.kind == "choice":
        chosen = next((o for o in f.options[:limits.OPTIONS] if o.id == f.value), None)
        return {"initial_option": _option(chosen)} if chosen else {}
    return {"initial_value": clip(f.value, limits.TEXT_INPUT)}


def form_button(message: Message) -> Block:
    """In a DM a form opens in a modal: the button carries the form when it fits."""
    assert message.form is not None
    slim = replace(message, text=clip(message.text, 300), choices=(), to=None, image=None)
    value = dumps({"m": message_to_json(slim)})
    if units(value) > limits.BUTTON_VALUE:
        value = dumps({"s": message.step, "f": message.flow, "r": 1})
    return {"type": "actions", "block_id": clip(f"form.{message.step}", limits.ID),
            "elements": [{"type": "button", "action_id": "coach.form", "style": "primary",
                          "text": plain(SlackText.fill_in, limits.BUTTON_TEXT), "value": value}]}


# Modals -----------------------------------------------------------------------------------


def _text_blocks(message: Message) -> list[Block]:
    blocks = sections(slack_commands(message.text))
    notes = []  # the chart's result names its leaf in the text, by label: no id note here
    if message.private:
        notes.append(SlackText.private)
    if notes:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": escape(n)} for n in notes]})
    return blocks


def _fit(texts: list[Block], controls: list[Block], limit: int) -> list[Block]:
    """Keep the controls whole; drop the earliest text when the blocks do not fit."""
    room = limit - len(controls)
    if len(texts) > room:
        notice = {"type": "context", "elements": [{"type": "mrkdwn", "text": SlackText.shortened}]}
        texts = [notice, *texts[len(texts) - room + 1:]]
    return texts + controls


def input_block_id(nonce: int, field_id: str) -> str:
    """The block id of a form field's input in the modal shown with ``nonce``."""
    return clip(f"{nonce}.{field_id}", limits.ID)


def modal(messages: Sequence[Message], *, nonce: int = 0, channel: str | None = None,
          title: str | None = None) -> dict[str, Any]:
    """One turn's messages as a modal: the text, then the prompt's buttons or inputs."""
    prompt = prompt_of(messages)
    texts: list[Block] = []
    for message in messages:
        if texts:
            texts.append({"type": "divider"})
        texts += _text_blocks(message)
    if not texts:
        texts = sections(SlackText.nothing)
    controls: list[Block] = []
    if prompt is not None and prompt.form is not None:
        controls = input_blocks(prompt.form, nonce)
    elif prompt is not None:
        controls = choice_blocks(prompt)
    flow = prompt.flow if prompt else next((m.flow for m in messages if m.flow), None)
    view: dict[str, Any] = {
        "type": "modal", "callback_id": FORM_CALLBACK if channel else MODAL_CALLBACK,
        "title": plain(title or window_title(flow) or SlackText.app_name, limits.MODAL_TITLE),
        "close": plain(SlackText.later if prompt else SlackText.close, limits.MODAL_TITLE),
        "notify_on_close": prompt is not None and channel is None,
        "private_metadata": ViewMeta(prompt.flow if prompt else None,
                                     prompt.step if prompt else None, nonce, channel).dump(),
        "blocks": _fit(texts, controls, limits.VIEW_BLOCKS),
    }
    if prompt is not None and prompt.form is not None:
        view["submit"] = plain(SlackText.next, limits.MODAL_TITLE)
    return view


def notice(text: str, title: str | None = None) -> dict[str, Any]:
    return modal([Message(text)], title=title)


# DM messages ------------------------------------------------------------------------------


def dm(message: Message, *, ack_session: int | None = None) -> tuple[str, list[Block]]:
    """One message for a DM: (notification text, blocks)."""
    raw = clip_escaped(message.text, limits.MESSAGE_CHARS - 1500)
    controls: list[Block] = []
    if message.form is not None:
        controls = [form_button(message)]
    elif message.choices:
        controls = choice_blocks(message)
    if ack_session is not None:
        controls.append({"type": "actions", "block_id": "ack", "elements": [{
            "type": "button", "action_id": "coach.ack", "style": "primary",
            "text": plain(SlackText.acknowledge, limits.BUTTON_TEXT),
            "value": dumps({"session": ack_session})}]})
    blocks = _fit(_text_blocks(replace(message, text=raw)), controls, limits.MESSAGE_BLOCKS)
    fallback = escape(clip_escaped(slack_commands(message.text), limits.FALLBACK_TEXT))
    return fallback, blocks


def answered(blocks: Sequence[Block], note: str) -> list[Block]:
    """A DM message after its button was used: controls replaced by what was chosen."""
    kept = [b for b in blocks if b.get("type") != "actions"][:limits.MESSAGE_BLOCKS - 1]
    return [*kept, {"type": "context", "elements": [
        {"type": "mrkdwn", "text": escape(clip(note, limits.SECTION_TEXT - 100))}]}]


PICKER_MAX = 2 * limits.OPTIONS  # more people than this: /coach <name> searches instead


def picker(reps: Sequence[tuple[int, str]]) -> dict[str, Any]:
    """``/coach`` alone: the manager's reports to pick from (selects of 100 at most)."""
    blocks: list[Block] = [*sections(SlackText.picker)]
    for k in range(0, min(len(reps), PICKER_MAX), limits.OPTIONS):
        blocks.append({"type": "actions", "block_id": f"pick.{k}", "elements": [{
            "type": "static_select", "action_id": "coach.pick",
            "placeholder": plain(SlackText.pick, limits.PLACEHOLDER),
            "options": [{"text": plain(name, limits.OPTION_TEXT), "value": str(pid)}
                        for pid, name in reps[k:k + limits.OPTIONS]]}]})
    return {"type": "modal", "callback_id": "coach.picker",
            "title": plain(SlackText.picker_title, limits.MODAL_TITLE),
            "close": plain(SlackText.close, limits.MODAL_TITLE), "blocks": blocks}
