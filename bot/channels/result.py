"""The typed outcome of one turn: what happened, and the messages to show.

Surfaces branch on ``status``, never on the text of a reply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.llm.requests import AssistRequest
from flows.messages import Message

TurnStatus = Literal["ok", "unknown_person", "stale", "refused", "busy", "crashed", "limited",
                     "seen"]


@dataclass(frozen=True, slots=True)
class TurnResult:
    """``ok``: the turn ran (its messages may still say "no"); ``unknown_person``: the
    speaker is not bound to a person; ``stale``: another answer won the race twice;
    ``refused``: the answer was meant for another step (the question is asked again);
    ``busy``: the database was held by another writer, nothing stored; ``crashed``: a
    bug, nothing stored (the details are in the log, never in the messages); ``limited``: the
    speaker is over their rate limit, nothing ran (the message says so); ``seen``: the
    platform's delivery was handled before (its claim, ``TurnRunner.run_turn``). ``asks``: what
    the turn wants a language model asked, after its commit (the answer comes back as an
    Event through ``Gateway.on_behalf``)."""

    status: TurnStatus
    messages: tuple[Message, ...] = ()
    asks: tuple[AssistRequest, ...] = ()  # model requests to send now that it is stored

    @property
    def stored(self) -> bool:
        return self.status in ("ok", "refused")
