"""``/escalations <rest>``: any text gives an action or a kind refusal, never an exception;
what the inbox's own buttons send always reads back as the same action."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.escalations import (
    MAX_NOTE,
    Acknowledge,
    ListInbox,
    Reassign,
    Resolve,
    Unclear,
    parse_action,
)
from flows.engine import clean_text
from tests.fuzz import count, fuzz

verbs = st.sampled_from(["ack", "ACK", "acknowledge", "resolve", "Reassign", "list", "inbox",
                         "", "resolved", "#1", "ack#"])
numbers = st.one_of(st.integers(min_value=-5, max_value=10**12).map(str),
                    st.integers(min_value=1, max_value=999).map(lambda n: f"#{n}"),
                    st.sampled_from(["٣", "¹", "0", "00", "1e3", "#", "", "１２"]))
shaped = st.builds(lambda v, n, t, sep: sep.join([v, n, t]), verbs, numbers, st.text(),
                   st.sampled_from([" ", "  ", "\t", "\n", "\u00a0"]))


@pytest.mark.slow
@fuzz()
@given(rest=st.one_of(st.text(), shaped))
def test_any_text_is_an_action_or_a_kind_refusal(rest: str) -> None:
    count("escalations parse")
    action = parse_action(rest)
    assert isinstance(action, ListInbox | Acknowledge | Resolve | Reassign | Unclear)
    if isinstance(action, Acknowledge | Resolve | Reassign):
        assert 0 < action.escalation_id < 10**9
    if isinstance(action, Resolve):
        assert len(action.note) <= MAX_NOTE
        assert not any(ch in action.note for ch in "\x00\x1b\u202e")
    if isinstance(action, Unclear):
        assert action.problem and len(action.problem) < 200


@fuzz(0.3)
@given(escalation_id=st.integers(min_value=1, max_value=10**9 - 1),
       verb=st.sampled_from(["ack", "resolve", "reassign"]),
       rest=st.text(alphabet=st.characters(categories=["L", "N", "P", "Zs"]), max_size=60))
def test_what_the_buttons_send_reads_back(escalation_id: int, verb: str, rest: str) -> None:
    action = parse_action(f"{verb} {escalation_id} {rest}".strip())
    expected = {"ack": Acknowledge, "resolve": Resolve, "reassign": Reassign}[verb]
    assert isinstance(action, expected) and action.escalation_id == escalation_id
    typed = clean_text(rest)
    if isinstance(action, Resolve):
        assert action.note == typed
    if isinstance(action, Reassign):
        assert action.to == typed[:200]


@pytest.mark.parametrize(("rest", "expected"), [
    ("", ListInbox()), ("list", ListInbox()), ("ack 12", Acknowledge(12)),
    ("acknowledge #7", Acknowledge(7)), ("resolve 3 Quota reset", Resolve(3, "Quota reset")),
    ("resolve 3", Resolve(3, "")), ("reassign 4 maya@x.example", Reassign(4, "maya@x.example")),
    ("REASSIGN 4 Maya Manager", Reassign(4, "Maya Manager")),
])
def test_the_usual_shapes(rest: str, expected: object) -> None:
    assert parse_action(rest) == expected


@pytest.mark.parametrize("rest", ["frobnicate 1", "ack", "ack twelve", "ack 0", "ack -1",
                                  "ack ٣", "ack 1234567890", "resolve 1 " + "x" * (MAX_NOTE + 1)])
def test_bad_shapes_are_refused_kindly(rest: str) -> None:
    assert isinstance(parse_action(rest), Unclear)
