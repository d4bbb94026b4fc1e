"""Neutral messages → Teams activities: valid Adaptive Cards 1.5, always under the size
limit, whatever the text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.teams import render
from flows.messages import YES_NO, Choice, Field, Form, Message
from tests.fuzz import count, fuzz
from tests.teams.cards import problems

FORM = Form("set_stage", (Field("purpose", "Purpose", "long_text", hint="why today"),
                          Field("due", "Due", "date", value="2026-12-08"),
                          Field("owner", "Owner", "choice", options=(Choice("rep", "Rep"),
                                                                     Choice("me", "Me"))),
                          Field("target", "Target", "number", required=False)))


def test_a_few_choices_are_buttons_and_many_a_drop_down() -> None:
    (few,) = render.activities([Message("Agree?", "sled", "aligned", YES_NO)])
    many = render.card(Message("Pick", "sled", "focus",
                               tuple(Choice(f"c{i}", f"Choice {i}") for i in range(9))))
    assert [a["data"]["choice"] for a in few["attachments"][0]["content"]["actions"]] == [
        "yes", "no"]
    assert any(b["type"] == "Input.ChoiceSet" for b in many["body"])
    assert len(many["actions"]) == 1 and many["actions"][0]["data"]["coach"] == "choose"
    assert problems(few) == [] and problems(render.card_activity(many)) == []


def test_a_form_is_inputs_with_one_submit_carrying_its_step() -> None:
    content = render.card(Message("Set the stage", "sled", "set_stage", form=FORM))
    ids = [b["id"] for b in content["body"] if "id" in b]
    assert ids == render.form_fields(FORM) == ["f.purpose", "f.due", "f.owner", "f.target"]
    (submit,) = content["actions"]
    assert submit["data"]["coach"] == "submit" and submit["data"]["step"] == "set_stage"
    assert problems(render.card_activity(content)) == []


def test_the_turns_plain_messages_go_above_the_question_in_one_activity() -> None:
    found = render.activities([Message("Context: last session..."),
                               Message("Agree?", "sled", "aligned", YES_NO)])
    assert len(found) == 1
    texts = [b["text"] for b in found[0]["attachments"][0]["content"]["body"]]
    assert "Context: last session..." in texts and "Agree?" in texts


def test_the_read_only_card_has_no_actions_or_inputs() -> None:
    content = render.answered(render.CardAnswer("Agree?", "Yes"))
    assert "actions" not in content
    assert all(not b["type"].startswith("Input.") for b in content["body"])
    assert problems(render.card_activity(content)) == []


@pytest.mark.slow
@fuzz(0.05)
@given(text=st.text(max_size=60_000), before=st.lists(st.text(max_size=30_000), max_size=3),
       labels=st.lists(st.text(min_size=1, max_size=400), min_size=1, max_size=12),
       with_form=st.booleans())
def test_property_every_activity_is_valid_and_under_the_limit(
        text: str, before: list[str], labels: list[str], with_form: bool) -> None:
    count("teams render, any text")
    question = Message(text, "sled", "step", form=FORM) if with_form else Message(
        text, "sled", "step", tuple(Choice(f"c{i}", label) for i, label in enumerate(labels)))
    for activity in render.activities([*(Message(t) for t in before), question]):
        assert problems(activity) == []
