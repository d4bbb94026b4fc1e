"""Property tests for every reader of the model's output: any text or JSON at all gives a
clean value or Rejected (never an exception), and what is accepted keeps its promises:
known question ids only, no number the input did not hold, quotes the rep wrote."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.llm.answers import (
    Draft,
    Rejected,
    figure_numbers,
    json_of,
    numbers_in,
    read_blockers,
    read_narrative,
    read_questions,
    read_summary,
    read_triage,
)
from bot.llm.blockers import BLOCKER_TAGS, read_tagged
from bot.playbook_loader import load_playbook
from tests.fuzz import count, fuzz

IDS = tuple(load_playbook().chart.questions)
KNOWN = frozenset({"14", "25", "62000"})
TODAY = date(2026, 12, 1)
FIGURES = {"coverage": 0.75, "done": 7, "overdue": 3, "trend": [12, 15.5]}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=5),
    max_leaves=30)
shaped = st.fixed_dictionaries({}, optional={
    "answers": st.lists(st.fixed_dictionaries({}, optional={
        "question": st.sampled_from(IDS) | st.text(max_size=20), "answer": st.sampled_from(
            ["yes", "no", "maybe", True, None]), "reason": st.text(max_size=60)}), max_size=6),
    "questions": st.lists(st.text(max_size=60), max_size=6) | json_values,
    "summary": st.text(max_size=80) | json_values,
    "actions": st.lists(st.fixed_dictionaries({}, optional={
        "description": st.text(max_size=40), "owner": st.sampled_from(["rep", "manager", "x"]),
        "due": st.dates().map(str) | st.text(max_size=12)}), max_size=4),
    "sentences": st.lists(st.text(max_size=80), max_size=6),
    "blockers": st.lists(st.fixed_dictionaries({}, optional={
        "tag": st.sampled_from(["tools", "leads", "nope"]), "quote": st.text(max_size=30)}),
        max_size=4),
})
texts = (st.text(max_size=400) | json_values.map(json.dumps) | shaped.map(json.dumps)
         | shaped.map(lambda d: f"Here you go:\n```json\n{json.dumps(d)}\n```\nAnything else?"))


def all_readers(text: str) -> list[Any]:
    return [json_of(text), read_triage(text, IDS, KNOWN), read_questions(text, KNOWN),
            read_summary(text, KNOWN, TODAY), read_narrative(text, FIGURES),
            read_blockers(text, "the CRM was down and leads are thin", ("tools", "leads")),
            read_tagged(text, "the CRM was down and leads are thin")]


@fuzz(0.5)
@given(texts)
def test_no_reader_raises_on_any_text(text: str) -> None:
    count("model answer readers: any text")
    results = all_readers(text)
    triage = results[1]
    if not isinstance(triage, Rejected):
        assert set(triage) <= set(IDS)
        assert all(numbers_in(reason) <= KNOWN for _, reason in triage.values())
    questions = results[2]
    if not isinstance(questions, Rejected):
        assert 1 <= len(questions) <= 5 and all(numbers_in(q) <= KNOWN for q in questions)
    summary = results[3]
    if isinstance(summary, Draft):
        assert numbers_in(summary.summary) <= KNOWN
        assert all(TODAY <= a.due <= TODAY + timedelta(days=60) for a in summary.actions)
    narrative = results[4]
    if not isinstance(narrative, Rejected):
        assert all(numbers_in(s, words=True) <= figure_numbers(FIGURES) for s in narrative)
    blockers = results[5]
    if not isinstance(blockers, Rejected):
        assert all(b.tag in ("tools", "leads") for b in blockers)
        assert all(" ".join(b.quote.split()).casefold() in
                   "the crm was down and leads are thin" for b in blockers)
    tagged = results[6]
    if not isinstance(tagged, Rejected):
        assert all(t.tag in BLOCKER_TAGS and t.quote.casefold() in
                   "the crm was down and leads are thin" for t in tagged)


reasons = st.text(alphabet=st.characters(categories=("L", "Zs"), max_codepoint=0x2FF),
                  min_size=1, max_size=60).filter(str.strip)
proposal = st.tuples(st.sampled_from(IDS), st.booleans(), reasons)


@fuzz(0.3)
@given(st.lists(proposal, min_size=1, max_size=25))
def test_a_valid_triage_answer_is_read_whole(proposals: list[tuple[str, bool, str]]) -> None:
    count("read_triage: valid answers")
    text = json.dumps({"answers": [{"question": q, "answer": "yes" if a else "no",
                                    "reason": r} for q, a, r in proposals]})
    read = read_triage(text, IDS, KNOWN)
    assert not isinstance(read, Rejected), read
    first: dict[str, tuple[bool, str]] = {}
    for q, a, r in proposals:
        first.setdefault(q, (a, " ".join(r.split())))
    assert read == first


@fuzz(0.3)
@given(st.lists(proposal, min_size=0, max_size=5), st.text(min_size=1, max_size=20)
       .filter(lambda s: s.strip() and s.strip() not in IDS), st.integers(0, 5))
def test_one_unknown_question_id_rejects_the_answer(proposals: list[tuple[str, bool, str]],
                                                    made_up: str, where: int) -> None:
    count("read_triage: unknown ids")
    answers = [{"question": q, "answer": "yes" if a else "no", "reason": r}
               for q, a, r in proposals]
    answers.insert(min(where, len(answers)),
                   {"question": made_up, "answer": "yes", "reason": "because"})
    read = read_triage(json.dumps({"answers": answers}), IDS, KNOWN)
    assert isinstance(read, Rejected) and read.outcome in ("unknown_ids", "wrong_shape")


@fuzz(0.3)
@given(st.lists(proposal, min_size=1, max_size=5), st.integers(0, 10**9)
       .filter(lambda n: str(n) not in KNOWN), st.sampled_from(["{:,}", "{}", "{}%", "{}.5"]))
def test_a_number_not_in_the_input_rejects_the_answer(proposals: list[tuple[str, bool, str]],
                                                      number: int, shape: str) -> None:
    count("read_triage: invented numbers")
    q, a, r = proposals[0]
    proposals[0] = (q, a, f"{r} about {shape.format(number)} deals")
    text = json.dumps({"answers": [{"question": q, "answer": "yes" if a else "no",
                                    "reason": r} for q, a, r in proposals]})
    read = read_triage(text, IDS, KNOWN)
    assert isinstance(read, Rejected) and read.outcome == "invented_numbers"


@fuzz(0.3)
@given(st.one_of(
    st.tuples(st.integers(-10**15, 10**15), st.sampled_from(["{}", "{:,}", "{}%"])),
    st.tuples(st.floats(-1e9, 1e9, allow_nan=False), st.sampled_from(["{:.1f}", "{:,.2f}"]))))
def test_numbers_are_found_however_they_are_written(case: tuple[float, str]) -> None:
    count("numbers_in")
    value, shape = case
    written = shape.format(value)
    expected = abs(float(written.replace(",", "").rstrip("%")))
    found = numbers_in(f"about {written} this week")
    assert len(found) == 1 and float(found.pop()) == expected


@fuzz(0.3)
@given(st.lists(st.tuples(st.text(alphabet="abcdefgh ", max_size=30),
                          st.integers(0, 120)), min_size=1, max_size=6))
def test_every_number_of_a_kept_sentence_is_a_figure(parts: list[tuple[str, int]]) -> None:
    count("read_narrative: numbers")
    sentences = [f"{words} {n} items." for words, n in parts]
    read = read_narrative(json.dumps({"sentences": sentences}), FIGURES)
    known = figure_numbers(FIGURES)
    kept = [s for s, (_, n) in zip(sentences, parts, strict=True) if str(n) in known]
    if kept:
        assert read == [" ".join(s.split()) for s in kept][:5]
    else:
        assert isinstance(read, Rejected)


def test_figures_cover_shares_as_percentages() -> None:
    assert {"0.75", "75", "7", "3", "12", "15.5", "16"} <= figure_numbers(FIGURES)


def test_a_draft_keeps_only_actions_due_soon() -> None:
    text = json.dumps({"summary": "Agreed to role-play discovery; win rate 14 vs 25.",
                       "actions": [
                           {"description": "Role-play", "owner": "rep", "due": "2026-12-08"},
                           {"description": "Old", "owner": "rep", "due": "2025-01-01"},
                           {"description": "Call 3 accounts", "owner": "rep",
                            "due": "2026-12-09"}]})
    draft = read_summary(text, KNOWN, TODAY)
    assert isinstance(draft, Draft)
    assert [a.description for a in draft.actions] == ["Role-play"]
