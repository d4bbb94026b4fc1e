"""The triage scoring script runs against its held-in cases through the fake server, and
its figures follow from the replies it replays (one case per chart leaf): today
hand-written stand-ins, which the report's first line says."""

from __future__ import annotations

import json

from bench.bench_triage import CASES, RECORDED, case_path, replay, report
from bot.playbook_loader import load_playbook


async def test_the_triage_score_replays_every_case() -> None:
    chart = load_playbook().chart
    cases = json.loads(CASES.read_text())["cases"]
    assert {c["leaf"] for c in cases} == set(chart.leaves)
    scores = await replay(chart, cases, json.loads(RECORDED.read_text())["replies"])
    by_case = {s.case: s for s in scores}
    assert by_case["coaching"].reached == "COACHING"
    assert by_case["coaching"].right == by_case["coaching"].on_path == 11
    assert by_case["escalate_systemic"].reached == "rejected: invented_numbers"
    assert by_case["no_action"].reached == "rejected: invalid_json"
    assert by_case["training"].reached == "JOB_AID"  # a recorded mistake counts against it
    recorded = json.loads(RECORDED.read_text())
    assert recorded["source"] == "stand-in"  # no model was reachable to record them
    printed = report(scores, recorded).splitlines()
    assert printed[0].startswith("Replayed replies: HAND-WRITTEN STAND-INS")
    assert "leaves reached: 16/21" in printed[-1]
    assert report(scores, {"source": "gpt-4o-mini at https://api.openai.com/v1"}).startswith(
        "Replayed replies: recorded from gpt-4o-mini")


def test_a_case_path_ends_at_its_leaf() -> None:
    chart = load_playbook().chart
    assert case_path(chart, "COACHING")["Q11_used_often"] is True
