"""How each flow is declared once: its name, titles, where it runs, how it starts and
whom it is about. The registry (bot/flowset.py) and every surface read these specs;
nothing else keeps a list of flows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from flows.engine import Context, Flow, Outcome, Person
from flows.playbook import Playbook

Place = Literal["modal", "dm"]  # a window of its own, or the person's direct messages


class Starter(Protocol):
    def __call__(self, playbook: Playbook, ctx: Context, data: Mapping[str, Any],
                 flow: Flow | None = None) -> Outcome: ...


@dataclass(frozen=True, slots=True)
class FlowSpec:
    """One flow, declared once. ``start`` is what tests and production both call (``flow``:
    this flow already built from the playbook); ``subject`` reads whom a conversation of
    this flow is about from its data (None: about nobody but the speaker); ``resumed_by``
    is the command that picks a paused one up (``{ref}``: the subject's email)."""

    name: str
    title: str
    short_title: str  # a window's title: a Slack modal takes 24 characters
    runs_in: Place
    build: Callable[[Playbook], Flow]
    start: Starter
    subject: Callable[[Mapping[str, Any]], Person | None]
    resumed_by: str = "/resume"


def rep_named_in(data: Mapping[str, Any]) -> Person | None:
    """The subject of the flows about a rep: ``rep_id``, ``rep_ref`` (their email) and
    ``rep_name``, as the commands that start them store them."""
    if not isinstance(data.get("rep_id"), int):
        return None
    return Person(int(data["rep_id"]), str(data.get("rep_ref", "")),
                  str(data.get("rep_name", "")), "rep")


def nobody(data: Mapping[str, Any]) -> Person | None:
    """A flow about the speaker alone (the check-in)."""
    return None
