"""Teams activities → neutral input (pure)."""

from __future__ import annotations

from typing import Any

import pytest
from microsoft_agents.activity import Activity

from bot.teams import parse
from flows.messages import Choose, Say, Submit

BASE: dict[str, Any] = {
    "type": "message", "id": "1", "channelId": "msteams", "serviceUrl": "https://smba.example/",
    "from": {"id": "29:maya", "aadObjectId": "aad-maya", "name": "Maya"},
    "conversation": {"id": "a:1", "conversationType": "personal", "tenantId": "t1"},
    "recipient": {"id": "28:bot", "name": "Coach"}}


def activity(**fields: Any) -> Activity:
    return Activity.model_validate({**BASE, **fields})


@pytest.mark.parametrize(("text", "said"), [
    ("coach Alice", "/coach Alice"), ("Coach   alice ", "/coach alice"),
    ("/coach alice", "/coach alice"), ("help", "/help"), ("checkin", "/checkin"),
    ("Losing late-stage deals", "Losing late-stage deals"),
    ("<p>coach&nbsp;alice</p>", "/coach alice"), ("team add x", "team add x"),
])
def test_typed_text_becomes_say(text: str, said: str) -> None:
    found = parse.inbound(activity(text=text))
    assert found is not None and found.given == Say(said)
    assert found.who == parse.Who("teams", "t1", "aad-maya")


def test_the_bot_mention_goes_and_other_mentions_leave_their_name() -> None:
    found = parse.inbound(activity(
        text="<at>Coach</at> review <at>Bob Brown</at>",
        entities=[{"type": "mention", "text": "<at>Coach</at>",
                   "mentioned": {"id": "28:bot", "name": "Coach"}}]))
    assert found is not None and found.given == Say("/review Bob Brown")


def test_a_button_submit_is_a_choice_for_its_step() -> None:
    found = parse.inbound(activity(replyToId="card-7", value={
        "coach": "choose", "choice": "yes", "step": "S_aligned", "question": "Agree?",
        "label": "Yes"}))
    assert found is not None
    assert (found.given, found.expect_step, found.card_id) == (Choose("yes"), "S_aligned",
                                                               "card-7")
    assert found.card == parse.CardAnswer("Agree?", "Yes")


def test_a_drop_down_submit_reads_the_picked_choice() -> None:
    found = parse.inbound(activity(value={"coach": "choose", "step": "L_focus",
                                          "labels": {"pipeline": "Pipeline"},
                                          "choice": "pipeline"}))
    assert found is not None and found.given == Choose("pipeline")
    assert found.card is not None and found.card.answer == "Pipeline"


def test_a_form_submit_keeps_only_field_inputs_as_text() -> None:
    found = parse.inbound(activity(value={
        "coach": "submit", "step": "S_set", "labels": {"purpose": "Purpose"},
        "f.purpose": " Win more ", "f.target": 20, "f.flag": True, "f.nested": {"x": 1},
        "verb": "x"}))
    assert found is not None
    assert found.given == Submit({"purpose": "Win more", "target": "20", "flag": "true"})
    assert found.card is not None and "Purpose: Win more" in found.card.answer


@pytest.mark.parametrize("value", [{"coach": "explode"}, {"coach": "choose"},
                                   {"coach": 5}, {"other": "x"}])
def test_an_unknown_card_submit_is_nothing_or_text(value: dict[str, Any]) -> None:
    found = parse.inbound(activity(value=value))
    assert found is None


def test_other_activities_and_senders_are_nothing() -> None:
    assert parse.inbound(activity(type="typing")) is None
    assert parse.inbound(activity(text="   ")) is None
    raw = {**BASE, "text": "hi"}
    del raw["from"]
    assert parse.inbound(Activity.model_validate(raw)) is None


def test_the_tenant_comes_from_channel_data_when_the_conversation_has_none() -> None:
    found = parse.inbound(activity(
        text="hi", conversation={"id": "a:1", "conversationType": "personal"},
        channelData={"tenant": {"id": "t9"}}))
    assert found is not None and found.who.tenant == "t9"


def test_a_plan_acknowledgement_names_its_session_and_is_no_turn() -> None:
    found = parse.inbound(activity(replyToId="p1", value={"coach": "ack", "session": 7}))
    assert found is not None and found.given is None and found.acknowledged == 7
    assert parse.inbound(activity(value={"coach": "ack", "session": True})) is None
    assert parse.inbound(activity(value={"coach": "ack", "session": "7"})) is None
