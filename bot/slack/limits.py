"""Block Kit limits (PLATFORMS.md) and a checker that reports every breach in a payload.

``render`` keeps within these limits by construction; tests run every rendered
view and message through :func:`check_view` / :func:`check_message`.
"""

from __future__ import annotations

from typing import Any

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
MODAL_TITLE = 24  # also submit and close
PRIVATE_METADATA = 3000
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
ID = 255  # action_id, block_id, callback_id
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
OPTIONS = 100
OPTION_TEXT = 75
OPTION_VALUE = 150
ACTIONS_ELEMENTS = 25
CONTEXT_ELEMENTS = 10
LABEL = 2000
PLACEHOLDER = 150
HINT = 2000
TEXT_INPUT = 3000  # the longest initial value of a plain_text_input
MESSAGE_CHARS = 12_000  # a message far below Slack's ~13k msg_blocks_too_long
FALLBACK_TEXT = 3000


def units(text: str) -> int:
    """Length as Slack may count it: UTF-16 code units (an emoji outside the BMP is 2)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def check_message(blocks: list[dict[str, Any]], text: str = "") -> list[str]:
    problems = _blocks(blocks, MESSAGE_BLOCKS, "message")
    total = sum(units(t) for t in _texts(blocks))
    if total > MESSAGE_CHARS:
        problems.append(f"message text {total} > {MESSAGE_CHARS}")
    if units(text) > FALLBACK_TEXT:
        problems.append(f"fallback text {units(text)} > {FALLBACK_TEXT}")
    return problems


def check_view(view: dict[str, Any]) -> list[str]:
    problems = _blocks(view.get("blocks", []), VIEW_BLOCKS, view.get("type", "view"))
    for key in ("title", "submit", "close"):
        if key in view and units(view[key]["text"]) > MODAL_TITLE:
            problems.append(f"{key} {view[key]['text']!r} > {MODAL_TITLE}")
    if units(view.get("private_metadata", "")) > PRIVATE_METADATA:
        problems.append("private_metadata too long")
    if units(view.get("callback_id", "")) > ID:
        problems.append("callback_id too long")
    has_input = any(b["type"] == "input" for b in view.get("blocks", []))
    if has_input and view.get("type") == "modal" and "submit" not in view:
        problems.append("a modal with inputs needs a submit button")
    return problems


def _blocks(blocks: list[dict[str, Any]], limit: int, where: str) -> list[str]:
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"{where}: {len(blocks)} blocks > {limit}")
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    if len(block_ids) != len(set(block_ids)):
        problems.append("duplicate block_id")
    for i, block in enumerate(blocks):
        problems += [f"block {i} ({block['type']}): {p}" for p in _block(block)]
    return problems


def _block(block: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    kind = block["type"]
    if units(block.get("block_id", "")) > ID:
        problems.append("block_id too long")
    if kind == "section":
        if "text" in block and units(block["text"]["text"]) > SECTION_TEXT:
            problems.append(f"text {units(block['text']['text'])} > {SECTION_TEXT}")
        fields = block.get("fields", [])
        if len(fields) > SECTION_FIELDS:
            problems.append("too many fields")
        problems += ["field too long" for f in fields if units(f["text"]) > FIELD_TEXT]
        if "text" not in block and not fields:
            problems.append("section needs text or fields")
        if "accessory" in block:
            problems += _element(block["accessory"])
    elif kind == "header":
        if units(block["text"]["text"]) > HEADER_TEXT:
            problems.append("header too long")
    elif kind == "actions":
        elements = block["elements"]
        if not 1 <= len(elements) <= ACTIONS_ELEMENTS:
            problems.append(f"{len(elements)} elements in an actions block")
        action_ids = [e["action_id"] for e in elements if "action_id" in e]
        if len(action_ids) != len(set(action_ids)):
            problems.append("duplicate action_id in a block")
        for element in elements:
            problems += _element(element)
    elif kind == "context":
        if not 1 <= len(block["elements"]) <= CONTEXT_ELEMENTS:
            problems.append("context elements")
        problems += ["context text too long" for e in block["elements"]
                     if units(e.get("text", "")) > SECTION_TEXT]
    elif kind == "input":
        if units(block["label"]["text"]) > LABEL:
            problems.append("label too long")
        if units(block.get("hint", {}).get("text", "")) > HINT:
            problems.append("hint too long")
        problems += _element(block["element"])
    return problems


def _element(element: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if units(element.get("action_id", "")) > ID:
        problems.append("action_id too long")
    if element["type"] == "button":
        if units(element["text"]["text"]) > BUTTON_TEXT:
            problems.append("button text too long")
        if units(element.get("value", "")) > BUTTON_VALUE:
            problems.append("button value too long")
    if units(element.get("placeholder", {}).get("text", "")) > PLACEHOLDER:
        problems.append("placeholder too long")
    options = element.get("options", [])
    if element["type"] in ("static_select", "radio_buttons") and not 1 <= len(options) <= OPTIONS:
        problems.append(f"{len(options)} options")
    for option in options:
        if units(option["text"]["text"]) > OPTION_TEXT:
            problems.append("option text too long")
        if units(option["value"]) > OPTION_VALUE:
            problems.append("option value too long")
    return problems


def _texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        if value.get("type") in ("mrkdwn", "plain_text") and isinstance(value.get("text"), str):
            return [value["text"]]
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []
