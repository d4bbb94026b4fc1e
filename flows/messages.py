"""Neutral conversation types shared by every flow and every platform adapter.

A flow reads an :data:`Input` and answers with :class:`Message` values; adapters
turn those into Block Kit, Adaptive Cards or console lines. Nothing here knows
about a platform.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

FieldKind = Literal["text", "long_text", "date", "number", "integer", "choice"]


@dataclass(frozen=True, slots=True)
class Choice:
    """One button or option: a stable id and the label people see; ``also`` are other
    words that name it when typed (a rep's name or email for the "rep" owner)."""

    id: str
    label: str
    also: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Field:
    """One input of a form; ``value`` is the answer shown in it already (after /back,
    or when a form comes back to be fixed), empty for a blank field."""

    id: str
    label: str
    kind: FieldKind = "text"
    required: bool = True
    options: tuple[Choice, ...] = ()
    hint: str = ""
    value: str = ""


@dataclass(frozen=True, slots=True)
class Form:
    """A set of fields submitted together."""

    id: str
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class Image:
    """A picture shown with a message where the platform shows pictures (Slack); the text
    says everything it shows, and ``alt`` says it in a sentence."""

    png: bytes
    alt: str
    name: str = "image.png"


@dataclass(frozen=True, slots=True)
class Message:
    """One message from the bot.

    ``to`` is the recipient's email; ``None`` means the person who sent the input.
    ``private`` marks text that must never reach the rep (a manager's notes).
    ``image`` is an optional picture (the digest's chart); platforms without pictures
    send the text alone.
    """

    text: str
    flow: str | None = None
    step: str | None = None
    choices: tuple[Choice, ...] = ()
    form: Form | None = None
    leaf: str | None = None
    to: str | None = None
    private: bool = False
    image: Image | None = None


@dataclass(frozen=True, slots=True)
class Say:
    """Free text or a slash command."""

    text: str


@dataclass(frozen=True, slots=True)
class Choose:
    """A button, a numbered choice or a select."""

    choice: str


@dataclass(frozen=True, slots=True)
class Submit:
    """A filled-in form."""

    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened without the person typing: a scheduled check-in coming due,
    a model's answer arriving later. Only a step that names it (``Step.events``) acts on
    it; any other step lets it pass."""

    name: str
    payload: Mapping[str, Any] = field(default_factory=dict)


Input = Say | Choose | Submit | Event


def message_to_json(message: Message) -> dict[str, Any]:
    """A plain-data copy of a message (for the outbox and the console protocol); an image
    travels as base64 PNG, under ``"image"`` only when there is one."""
    image = {} if message.image is None else {"image": {
        "png": base64.b64encode(message.image.png).decode("ascii"),
        "alt": message.image.alt, "name": message.image.name}}
    return {
        "text": message.text, "flow": message.flow, "step": message.step,
        "choices": [{"id": c.id, "label": c.label} for c in message.choices],
        "form": None if message.form is None else {
            "id": message.form.id,
            "fields": [{"id": f.id, "label": f.label, "kind": f.kind, "required": f.required,
                        "options": [{"id": o.id, "label": o.label} for o in f.options],
                        "hint": f.hint, "value": f.value}
                       for f in message.form.fields],
        },
        "leaf": message.leaf, "to": message.to, "private": message.private,
        **image,
    }


def message_from_json(raw: Mapping[str, Any]) -> Message:
    form = raw.get("form")
    return Message(
        text=str(raw.get("text", "")), flow=raw.get("flow"), step=raw.get("step"),
        choices=tuple(Choice(c["id"], c["label"]) for c in raw.get("choices", ())),
        form=None if not form else Form(form["id"], tuple(
            Field(f["id"], f["label"], f["kind"], f["required"],
                  tuple(Choice(o["id"], o["label"]) for o in f.get("options", ())),
                  f.get("hint", ""), str(f.get("value") or ""))
            for f in form["fields"])),
        leaf=raw.get("leaf"), to=raw.get("to"), private=bool(raw.get("private", False)),
        image=_image(raw.get("image")),
    )


def _image(raw: Any) -> Image | None:
    """The picture of a stored message; a damaged one is dropped (the text still goes)."""
    if not isinstance(raw, Mapping):
        return None
    try:
        png = base64.b64decode(str(raw.get("png", "")), validate=True)
    except (binascii.Error, ValueError):
        return None
    return Image(png, str(raw.get("alt", "")), str(raw.get("name") or "image.png")) if png \
        else None

YES_NO = (Choice("yes", "Yes"), Choice("no", "No"))
