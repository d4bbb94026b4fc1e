"""parse.py never raises: arbitrary JSON-like bodies, and the sample payloads with any field
replaced by any value, become a Command / Action / Submission / None, never an exception."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack import parse
from tests.fuzz import count, fuzz
from tests.slack.driver import sample

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

SAMPLES = ("BlockActionPayload", "ViewSubmissionPayload", "SlashCommandPayload",
           "MessagePayload", "MessageBotPayload", "MessageChangedPayload", "AppMentionPayload",
           "AppHomeOpenedPayload", "ViewClosedPayload")
# Values our own blocks carry, so mutations reach the branches that read them.
SHAPED = st.sampled_from([
    "coach.pick", "coach.choose.1", "coach.select.x", "coach.form", "coach.ack", "coach.cmd",
    "coach.item.done", "coach.item.blocked", "c:yes", "i:2", "i:²", "i:①", "²", "①", "12",
    '{"c": "yes", "s": "gap"}', '{"i": 1}', '{"i": "x"}', '{"m": {"text": 1}}', '{"m": 5}',
    '{"session": 3}', '{"t": "/back"}', '{"id": 4}', '{"f": "x", "s": 1, "n": "a"}',
    "[1]", "null", "<@U0BOB|bob> help", "team add <@U1>", "review <@W1>", "D0DM", "im",
])
LEAVES = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
          | SHAPED)
values = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=8) | SHAPED, inner, max_size=3), max_leaves=6)
KEYS = st.sampled_from(["type", "user", "user_id", "team", "team_id", "enterprise", "actions",
                        "action_id", "value", "selected_option", "block_id", "view", "state",
                        "values", "private_metadata", "container", "message", "blocks",
                        "channel", "text", "event", "event_id", "subtype", "bot_id",
                        "channel_type", "id", "hash"])
bodies = st.dictionaries(KEYS | st.text(max_size=6), values, max_size=6)


def mutate(body: Any, path: list[int], value: Any) -> Any:
    """Replace the field ``path`` leads to (each step picks a key or an item) by ``value``."""
    node = body
    for step in path:
        if isinstance(node, dict) and node:
            key = list(node)[step % len(node)]
            if not isinstance(node[key], dict | list) or not node[key]:
                node[key] = value
                return body
            node = node[key]
        elif isinstance(node, list) and node:
            index = step % len(node)
            if not isinstance(node[index], dict | list) or not node[index]:
                node[index] = value
                return body
            node = node[index]
    if isinstance(node, dict):
        node[str(path[-1] if path else 0)] = value
    return body


mutated = st.builds(lambda name, edits: _apply(sample(name), edits),
                    st.sampled_from(SAMPLES),
                    st.lists(st.tuples(st.lists(st.integers(0, 30), max_size=6), values),
                             min_size=1, max_size=4))


def _apply(body: dict[str, Any], edits: list[tuple[list[int], Any]]) -> dict[str, Any]:
    for path, value in edits:
        body = mutate(body, path, value)
    return body


def _parse_all(body: dict[str, Any]) -> None:
    parse.command(body)
    parse.action(body)
    parse.submission(body)
    parse.event_key(body)
    parse.dm_text(body)
    assert isinstance(parse.view_id_of(body), str)
    event = body.get("event")
    if isinstance(event, dict):
        parse.dm_text(event)
    json.dumps(parse.read_meta(body.get("private_metadata")).flow)


@pytest.mark.slow
@fuzz()
@given(body=bodies)
def test_property_parse_never_raises_on_any_body(body: dict[str, Any]) -> None:
    count("slack parse, arbitrary bodies")
    _parse_all(body)


@pytest.mark.slow
@fuzz()
@given(body=mutated)
def test_property_parse_never_raises_on_mutated_samples(body: dict[str, Any]) -> None:
    count("slack parse, mutated samples")
    _parse_all(body)


@pytest.mark.parametrize("value", ["²", "①", "١٢", "12x", ""])
def test_a_picked_person_that_is_not_ascii_digits_is_no_pick(value: str) -> None:
    body = sample("BlockActionPayload")
    body["actions"] = [{"action_id": "coach.pick", "selected_option": {"value": value}}]
    assert parse.action(body).data == {}


@pytest.mark.parametrize("value", ["i:²", "i:①", "i:١"])
def test_a_select_index_that_is_not_ascii_digits_is_unknown(value: str) -> None:
    body = sample("BlockActionPayload")
    body["actions"] = [{"action_id": "coach.select.x", "block_id": "b.gap",
                        "selected_option": {"value": value}}]
    assert parse.action(body).kind == "unknown"
