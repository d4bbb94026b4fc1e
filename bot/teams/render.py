"""Neutral messages → Teams activities: Markdown text, and Adaptive Cards (schema 1.5,
the newest Teams renders) for choices and forms. Pure.

Every card's submit data carries our ``coach`` verb and the step it answers (read back in
:mod:`bot.teams.parse`), and the question, so that the card can be replaced by its
read-only form once answered. Each activity's JSON stays under ``MAX_JSON`` characters
(Teams documented 40 KB of UTF-16 for years): long text is shortened, never refused.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.channels.presentation import window_title
from bot.teams.parse import CHOICE_INPUT, FIELD_PREFIX, CardAnswer
from bot.teams.text import TeamsText
from flows.messages import Choice, Field, Form, Message

Card = dict[str, Any]
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
MAX_JSON = 20_000  # characters of one activity's JSON
MAX_BUTTONS = 5  # more choices than this: a drop-down and one button
MAX_QUESTION = 500  # characters of the question a card's submit data carries back
MAX_LABEL = 200


def size(activity: dict[str, Any]) -> int:
    """Characters of an activity's JSON, as the limit counts them."""
    return len(json.dumps(activity, ensure_ascii=False, separators=(",", ":")))


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(TeamsText.clipped))].rstrip() + TeamsText.clipped


def plan_activity(message: Message, session: int) -> dict[str, Any]:
    """An action plan sent to the rep, with the button that says they have read it."""
    question = clip(message.text, MAX_QUESTION)
    content = _shell([_text_block(clip(message.text, MAX_JSON // 2))],
                     [{"type": "Action.Submit", "title": TeamsText.acknowledge,
                       "data": {"coach": "ack", "session": session, "question": question}}])
    return card_activity(content)


def activities(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The activities that show a turn's messages: one, when it can (the plain messages
    above the question, in its card; one call to the connector instead of two), else the
    plain ones together as one text, then each question as a card of its own."""
    return [activity for activity, _ in shown(messages)]


def shown(messages: Sequence[Message]
          ) -> list[tuple[dict[str, Any], tuple[Message, ...]]]:
    """:func:`activities`, each with the messages it shows (in their order), so that
    those of the activities not sent yet are known."""
    plain = [m for m in messages if not (m.choices or m.form) and m.text]
    questions = [m for m in messages if m.choices or m.form]
    if len(questions) == 1 and plain:
        together = card_activity(card(questions[0], preface=[m.text for m in plain]))
        if size(together) < MAX_JSON:
            return [(together, (*plain, questions[0]))]
    out: list[tuple[dict[str, Any], tuple[Message, ...]]] = []
    if plain:
        out.append((text_activity("\n\n".join(m.text for m in plain)), tuple(plain)))
    out.extend((card_activity(card(m)), (m,)) for m in questions)
    return out


def text_activity(text: str) -> dict[str, Any]:
    activity = {"type": "message", "textFormat": "markdown", "text": text}
    overflow = size(activity) - MAX_JSON
    if overflow > 0:
        activity["text"] = clip(text, len(text) - overflow - 64)
    return activity


def card_activity(content: Card) -> dict[str, Any]:
    return {"type": "message",
            "attachments": [{"contentType": CARD_TYPE, "content": content}]}


def _text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _shell(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> Card:
    content: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION,
                     "body": body}
    if actions:
        content["actions"] = actions
    return content


def card(message: Message, preface: Sequence[str] = ()) -> Card:
    """A question as a card: what the turn said before it (``preface``), its text, then
    its buttons, drop-down or form."""
    content = _card(message, message.text, preface)
    overflow = size(card_activity(content)) - MAX_JSON
    if overflow > 0 and not preface:  # only the question's own text may be long: shorten it
        content = _card(message, clip(message.text, len(message.text) - overflow - 64), ())
    return content


def _card(message: Message, text: str, preface: Sequence[str]) -> Card:
    title = window_title(message.flow)
    body: list[dict[str, Any]] = []
    if title:
        body.append(_text_block(title, weight="Bolder", size="Medium"))
    body.extend(_text_block(said, isSubtle=True) for said in preface)
    body.append(_text_block(text))
    base = {"step": message.step, "flow": message.flow,
            "question": clip(text, MAX_QUESTION)}
    base = {k: v for k, v in base.items() if v is not None}
    if message.form is not None:
        body.extend(_input(f) for f in message.form.fields)
        labels = {f.id: clip(f.label, MAX_LABEL) for f in message.form.fields}
        return _shell(body, [{"type": "Action.Submit", "title": TeamsText.submit,
                              "data": {"coach": "submit", **base, "labels": labels}}])
    if len(message.choices) <= MAX_BUTTONS:
        return _shell(body, [{"type": "Action.Submit", "title": clip(c.label, MAX_LABEL),
                              "data": {"coach": "choose", **base, "choice": c.id,
                                       "label": clip(c.label, MAX_LABEL)}}
                             for c in message.choices])
    body.append({"type": "Input.ChoiceSet", "id": CHOICE_INPUT, "style": "compact",
                 "label": TeamsText.choose, "isRequired": True,
                 "errorMessage": TeamsText.choose,
                 "choices": [_option(c) for c in message.choices]})
    labels = {c.id: clip(c.label, MAX_LABEL) for c in message.choices}
    return _shell(body, [{"type": "Action.Submit", "title": TeamsText.submit,
                          "data": {"coach": "choose", **base, "labels": labels}}])


def _option(choice: Choice) -> dict[str, str]:
    return {"title": clip(choice.label, MAX_LABEL), "value": choice.id}


def _input(field: Field) -> dict[str, Any]:
    common: dict[str, Any] = {"id": FIELD_PREFIX + field.id, "label": clip(field.label, 500),
                              "isRequired": field.required}
    if field.required:
        common["errorMessage"] = clip(f"{field.label}: required", 500)
    if field.kind == "choice":
        element = {"type": "Input.ChoiceSet", "style": "compact", **common,
                   "choices": [_option(o) for o in field.options]}
    elif field.kind == "date":
        element = {"type": "Input.Date", **common}
    else:
        element = {"type": "Input.Text", **common,
                   "isMultiline": field.kind == "long_text"}
        if field.hint:
            element["placeholder"] = clip(field.hint, 500)
    if field.value:
        element["value"] = field.value
    return element


def answered(answer: CardAnswer) -> Card:
    """The read-only form of a card once its question is answered: no buttons, no inputs."""
    body = [_text_block(answer.question or " ")]
    if answer.answer:
        body.append(_text_block(TeamsText.answered.format(answer=clip(answer.answer, 2000)),
                                color="Good", weight="Bolder"))
    return _shell(body)


def closed(answer: CardAnswer) -> Card:
    """The read-only form of a card whose question had moved on when it was submitted."""
    return _shell([_text_block(answer.question or " "),
                   _text_block(TeamsText.closed, isSubtle=True)])


def form_fields(form: Form) -> list[str]:
    """The input ids a form's card carries (tests fill them in)."""
    return [FIELD_PREFIX + f.id for f in form.fields]
