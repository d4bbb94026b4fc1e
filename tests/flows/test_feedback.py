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


# How well the check tells character from behaviour, measured on phrasings managers write.
# Character: labels, sweeping "never", identity framings. Behaviour: what was seen or
# heard, with its situation (some on purpose close to the labels' words).
CHARACTER = (
    "He's a total slacker", "Never prepares for calls", "Honestly, so lazy",
    "Sam is lazy", "Has a bad attitude", "Unprofessional with clients",
    "Just not a closer", "You're a poor listener", "Careless with the CRM",
    "She is disorganized", "Lacks motivation this quarter", "Too arrogant with buyers",
    "Unreliable on follow-ups", "A complete mess in demos", "No work ethic",
    "Is simply not a hunter", "Always making excuses", "Clueless about pricing",
    "Doesn't care about the pipeline", "Pushy and rude on the phone",
    "Has no idea how to qualify", "Sloppy notes as usual", "Not cut out for enterprise",
)
BEHAVIOUR = (
    "Skipped the discovery questions on two calls", "Talked 80% of the call",
    "Asked about budget in the first five minutes on the Acme call",
    "Sent the proposal before confirming the decision maker",
    "Logged 12 of 20 calls in the CRM last week", "Interrupted the buyer three times",
    "Did not ask for the next meeting at the end of the demo",
    "Opened with a customer insight and the buyer leaned in",
    "Followed up within 24 hours on all four leads",
    "Moved to price before hearing the pain on two of three calls",
    "Paused after the question and let the buyer answer",
    "A total of 14 meetings booked, up from 9", "Prepared a mutual action plan for Globex",
    "Missed the 9am call block on Tuesday and Thursday",
    "Used the qualification checklist on the first call",
    "Repeated the buyer's words back before answering",
    "Left the pricing objection unanswered on the Initech call",
    "Shared the recording and asked for feedback", "You are ready to run the demo alone",
    "Ended the call without a next step on 3 of 5 calls",
    "Asked two open questions, then pitched for ten minutes",
)


def test_the_check_separates_character_from_behaviour() -> None:
    assert len(CHARACTER) + len(BEHAVIOUR) >= 40
    assert len(CHARACTER) >= 20 and len(BEHAVIOUR) >= 20
    flagged_character = [t for t in CHARACTER if character_label(t) is not None]
    flagged_behaviour = [t for t in BEHAVIOUR if character_label(t) is not None]
    true_pos, false_pos = len(flagged_character), len(flagged_behaviour)
    precision = true_pos / (true_pos + false_pos)
    recall = true_pos / len(CHARACTER)
    print(f"feedback check over {len(CHARACTER) + len(BEHAVIOUR)} phrasings: "
          f"precision {precision:.2f}, recall {recall:.2f}; missed "
          f"{sorted(set(CHARACTER) - set(flagged_character))}, wrongly flagged "
          f"{flagged_behaviour}")
    assert precision >= 0.9 and recall >= 0.9


@pytest.mark.parametrize("text", [
    "He's a total slacker", "never prepares", "so lazy", "is lazy", "has a bad attitude",
    "unprofessional", "just not a closer",
])
def test_the_usual_forms_from_the_issue_are_caught(text: str) -> None:
    assert character_label(text) is not None
