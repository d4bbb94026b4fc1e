# ruff: noqa: E501  (the METHOD tables below are copied verbatim, long lines and all)
"""The solution chart against METHOD §4, copied literally: ids, branches, leaves, categories."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from flows.chart import Chart, MissingAnswer, answers_on_path, next_node, parse_answer, walk
from flows.playbook import Playbook

# Copied verbatim from METHOD §4. A changed playbook or a changed METHOD fails here.
METHOD_QUESTIONS = r"""
| Q01_gap_specific | Can you state the gap as a specific, observable result or behaviour, with numbers? | no → **DEFINE_GAP**; yes → Q02 |
| Q02_worth_pursuing | Is closing this gap worth your time (would anything important happen if you left it)? | no → **NO_ACTION**; yes → Q03 |
| Q03_standard_achievable | Has anyone in comparable conditions met this standard? | no → **SYSTEMIC_REDESIGN**; yes → Q04 |
| Q04_knows_gap | Does the rep know their performance is below standard? | no → **FEEDBACK**; yes → Q05 |
| Q05_knows_what | Does the rep know exactly what is expected (what, how much, by when, how well)? | no → **CLARIFY_EXPECTATIONS**; yes → Q06 |
| Q06_knows_why | Does the rep know why it matters? | no → **EXPLAIN_WHY**; yes → Q07 |
| Q07_obstacle_present | Is something outside the rep's control in the way (tools, leads, territory, approvals, time)? | yes → Q07a; no → Q08 |
| Q07a_obstacle_manager_fixable | Can you remove it within your own authority? | yes → **REMOVE_OBSTACLE**; no → **ESCALATE_SYSTEMIC** |
| Q08_personal_problem | Is a personal issue (health, family, stress) affecting performance? | yes → **REFER_PERSONAL**; no → Q09 |
| Q09_could_do_if_required | Could the rep do it correctly right now if their job depended on it? | no → Q10; yes → Q14 |
| Q10_did_it_before | Has the rep ever done it correctly? | yes → Q11; no → Q12 |
| Q11_used_often | Does the rep use this skill often (weekly or more)? | no → **PRACTICE**; yes → **COACHING** |
| Q12_can_learn | Can the rep learn it (aptitude, potential)? | no → **JOB_FIT**; yes → Q13 |
| Q13_simpler_fix | Would a simpler fix do (checklist, template, job aid)? | yes → **JOB_AID**; no → **TRAINING** |
| Q14_other_priority | Does the rep believe something else is more important? | yes → **SET_PRIORITIES**; no → Q15 |
| Q15_doubts_method | Does the rep think the expected way won't work, or theirs is better? | yes → **ADDRESS_BELIEF**; no → Q16 |
| Q16_punished_for_doing | Does doing it lead to something unpleasant for the rep? | yes → **REMOVE_PUNISHMENT**; no → Q17 |
| Q17_rewarded_for_not_doing | Does not doing it (or the easier alternative) pay off for the rep? | yes → **REMOVE_REWARD**; no → Q18 |
| Q18_fears_consequence | Does the rep expect something bad to happen if they do it? | yes → Q18a; no → Q19 |
| Q18a_fear_is_real | Does that bad outcome actually happen? | yes → **REMOVE_PUNISHMENT**; no → **ADDRESS_FEAR** |
| Q19_consequences_meaningful | Are there meaningful consequences for doing it and for not doing it? | no → **ARRANGE_CONSEQUENCES**; yes → **COACHING_DISCUSSION** |
"""
METHOD_LEAVES = r"""
| DEFINE_GAP | diagnose | back to ROAM to name a measurable gap |
| NO_ACTION | none | record the decision, end the session politely |
| SYSTEMIC_REDESIGN, ESCALATE_SYSTEMIC | systemic | escalation record for the leader (owner, impact, evidence); shows in the digest |
| FEEDBACK, CLARIFY_EXPECTATIONS, EXPLAIN_WHY | expectations | feedback script / the Tell stage of field training; quick plan with a check-in date |
| REMOVE_OBSTACLE | obstacle | manager-owned action item |
| REFER_PERSONAL | personal | supportive conversation and HR/EAP referral; no skills coaching; private note only |
| TRAINING, JOB_AID | training | field training, Tell–Show–Do–Review (§5) |
| PRACTICE, COACHING | coaching | sales coaching, Engage–Practice–Do–Review (§5) |
| JOB_FIT | job fit | HR process note; private |
| SET_PRIORITIES | priorities | plan with an explicit priority order and time blocks |
| ADDRESS_BELIEF, ADDRESS_FEAR | thinking | facilitative discussion with evidence (top-performer data), agree a trial |
| REMOVE_PUNISHMENT, REMOVE_REWARD, ARRANGE_CONSEQUENCES | consequences | manager or leader action; escalate when pay or policy drives it |
| COACHING_DISCUSSION | choice | accountability talk: agree a problem exists, alternatives, agreed action, follow-up, reinforce |
"""


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def _method_questions() -> dict[str, tuple[str, str, str]]:
    """id -> (question text, yes target, no target), short ids like Q02 resolved."""
    rows = [_cells(r) for r in METHOD_QUESTIONS.strip().splitlines()]
    ids = [r[0] for r in rows]

    def resolve(target: str) -> str:
        target = target.strip("* ")
        if not target.startswith("Q"):
            return target
        matches = [i for i in ids if i.split("_")[0] == target]
        assert len(matches) == 1, target
        return matches[0]

    table = {}
    for qid, text, branches in rows:
        answers = dict(part.strip().split(" → ") for part in branches.split(";"))
        table[qid] = (text, resolve(answers["yes"]), resolve(answers["no"]))
    return table


def _method_leaves() -> dict[str, str]:
    """leaf id -> category."""
    table = {}
    for row in METHOD_LEAVES.strip().splitlines():
        leaves, category, _ = _cells(row)
        for leaf in leaves.split(","):
            table[leaf.strip()] = category
    return table


QUESTIONS = _method_questions()
LEAVES = _method_leaves()


def test_method_table_parsed_as_expected() -> None:
    assert len(QUESTIONS) == 21
    assert len(LEAVES) == 21
    assert QUESTIONS["Q07_obstacle_present"][1:] == (
        "Q07a_obstacle_manager_fixable", "Q08_personal_problem"
    )
    assert QUESTIONS["Q18a_fear_is_real"][1:] == ("REMOVE_PUNISHMENT", "ADDRESS_FEAR")


def test_question_ids_and_branches_are_exactly_method(playbook: Playbook) -> None:
    chart = playbook.chart
    assert chart.start == "Q01_gap_specific"
    assert list(chart.questions) == list(QUESTIONS)
    for qid, (_, yes, no) in QUESTIONS.items():
        assert (chart.questions[qid].yes, chart.questions[qid].no) == (yes, no), qid


def test_default_wording_is_method_wording(playbook: Playbook) -> None:
    for qid, (text, _, _) in QUESTIONS.items():
        assert playbook.chart.questions[qid].text == text


def test_leaf_ids_and_categories_are_exactly_method(playbook: Playbook) -> None:
    assert set(playbook.chart.leaves) == set(LEAVES)
    for leaf_id, category in LEAVES.items():
        assert playbook.chart.leaves[leaf_id].category == category


def paths(chart: Chart, node: str, taken: tuple[tuple[str, bool], ...] = ()
          ) -> Iterator[tuple[str, dict[str, bool]]]:
    """Every (leaf, answers) pair of the tree, by enumerating root-to-leaf paths."""
    if chart.is_leaf(node):
        yield node, dict(taken)
        return
    question = chart.questions[node]
    for answer in (True, False):
        yield from paths(chart, question.branch(answer), (*taken, (node, answer)))


@pytest.mark.parametrize("leaf_id", sorted(LEAVES))
def test_every_leaf_is_reached_with_its_category(playbook: Playbook, leaf_id: str) -> None:
    found = [answers for leaf, answers in paths(playbook.chart, playbook.chart.start)
             if leaf == leaf_id]
    assert found, f"no answer set reaches {leaf_id}"
    for answers in found:
        result = walk(playbook.chart, answers)
        assert result.leaf == leaf_id
        assert result.category == LEAVES[leaf_id]
        assert dict(result.path) == answers


def test_walk_stops_at_the_first_leaf(playbook: Playbook) -> None:
    result = walk(playbook.chart, {"Q01_gap_specific": False, "Q02_worth_pursuing": True})
    assert result.leaf == "DEFINE_GAP"
    assert result.path == (("Q01_gap_specific", False),)
    assert result.as_json()["path"] == [{"question": "Q01_gap_specific", "answer": "no"}]


def test_missing_answer_names_the_question_needed(playbook: Playbook) -> None:
    with pytest.raises(MissingAnswer) as caught:
        walk(playbook.chart, {"Q01_gap_specific": True, "Q02_worth_pursuing": True})
    assert caught.value.question.id == "Q03_standard_achievable"
    assert "Q03_standard_achievable" in str(caught.value)
    assert caught.value.path == (("Q01_gap_specific", True), ("Q02_worth_pursuing", True))


def test_next_node_and_stale_answers(playbook: Playbook) -> None:
    chart = playbook.chart
    assert next_node(chart, {}) == "Q01_gap_specific"
    assert next_node(chart, {"Q01_gap_specific": False}) == "DEFINE_GAP"
    stale = {"Q01_gap_specific": False, "Q02_worth_pursuing": True}
    assert answers_on_path(chart, stale) == {"Q01_gap_specific": False}


@pytest.mark.parametrize(("raw", "expected"), [
    (True, True), ("yes", True), (" Y ", True), ("1", True),
    (False, False), ("no", False), ("n", False), ("0", False),
    ("maybe", None), (None, None), (3, None),
])
def test_parse_answer(raw: object, expected: bool | None) -> None:
    assert parse_answer(raw) is expected


def test_ids_are_stable_words() -> None:
    for qid in QUESTIONS:
        assert re.fullmatch(r"Q\d\da?_[a-z_]+", qid)
