"""The facts every surface shows alike come from the flows' own specs."""

from __future__ import annotations

from bot.channels.presentation import prompt_of, runs_in_dm, window_title
from bot.flowset import SPECS
from flows.messages import Choice, Message


def test_titles_and_places_come_from_each_flows_spec() -> None:
    for spec in SPECS:
        assert window_title(spec.name) == spec.short_title
        assert len(spec.short_title) <= 24  # a Slack modal's title
        assert runs_in_dm(spec.name) == (spec.runs_in == "dm")
    assert runs_in_dm("checkin") and not runs_in_dm("sled")
    assert window_title("nothing") is None and not runs_in_dm(None)


def test_the_prompt_is_the_last_message_when_it_asks_something() -> None:
    ask = Message("Which?", choices=(Choice("a", "A"),))
    assert prompt_of([Message("Hi"), ask]) is ask
    assert prompt_of([ask, Message("Done.")]) is None
    assert prompt_of([]) is None
