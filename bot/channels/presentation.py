"""What every surface shows the same way, read from the flows' own specs: a flow's
title, whether it runs in the person's DM or in a window of its own, and which
message of a turn asks for an answer."""

from __future__ import annotations

from collections.abc import Sequence

from bot.flowset import SPECS
from flows.messages import Message

_BY_NAME = {spec.name: spec for spec in SPECS}


def window_title(flow: str | None) -> str | None:
    """The short title of a flow's window (None: not one of our flows)."""
    spec = _BY_NAME.get(flow or "")
    return spec.short_title if spec else None


def runs_in_dm(flow: str | None) -> bool:
    """Whether the flow's questions are asked in the person's direct messages."""
    spec = _BY_NAME.get(flow or "")
    return spec is not None and spec.runs_in == "dm"


def prompt_of(messages: Sequence[Message]) -> Message | None:
    """The message that asks for an answer: the last one with choices or a form."""
    last = messages[-1] if messages else None
    return last if last is not None and (last.choices or last.form) else None
