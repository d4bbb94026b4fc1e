"""ROAM: the latest period, gaps, the team benchmark and the verdict."""

from __future__ import annotations

from datetime import date

import pytest

from flows import roam
from flows.roam import Line, MetricRow

JAN = (date(2026, 1, 1), date(2026, 1, 31))
FEB = (date(2026, 2, 1), date(2026, 2, 28))
MAR = (date(2026, 3, 1), date(2026, 3, 31))
APR = (date(2026, 4, 1), date(2026, 4, 30))
TODAY = date(2026, 3, 10)


def row(metric: str, kind: str, period: tuple[date, date], target: float, actual: float
        ) -> MetricRow:
    return MetricRow(metric, kind, period[0], period[1], target, actual)


def test_snapshot_picks_the_latest_period_started_by_today() -> None:
    rows = [row("bookings", "result", JAN, 100, 50), row("bookings", "result", MAR, 100, 80),
            row("bookings", "result", FEB, 100, 70), row("bookings", "result", APR, 100, 1)]
    snap = roam.snapshot(rows, TODAY)
    assert snap["period"] == ["2026-03-01", "2026-03-31"]
    assert [x["actual"] for x in snap["lines"]] == [80]


def test_results_come_before_activity() -> None:
    rows = [row("calls", "activity", MAR, 100, 100), row("bookings", "result", MAR, 100, 80)]
    assert [x["metric"] for x in roam.snapshot(rows, TODAY)["lines"]] == ["bookings", "calls"]


def test_gap_and_percent() -> None:
    line = Line("bookings", "result", 200, 150, None)
    assert line.gap == -50
    assert line.gap_pct == pytest.approx(-25.0)
    assert line.below
    assert Line("x", "result", 0, 5, None).gap_pct is None
    assert not Line("x", "result", 10, 10, None).below


def test_team_benchmark_is_the_team_average_for_the_same_period() -> None:
    mine = [row("calls", "activity", MAR, 100, 60), row("bookings", "result", MAR, 100, 80)]
    team = [row("calls", "activity", MAR, 100, 90), row("calls", "activity", MAR, 100, 110),
            row("calls", "activity", FEB, 100, 1000)]
    snap = roam.snapshot(mine, TODAY, team)
    calls = next(x for x in snap["lines"] if x["metric"] == "calls")
    bookings = next(x for x in snap["lines"] if x["metric"] == "bookings")
    assert calls["benchmark"] == 100
    assert bookings["benchmark"] is None


@pytest.mark.parametrize(("rows", "team", "expected"), [
    ([], [], "no_data"),
    ([row("bookings", "result", MAR, 100, 120), row("calls", "activity", MAR, 100, 50)],
     [], "on_target"),
    ([row("bookings", "result", MAR, 100, 80), row("calls", "activity", MAR, 100, 60)],
     [], "activity"),
    ([row("bookings", "result", MAR, 100, 80), row("calls", "activity", MAR, 100, 120)],
     [row("calls", "activity", MAR, 100, 200)], "activity"),
    ([row("bookings", "result", MAR, 100, 80), row("calls", "activity", MAR, 100, 120)],
     [row("calls", "activity", MAR, 100, 125)], "methodology"),
    ([row("bookings", "result", MAR, 100, 80)], [], "results_lag"),
    ([row("calls", "activity", MAR, 100, 80)], [], "no_results"),
])
def test_verdicts(rows: list[MetricRow], team: list[MetricRow], expected: str) -> None:
    assert roam.snapshot(rows, TODAY, team)["verdict"] == expected


def test_describe_shows_the_numbers() -> None:
    rows = [row("bookings", "result", MAR, 200, 150), row("calls", "activity", MAR, 100, 60)]
    text = roam.describe(roam.snapshot(rows, TODAY, [row("calls", "activity", MAR, 0, 90)]))
    assert "ROAM for 2026-03-01 to 2026-03-31:" in text
    assert "bookings: 150 of 200, gap -50 (-25%)" in text
    assert "calls: 60 of 100, gap -40 (-40%), team avg 90" in text
    assert roam.VERDICT_TEXT["activity"] in text


def test_describe_without_data_says_so() -> None:
    assert roam.describe(roam.snapshot([], TODAY)) == roam.VERDICT_TEXT["no_data"]
    assert roam.describe({}) == roam.VERDICT_TEXT["no_data"]


def test_fmt() -> None:
    assert roam.fmt(1200.0) == "1,200"
    assert roam.fmt(2.5) == "2.5"


def week(day: int, **counts: float) -> roam.CheckinCounts:
    return roam.CheckinCounts(date(2026, 3, day), counts)


LABELS = {"calls": "Calls made", "meetings": "Customer meetings held",
          "proposals": "Proposals sent"}


def test_check_in_counts_of_the_period_feed_activity_no_metric_covers() -> None:
    rows = [row("bookings", "result", MAR, 100, 80), row("calls", "activity", MAR, 100, 120)]
    checkins = [week(2, calls=30, proposals=2, meetings=4), week(9, proposals=3, meetings=5),
                roam.CheckinCounts(date(2026, 2, 23), {"proposals": 50})]  # February's
    snap = roam.snapshot(rows, TODAY, checkins=checkins, labels=LABELS)
    lines = {x["metric"]: x for x in snap["lines"]}
    assert set(lines) == {"bookings", "calls", "Customer meetings held", "Proposals sent"}
    assert lines["calls"]["source"] == "import"  # the imported metric, not the check-ins
    proposals = lines["Proposals sent"]
    assert (proposals["actual"], proposals["target"], proposals["gap"]) == (5, None, None)
    assert (proposals["source"], proposals["weeks"]) == ("check-in", 2)
    assert snap["verdict"] == "methodology"  # counts without a target judge nothing
    text = roam.describe(snap)
    assert "  • Proposals sent: 5 (from 2 check-ins, no target)" in text
    assert "Customer meetings held: 9 (from 2 check-ins, no target)" in text


def test_a_metric_named_like_the_activity_label_covers_it_too() -> None:
    rows = [row("Proposals sent", "activity", MAR, 10, 4)]
    snap = roam.snapshot(rows, TODAY, checkins=[week(2, proposals=3)], labels=LABELS)
    assert [x["metric"] for x in snap["lines"]] == ["Proposals sent"]
    assert snap["lines"][0]["actual"] == 4


def test_with_nothing_imported_check_ins_of_this_month_are_shown() -> None:
    snap = roam.snapshot([], TODAY, checkins=[week(2, calls=30), week(9, calls=20)])
    assert snap["period"] == ["2026-03-01", "2026-03-31"]
    assert [(x["metric"], x["actual"], x["target"]) for x in snap["lines"]] == [
        ("calls", 50, None)]
    assert snap["verdict"] == "no_results"
    assert not roam.lines_of(snap)[0].below


def test_team_peers_who_met_their_target_are_counted() -> None:
    mine = [row("bookings", "result", MAR, 100, 80)]
    team = [row("bookings", "result", MAR, 100, 100), row("bookings", "result", MAR, 90, 80),
            row("bookings", "result", FEB, 10, 1000)]
    (line,) = roam.lines_of(roam.snapshot(mine, TODAY, team))
    assert (line.peers, line.peers_met) == (2, 1)


def test_snapshots_stored_before_the_new_fields_still_read() -> None:
    old = {"period": ["2026-03-01", "2026-03-31"], "verdict": "results_lag", "lines": [
        {"metric": "bookings", "kind": "result", "target": 100, "actual": 80, "gap": -20,
         "gap_pct": -20.0, "benchmark": None}]}
    (line,) = roam.lines_of(old)
    assert (line.source, line.peers, line.peers_met) == ("import", 0, 0)
    assert "bookings: 80 of 100, gap -20 (-20%)" in roam.describe(old)
