"""Hostile Teams input never crashes anything: the parser turns any activity into input or
None, and POST /api/messages answers any body with 2xx, 400 or 401, never a 500."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.teams import parse
from bot.teams.app import read
from tests.fuzz import count, fuzz
from tests.slack.test_parse_fuzz import mutate
from tests.teams.conftest import USERS, Harness
from tests.teams.test_parse import BASE

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

SHAPED = st.sampled_from([
    "coach", "choose", "submit", "f.purpose", "choice", "step", "labels", "yes", "<at>x</at>",
    "<at>", "coach <at>A</at>", "&amp;", "29:alice", "aad-alice", "personal", "channel",
    "http://127.0.0.1:1/", "::::", "https://", "message", "conversationUpdate",
    "installationUpdate", "remove", "add", "mention", "28:bot"])
LEAVES = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
          | SHAPED)
values = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=8) | SHAPED, inner, max_size=3), max_leaves=6)
SAMPLES = (
    {**BASE, "text": "coach alice"},
    {**BASE, "replyToId": "c1", "value": {"coach": "choose", "choice": "yes", "step": "s",
                                          "question": "q", "labels": {"yes": "Yes"}}},
    {**BASE, "value": {"coach": "submit", "step": "s", "f.a": "1", "labels": {"a": "A"}}},
    {**BASE, "text": "<at>Coach</at> help",
     "entities": [{"type": "mention", "text": "<at>Coach</at>",
                   "mentioned": {"id": "28:bot", "name": "Coach"}}]},
    {**BASE, "type": "conversationUpdate", "membersAdded": [{"id": "28:bot"}]},
    {**BASE, "type": "installationUpdate", "action": "remove"},
    {**BASE, "replyToId": "p1", "value": {"coach": "ack", "session": 3, "question": "plan"}},
)
mutated = st.builds(
    lambda index, edits: _apply(copy.deepcopy(SAMPLES[index]), edits),
    st.integers(0, len(SAMPLES) - 1),
    st.lists(st.tuples(st.lists(st.integers(0, 30), max_size=6), values), min_size=1,
             max_size=4))


def _apply(body: dict[str, Any], edits: list[tuple[list[int], Any]]) -> dict[str, Any]:
    for path, value in edits:
        body = mutate(body, path, value)
    return body


@pytest.mark.slow
@fuzz()
@given(body=mutated)
def test_property_parse_never_raises(body: dict[str, Any]) -> None:
    count("teams parse, mutated activities")
    activity = read(json.dumps(body).encode())
    if isinstance(activity, str):
        return  # the endpoint refuses it with 400 before the parser sees it
    found = parse.inbound(activity)
    if found is not None:
        json.dumps(found.who.user_key)
    parse.tenant_of(activity)


bodies = mutated | st.dictionaries(st.text(max_size=6) | SHAPED, values, max_size=6) | values


@pytest.mark.slow
@fuzz(0.03)
@given(body=bodies, raw=st.none() | st.binary(max_size=40))
async def test_property_hostile_bodies_never_give_a_500(harness: Harness, body: Any,
                                                        raw: bytes | None) -> None:
    count("teams POST /api/messages, hostile bodies")
    if isinstance(body, dict) and body.get("serviceUrl") == BASE["serviceUrl"]:
        body["serviceUrl"] = harness.connector.url  # the valid ones reach our fake
    response = await harness.http.post(body, raw=raw)
    assert response.status in (200, 201, 202, 400, 401), (response.status, body)
    assert USERS  # the demo org is loaded: bound users reach the flows too
