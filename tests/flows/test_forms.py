"""Form answers: required fields, size limit, Unicode clean-up, dates and the fallback."""

from __future__ import annotations

import pytest

from flows import training
from flows.engine import Context, FlowState, Reading, Retry, advance, clean_text, read_form
from flows.messages import Choose, Field, Form, Say, Submit
from tests.flows.conftest import NOW

READING = Reading(NOW, 2000)

FORM = Form("f", (
    Field("what", "What"),
    Field("note", "Note", "long_text", required=False),
    Field("when", "When", "date"),
))


def at_tell(ctx: Context) -> FlowState:
    return training.start(ctx.playbook, ctx, {"session_id": 1, "rep_name": "Sam",
                                              "rep_ref": "@sam", "focus": "Closing"}).state


def test_missing_required_fields_are_all_named(ctx: Context) -> None:
    state = at_tell(ctx)
    out = advance(training.build(ctx.playbook), state, Submit({"steps": "1, 2, 3"}), ctx)
    assert out.state == state
    assert out.messages[0].text == (
        "Please fix: Why it matters is required; What good looks like (the criteria) is required."
    )


def test_blank_after_clean_up_counts_as_missing() -> None:
    result = read_form(FORM, {"what": " \u200b\x00 ", "when": "2026-03-10"}, READING)
    assert isinstance(result, Retry)
    assert "What is required" in result.problem


def test_optional_fields_may_be_left_out() -> None:
    assert read_form(FORM, {"what": "x", "when": "2026-03-10"}, READING) == {
        "what": "x", "when": "2026-03-10"}


def test_a_10_kb_answer_is_rejected(ctx: Context) -> None:
    state = at_tell(ctx)
    huge = "word " * 2048
    out = advance(training.build(ctx.playbook), state,
                  Submit({"steps": huge, "why": "w", "good": "g"}), ctx)
    assert out.state == state
    assert "The steps, in order is 10,239 characters; please keep it under 2,000" in (
        out.messages[0].text)


def test_an_answer_at_the_limit_is_fine() -> None:
    result = read_form(FORM, {"what": "x" * 2000, "when": "2026-03-10"}, READING)
    assert not isinstance(result, Retry)


@pytest.mark.parametrize(("raw", "clean"), [
    ("Cafe\u0301", "Café"),                       # NFC: e + combining acute -> é
    ("a\x00b\x07c\x1bd", "abcd"),                 # C0 controls dropped
    ("left\u202eright", "leftright"),             # bidi override dropped
    ("zero\u200bwidth", "zerowidth"),             # zero-width space dropped
    ("line one\nline\ttwo", "line one\nline\ttwo"),  # newlines and tabs kept
    ("Great call \U0001f44d\U0001f3fd \U0001f389",   # emoji and skin tones kept
     "Great call \U0001f44d\U0001f3fd \U0001f389"),
    ("\U0001f469\u200d\U0001f4bb ok",                 # ZWJ sequence (woman technologist)
     "\U0001f469\u200d\U0001f4bb ok"),
    ("\u2764\ufe0f thanks", "\u2764\ufe0f thanks"),  # variation selector kept
    ("\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
     "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"),  # flag
    ("  padded  ", "padded"),
])
def test_odd_unicode_is_cleaned(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_cleaned_unicode_is_what_the_flow_records(ctx: Context) -> None:
    run = advance(training.build(ctx.playbook), at_tell(ctx),
                  Submit({"steps": "Cafe\u0301 \x00first \U0001f469\u200d\U0001f4bb",
                          "why": "ok", "good": "ok"}), ctx)
    assert run.state.data["tell"]["steps"] == "Café first \U0001f469\u200d\U0001f4bb"


@pytest.mark.parametrize(("when", "problem"), [
    ("soon-ish", "When must be a date, like 2026-12-15"),
    ("2026-02-30", "When must be a date, like 2026-12-15"),
    ("2", "When must be a date, like 2026-12-15"),
])
def test_what_is_not_a_date_is_refused(when: str, problem: str) -> None:
    result = read_form(FORM, {"what": "x", "when": when}, READING)
    assert isinstance(result, Retry)
    assert problem in result.problem


def test_unknown_fields_are_refused() -> None:
    result = read_form(FORM, {"what": "x", "when": "2026-03-10", "extra": "y"}, READING)
    assert isinstance(result, Retry)
    assert "no field extra" in result.problem


def test_free_text_to_a_many_field_form_asks_for_the_form(ctx: Context) -> None:
    state = at_tell(ctx)
    out = advance(training.build(ctx.playbook), state, Say("just do it"), ctx)
    assert out.state == state
    assert out.messages[0].text.startswith("Please fill in the form: The steps, in order")
    button = advance(training.build(ctx.playbook), state, Choose("yes"), ctx)
    assert button.state == state
    assert button.messages[0].text == "This question needs the form filled in, not a choice."


def test_a_retry_repeats_the_question(ctx: Context) -> None:
    state = at_tell(ctx)
    out = advance(training.build(ctx.playbook), state, Submit({}), ctx)
    assert len(out.messages) == 2
    assert out.messages[1].step == "tell"
    assert out.messages[1].flow == "training"
    assert out.messages[1].form is not None


def test_a_field_left_out_keeps_the_value_the_form_shows() -> None:
    from flows.engine import read_form
    from flows.messages import Field, Form
    from tests.flows.test_reading import READING

    form = Form("f", (Field("metric", "Metric", value="bookings"),
                      Field("note", "Note", required=False, value="kept"),
                      Field("when", "When", "date")))
    assert read_form(form, {"when": "2026-04-07"}, READING) == {
        "metric": "bookings", "note": "kept", "when": "2026-04-07"}
    # Sent empty on purpose: an optional field is cleared, a required one is asked for.
    assert read_form(form, {"when": "2026-04-07", "note": ""}, READING) == {
        "metric": "bookings", "when": "2026-04-07"}
    problem = read_form(form, {"when": "2026-04-07", "metric": ""}, READING)
    assert "Metric is required" in getattr(problem, "problem", "")
