"""ROAM diagnosis (METHOD §3): results vs objectives, then activity, then methodology.

Works on plain metric rows and check-in counts the caller loaded; shows the numbers,
never invents them (a count from check-ins has no target unless a metric gives one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flows.reading import number_text

IMPORTED = "import"
CHECKIN = "check-in"


@dataclass(frozen=True, slots=True)
class MetricRow:
    metric: str
    kind: str  # result | activity
    period_start: date
    period_end: date
    target: float
    actual: float


@dataclass(frozen=True, slots=True)
class CheckinCounts:
    """One answered check-in's activity counts (activity id -> count), by its week."""

    week: date
    counts: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Line:
    """One metric of the period. ``peers`` teammates have the metric in the same period,
    ``peers_met`` of them at or above their target (the evidence for chart Q03)."""

    metric: str
    kind: str
    target: float | None
    actual: float
    benchmark: float | None
    source: str = IMPORTED
    peers: int = 0
    peers_met: int = 0
    weeks: int = 0  # check-ins summed, for a line from check-ins

    @property
    def gap(self) -> float | None:
        return None if self.target is None else self.actual - self.target

    @property
    def gap_pct(self) -> float | None:
        if self.target is None or self.target == 0:
            return None
        return 100.0 * (self.actual - self.target) / self.target

    @property
    def below(self) -> bool:
        return self.target is not None and self.actual < self.target

    def as_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric, "kind": self.kind, "target": self.target,
            "actual": self.actual, "gap": self.gap, "gap_pct": self.gap_pct,
            "benchmark": self.benchmark, "source": self.source, "peers": self.peers,
            "peers_met": self.peers_met, "weeks": self.weeks,
        }


def snapshot(
    rows: Iterable[MetricRow], today: date, team_rows: Iterable[MetricRow] = (),
    checkins: Iterable[CheckinCounts] = (), labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The rep's latest period up to ``today`` with gaps, team benchmark and a verdict.

    Activity counted in ``checkins`` during that period (the calendar month of
    ``today`` when nothing is imported) is added as a line of its own when no imported
    metric of the period has its id or its label (``labels``: activity id -> label).
    """
    mine = [r for r in rows if r.period_start <= today]
    if mine:
        latest = max(mine, key=lambda r: (r.period_end, r.period_start))
        period = (latest.period_start, latest.period_end)
    else:
        period = month_of(today)
    current = [r for r in mine if (r.period_start, r.period_end) == period]
    peers: dict[str, list[MetricRow]] = {}
    for r in team_rows:
        if (r.period_start, r.period_end) == period:
            peers.setdefault(r.metric, []).append(r)
    lines = [_imported_line(r, peers.get(r.metric, []))
             for r in sorted(current, key=lambda r: (r.kind != "result", r.metric))]
    lines += _checkin_lines(checkins, period, {r.metric.casefold() for r in current},
                            labels or {})
    if not lines:
        return {"period": None, "lines": [], "verdict": "no_data"}
    return {
        "period": [period[0].isoformat(), period[1].isoformat()],
        "lines": [line.as_json() for line in lines],
        "verdict": verdict(lines),
    }


def month_of(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    return start, (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _imported_line(row: MetricRow, peers: Sequence[MetricRow]) -> Line:
    benchmark = sum(p.actual for p in peers) / len(peers) if peers else None
    return Line(row.metric, row.kind, row.target, row.actual, benchmark,
                peers=len(peers), peers_met=sum(p.actual >= p.target for p in peers))


def _checkin_lines(checkins: Iterable[CheckinCounts], period: tuple[date, date],
                   covered: set[str], labels: Mapping[str, str]) -> list[Line]:
    """Summed check-in counts of the period's weeks, for activities no metric covers."""
    totals: dict[str, float] = {}
    weeks: dict[str, int] = {}
    for checkin in checkins:
        if not period[0] <= checkin.week <= period[1]:
            continue
        for activity, count in checkin.counts.items():
            totals[activity] = totals.get(activity, 0.0) + float(count)
            weeks[activity] = weeks.get(activity, 0) + 1
    names = {activity: labels.get(activity, activity) for activity in totals}
    return [Line(names[a], "activity", None, totals[a], None, source=CHECKIN, weeks=weeks[a])
            for a in sorted(totals)
            if a.casefold() not in covered and names[a].casefold() not in covered]


def verdict(lines: Sequence[Line]) -> str:
    results = [x for x in lines if x.kind == "result"]
    # A count with neither a target nor a team benchmark cannot say activity is short.
    activity = [x for x in lines if x.kind == "activity"
                and (x.target is not None or x.benchmark is not None)]
    if not results:
        return "no_results"
    if not any(x.below for x in results):
        return "on_target"
    if not activity:
        return "results_lag"
    short = any(x.below or (x.benchmark is not None and x.actual < 0.9 * x.benchmark)
                for x in activity)
    return "activity" if short else "methodology"


VERDICT_TEXT = {
    "no_data": "No metrics imported for this rep yet (coach metrics import FILE.csv). "
    "Use what you know and type the numbers you have.",
    "no_results": "No result metrics for this period; only activity numbers are shown.",
    "on_target": "Nothing is below objective: no corrective coaching needed. "
    "Consider a stretch or development goal.",
    "results_lag": "Results are below objective; there is no activity data to tell why.",
    "activity": "Results lag and activity is short (or below the team): "
    "the focus is likely an activity behaviour.",
    "methodology": "Results lag while activity is fine: look at the quality of the step "
    "whose conversion lags (ride-along, recording, CRM). If that looks fine too, "
    "suspect the standard or an obstacle (chart Q03, Q07) before blaming the rep.",
}


def lines_of(snap: Mapping[str, Any]) -> list[Line]:
    """The snapshot's lines (snapshots stored before a field existed get its default)."""
    return [
        Line(x["metric"], x["kind"], x["target"], x["actual"], x["benchmark"],
             x.get("source", IMPORTED), x.get("peers", 0), x.get("peers_met", 0),
             x.get("weeks", 0))
        for x in snap.get("lines", [])
    ]


def line_for(snap: Mapping[str, Any], metric: str) -> Line | None:
    """The snapshot's line for ``metric``, if it has one."""
    return next((x for x in lines_of(snap) if x.metric == metric), None)


def gap_text(line: Line) -> str:
    """One line's numbers: "win rate %: 14 of 25, gap -11 (-44%)"."""
    if line.target is None:
        return f"{line.metric}: {fmt(line.actual)}"
    pct = f" ({line.gap_pct:+.0f}%)" if line.gap_pct is not None else ""
    gap = fmt(line.actual - line.target)
    return f"{line.metric}: {fmt(line.actual)} of {fmt(line.target)}, gap {gap}{pct}"


fmt = number_text  # the one way every flow shows a number: 62,000 · 14 · 26.5


def describe(snap: Mapping[str, Any]) -> str:
    """The ROAM numbers as plain text, results first."""
    lines = lines_of(snap)
    if not lines:
        return VERDICT_TEXT[snap.get("verdict", "no_data")]
    start, end = snap["period"]
    out = [f"ROAM for {start} to {end}:"]
    for heading, kind in (("Results vs objectives", "result"), ("Activity", "activity")):
        group = [x for x in lines if x.kind == kind]
        if group:
            out.append(f"{heading}:")
        for x in group:
            bench = f", team avg {fmt(x.benchmark)}" if x.benchmark is not None else ""
            source = (f" (from {x.weeks} check-in{'s' if x.weeks != 1 else ''}, no target)"
                      if x.source == CHECKIN else "")
            out.append(f"  • {gap_text(x)}{bench}{source}")
    out.append(VERDICT_TEXT[snap["verdict"]])
    return "\n".join(out)
