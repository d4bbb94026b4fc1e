"""Forgiving input: dates, numbers and choices as people type them, and no answer that
can crash a turn (issue 7 item 6, issue 8 §4)."""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.engine import Reading, Retry, read_answer, read_form
from flows.messages import Choice, Choose, Field, Form, Message, Say, Submit
from flows.reading import (
    date_text,
    match_choice,
    number_text,
    read_date,
    read_number,
    stored_number,
)

# Tuesday 1 December 2026, 10:00 in New York (15:00 UTC)
LOCAL_NOW = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("America/New_York"))
READING = Reading(LOCAL_NOW, 2000)
# The normal run tries this many cases per property; `FUZZ_CASES=30000 pytest -m slow`
# goes further.
FUZZ_CASES = int(os.environ.get("FUZZ_CASES", "3000"))


@pytest.mark.parametrize(("typed", "day"), [
    ("2026-12-15", date(2026, 12, 15)),
    ("next friday", date(2026, 12, 4)),
    ("Friday", date(2026, 12, 4)),
    ("Dec 15", date(2026, 12, 15)),
    ("15 December", date(2026, 12, 15)),
    ("December 15, 2026", date(2026, 12, 15)),
    ("in 2 weeks", date(2026, 12, 15)),
    ("tomorrow", date(2026, 12, 2)),
    ("  Tuesday 15 December 2026 ", date(2026, 12, 15)),
    ("Jan 5", date(2027, 1, 5)),  # no year: the next one, not last January
])
def test_dates_are_read_as_people_type_them(typed: str, day: date) -> None:
    assert read_date(typed, LOCAL_NOW) == day


def test_relative_dates_are_read_in_the_person_s_zone() -> None:
    """23:30 on Monday in New York is already Tuesday in UTC: "tomorrow" is Tuesday."""
    late_monday = datetime(2026, 11, 30, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    assert read_date("tomorrow", late_monday) == date(2026, 12, 1)
    assert read_date("tomorrow", late_monday.astimezone(ZoneInfo("UTC"))) == date(2026, 12, 2)


@pytest.mark.parametrize("typed", ["", "soon", "2", "14", "²", "①", "2026-02-30", "x" * 500])
def test_what_is_not_a_date_is_not_read_as_one(typed: str) -> None:
    assert read_date(typed, LOCAL_NOW) is None


def test_a_date_is_said_in_full() -> None:
    assert date_text(date(2026, 12, 15)) == "Tuesday 15 December 2026"


@pytest.mark.parametrize(("typed", "value"), [
    ("14%", 14.0), ("62,000", 62000.0), ("62k", 62000.0), ("62K", 62000.0), ("1.5", 1.5),
    ("$1.5m", 1_500_000.0), ("-3", -3.0), (".5", 0.5), (" 1 200 ", 1200.0), ("３", 3.0),
    ("٣", 3.0),
])
def test_numbers_are_read_as_people_type_them(typed: str, value: float) -> None:
    assert read_number(typed) == value


@pytest.mark.parametrize("typed", ["", "k", "%", "²", "①", "1,2,3", "12,00", "nan", "inf",
                                   "1e5", "two",
                                   "1" * 41])
def test_what_is_not_a_number_is_not_read_as_one(typed: str) -> None:
    assert read_number(typed) is None


@pytest.mark.parametrize(("value", "shown", "stored"), [
    (62000.0, "62,000", "62000"), (14.0, "14", "14"), (1.5, "1.5", "1.5"),
    (26.5, "26.5", "26.5"), (0.25, "0.25", "0.25"), (-38000.0, "-38,000", "-38000"),
])
def test_numbers_are_shown_and_stored_one_way(value: float, shown: str, stored: str) -> None:
    assert number_text(value) == shown
    assert stored_number(value) == stored


MODELS = (Choice("training", "Field training"), Choice("coaching", "Sales coaching (suggested)"),
          Choice("none", "No model"))


@pytest.mark.parametrize(("typed", "picked"), [
    ("2", "coaching"), ("coaching", "coaching"), ("Sales coaching", "coaching"),
    ("sales coaching (suggested)", "coaching"), ("SALES", "coaching"), ("field", "training"),
    ("no", "none"), ("２", "coaching"),
])
def test_a_choice_is_picked_by_number_label_or_unique_prefix(typed: str, picked: str) -> None:
    assert match_choice(MODELS, typed) == picked


@pytest.mark.parametrize("typed", ["s", "5", "0", "²", "②", "²²", "9" * 5000, "coachingx"])
def test_an_ambiguous_or_unknown_choice_picks_nothing(typed: str) -> None:
    choices = (*MODELS, Choice("skip", "Skip"))
    assert match_choice(choices, typed) is None


def test_a_unicode_digit_answer_is_a_retry_not_a_crash() -> None:
    prompt = Message("Pick", choices=MODELS)
    for typed in ("²", "①", "٣", "9" * 5000):
        result = read_answer(prompt, Say(typed), READING)
        assert isinstance(result, Retry) or result in {c.id for c in MODELS}


FORM = Form("plan", (
    Field("what", "Action"), Field("due", "Due date", "date"),
    Field("target", "Target", "number"), Field("count", "Calls", "integer", required=False),
    Field("owner", "Owner", "choice", options=(
        Choice("rep", "Sam Rep (the rep)", also=("sam@example.com",)),
        Choice("manager", "Me (the manager)", also=("maya@example.com",)))),
))


def test_a_form_keeps_normalised_values() -> None:
    result = read_form(FORM, {"what": "Call", "due": "next friday", "target": "62k",
                              "count": "1,200", "owner": "sam@example.com"}, READING)
    assert result == {"what": "Call", "due": "2026-12-04", "target": "62000", "count": "1200",
                      "owner": "rep"}


@pytest.mark.parametrize(("typed", "owner"), [
    ("rep", "rep"), ("manager", "manager"), ("Sam", "rep"), ("sam rep", "rep"),
    ("MAYA@example.com", "manager"), ("me", "manager")])
def test_an_owner_is_named_by_name_email_or_role(typed: str, owner: str) -> None:
    result = read_form(FORM, {"what": "x", "due": "2026-12-15", "target": "1", "owner": typed},
                       READING)
    assert not isinstance(result, Retry)
    assert result["owner"] == owner


# Property: no input of any shape makes reading an answer raise ------------------------------

_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(categories=("Nd", "No", "Nl")), max_size=6),
    st.sampled_from(["²", "①", "٣", "1e309", "nan", "-0", "62k", "14%", "next friday",
                     "in 99999999999 days", "Dec 32", "9" * 4400, "1" + "0" * 400, "\x00",
                     "\ud800", "$", ",", "(suggested)", "Yes", "y", " "]),
)
# The prompts every flow shows, in their shapes: choices, many-field and one-field forms.
_prompt = st.sampled_from([
    Message("pick", choices=(*MODELS, Choice("yes", "Yes"), Choice("no", "No — revise"))),
    Message("fill", form=FORM),
    *(Message("one", form=Form("one", (Field("value", "Value", kind),)))
      for kind in ("text", "long_text", "date", "number", "integer")),
    Message("nothing to answer"),
])
_field_id = st.sampled_from(["what", "due", "target", "count", "owner", "value", "other"])
_input = st.one_of(
    st.builds(Say, _text), st.builds(Choose, _text),
    st.builds(Submit, st.dictionaries(_field_id, _text, max_size=5)),
)


def test_reading_any_answer_never_raises() -> None:
    """Any prompt, any input, any size limit: an answer or a Retry, never an exception."""
    tried: list[int] = []

    @settings(max_examples=FUZZ_CASES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(_prompt, _input, st.integers(min_value=1, max_value=2000))
    def read_anything(prompt: Message, typed: Say | Choose | Submit, limit: int) -> None:
        tried.append(1)
        result = read_answer(prompt, typed, Reading(LOCAL_NOW, limit))
        assert isinstance(result, Retry | str | dict)

    read_anything()
    assert len(tried) >= FUZZ_CASES
