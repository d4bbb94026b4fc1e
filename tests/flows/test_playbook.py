"""The playbook: errors name the key path, the chart's ids are fixed, merging rules."""

from __future__ import annotations

from typing import Any

import pytest

from flows.playbook import PlaybookError, build_playbook, check_fixed_chart, dotted, merge


def test_default_playbook_builds(raw: dict[str, Any]) -> None:
    playbook = build_playbook(raw)
    assert playbook.focus_label("prospecting") == "Prospecting"
    assert playbook.focus_label("unknown_area") == "unknown_area"
    assert [a.id for a in playbook.checkin.activities] == ["calls", "meetings", "proposals"]
    assert playbook.max_answer_chars == 2000
    forecast = next(m for m in playbook.meetings if m.id == "forecast_call")
    assert forecast.accelerate is not None and forecast.accelerate.near == "quarter_end"
    assert {m.id: m.prep for m in playbook.meetings if m.id in (
        "pipeline_review", "forecast_call", "coaching_session")} == {
        "pipeline_review": "changes", "forecast_call": "team", "coaching_session": "rep"}
    assert (playbook.rhythm.no_one_on_one_days, playbook.rhythm.quiet_start,
            playbook.rhythm.quiet_end) == (14, "20:00", "08:00")


def test_the_rhythm_section_is_optional(raw: dict[str, Any]) -> None:
    del raw["rhythm"]
    assert build_playbook(raw).rhythm.prep_hours_before == 2


def test_a_bad_rhythm_names_its_path(raw: dict[str, Any]) -> None:
    raw["meetings"][2]["rhythm"] = "hourly"
    with pytest.raises(PlaybookError) as caught:
        build_playbook(raw)
    assert caught.value.path == ("meetings", 2, "rhythm")
    assert str(caught.value).startswith("meetings.2.rhythm: must be one of daily")


@pytest.mark.parametrize(("change", "path"), [
    (lambda r: r["focus_areas"].append({"id": "prospecting", "label": "Again"}),
     ("focus_areas", 10, "id")),
    (lambda r: r["focus_areas"][0].update(id="Not Snake"), ("focus_areas", 0, "id")),
    (lambda r: r["meetings"][0].update(time="9am"), ("meetings", 0, "time")),
    (lambda r: r["meetings"][0].update(prep="tree"), ("meetings", 0, "prep")),
    (lambda r: r["meetings"][2]["accelerate"].update(weeks=9),
     ("meetings", 2, "accelerate", "weeks")),
    (lambda r: r["checkin"].update(activities=[]), ("checkin", "activities")),
    (lambda r: r["sessions"].update(max_answer_chars=5), ("sessions", "max_answer_chars")),
    (lambda r: r["rhythm"].update(no_one_on_one_days=0), ("rhythm", "no_one_on_one_days")),
    (lambda r: r["rhythm"]["quiet_hours"].update(start="8pm"),
     ("rhythm", "quiet_hours", "start")),
    (lambda r: r["rhythm"].update(prep_hours_before="2"), ("rhythm", "prep_hours_before")),
    (lambda r: r["sessions"].update(managers_may_add_reports="yes"),
     ("sessions", "managers_may_add_reports")),
    (lambda r: r["chart"]["questions"]["Q06_knows_why"].update(yes="NOWHERE"),
     ("chart", "questions", "Q06_knows_why", "yes")),
    (lambda r: r["chart"]["leaves"]["JOB_FIT"].update(category="fired"),
     ("chart", "leaves", "JOB_FIT", "category")),
    (lambda r: r["chart"].update(start="DEFINE_GAP"), ("chart", "start")),
    (lambda r: r["digest"]["systemic"].update(min_reps=1), ("digest", "systemic", "min_reps")),
    (lambda r: r.update(focus_areas="prospecting"), ("focus_areas",)),
])
def test_errors_name_the_key_path(raw: dict[str, Any], change: Any, path: tuple[Any, ...]) -> None:
    change(raw)
    with pytest.raises(PlaybookError) as caught:
        build_playbook(raw)
    assert caught.value.path == path
    assert str(caught.value).startswith(dotted(path) + ": ")


def test_a_loop_in_the_chart_is_refused(raw: dict[str, Any]) -> None:
    raw["chart"]["questions"]["Q02_worth_pursuing"]["yes"] = "Q01_gap_specific"
    with pytest.raises(PlaybookError, match="loop"):
        build_playbook(raw)


def test_an_unreachable_leaf_is_refused(raw: dict[str, Any]) -> None:
    raw["chart"]["questions"]["Q13_simpler_fix"]["yes"] = "TRAINING"
    with pytest.raises(PlaybookError) as caught:
        build_playbook(raw)
    assert caught.value.path == ("chart", "leaves", "JOB_AID")


def test_fixed_chart_accepts_rewording(default_raw: dict[str, Any]) -> None:
    override = {"chart": {"questions": {"Q06_knows_why": {"text": "Does Sam see why?"}},
                          "leaves": {"TRAINING": {"next": "Book a ride-along."}}}}
    merged = merge(default_raw, override)
    check_fixed_chart(default_raw, merged)
    playbook = build_playbook(merged)
    assert playbook.chart.questions["Q06_knows_why"].text == "Does Sam see why?"
    assert playbook.chart.questions["Q06_knows_why"].yes == "Q07_obstacle_present"
    assert playbook.chart.leaves["TRAINING"].next == "Book a ride-along."


@pytest.mark.parametrize(("override", "path"), [
    pytest.param({"questions": {"Q01_gap_specific": {"yes": "Q03_standard_achievable"}}},
                 ("chart", "questions", "Q01_gap_specific", "yes"), id="changed-branch"),
    pytest.param({"leaves": {"JOB_FIT": {"category": "training"}}},
                 ("chart", "leaves", "JOB_FIT", "category"), id="changed-category"),
    pytest.param({"questions": {"Q99_new": {"text": "?", "yes": "NO_ACTION", "no": "NO_ACTION"}}},
                 ("chart", "questions", "Q99_new"), id="new-question"),
    pytest.param({"start": "Q02_worth_pursuing"}, ("chart", "start"), id="changed-start"),
])
def test_fixed_chart_refuses_changed_ids_and_branches(
    default_raw: dict[str, Any], override: dict[str, Any], path: tuple[str, ...]
) -> None:
    with pytest.raises(PlaybookError) as caught:
        check_fixed_chart(default_raw, merge(default_raw, {"chart": override}))
    assert caught.value.path == path


def test_merge_replaces_lists_and_merges_mappings() -> None:
    base: dict[str, Any] = {"a": {"x": 1, "y": {"deep": 1, "keep": 2}}, "items": [1, 2, 3],
                            "s": "old"}
    override = {"a": {"y": {"deep": 9}, "z": 3}, "items": [7], "s": "new", "extra": True}
    assert merge(base, override) == {
        "a": {"x": 1, "y": {"deep": 9, "keep": 2}, "z": 3},
        "items": [7], "s": "new", "extra": True,
    }
    assert base["items"] == [1, 2, 3]
    assert base["a"]["y"] == {"deep": 1, "keep": 2}


def test_a_replaced_activity_list_is_used_whole(default_raw: dict[str, Any]) -> None:
    merged = merge(default_raw, {"checkin": {"activities": [{"id": "demos", "label": "Demos"}]}})
    playbook = build_playbook(merged)
    assert [a.id for a in playbook.checkin.activities] == ["demos"]
    assert playbook.checkin.day == "fri"


def test_dotted_path() -> None:
    assert dotted(("meetings", 0, "rhythm")) == "meetings.0.rhythm"
    assert dotted(()) == "(top level)"


def test_every_leaf_needs_a_label(raw: dict[str, Any]) -> None:
    del raw["chart"]["leaves"]["COACHING_DISCUSSION"]["label"]
    with pytest.raises(PlaybookError) as caught:
        build_playbook(raw)
    assert caught.value.path == ("chart", "leaves", "COACHING_DISCUSSION", "label")


def test_a_leaf_label_may_be_reworded(raw: dict[str, Any]) -> None:
    raw["chart"]["leaves"]["NO_ACTION"]["label"] = "Not now"
    assert build_playbook(raw).leaf_label("NO_ACTION") == "Not now"
