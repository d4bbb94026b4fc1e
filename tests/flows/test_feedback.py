"""Feedback names behaviour, not character."""

from __future__ import annotations

import pytest

from flows.engine import Retry
from flows.feedback import CHARACTER_LABELS, character_label, check_behaviour


@pytest.mark.parametrize(("text", "found"), [
    ("You are lazy about follow-ups", "lazy"),
    ("That was STUPID", "STUPID"),
    ("careless with the CRM", "careless"),
    ("a bit incompetent", "incompetent"),
    ("seems unmotivated", "unmotivated"),
    ("arrogant on the call", "arrogant"),
    ("Bad  attitude today", "Bad  attitude"),
    ("You are a poor listener", "You are a"),
    ("you’re a natural", "you’re a"),
    ("You're so slow", "You're so"),
    ("you are so behind", "you are so"),
])
def test_character_labels_are_found(text: str, found: str) -> None:
    assert character_label(text) == found


@pytest.mark.parametrize("text", [
    "You asked two discovery questions before the demo",
    "You are able to run the demo alone now",
    "You are all set for Friday",
    "The matching is word-bounded: blazy, carelessly, badattitude",
    "",
])
def test_behaviour_is_fine(text: str) -> None:
    assert character_label(text) is None


def test_every_label_is_caught_case_insensitively() -> None:
    for label in CHARACTER_LABELS:
        assert character_label(f"Note: {label.upper()}!") is not None, label


def test_check_behaviour_names_the_field_and_the_word() -> None:
    result = check_behaviour({"a": "fine", "b": "so lazy"}, {"a": "First", "b": "Second"}, "Sam")
    assert isinstance(result, Retry)
    assert result.problem.startswith("Second: “lazy” describes who Sam is, not what Sam did.")
    assert check_behaviour({"a": "fine"}, {"a": "First", "b": "Second"}, "Sam") is None
