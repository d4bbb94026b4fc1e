"""ROAM diagnosis (METHOD §3): results vs objectives, then activity, then methodology.

Works on plain metric rows the caller loaded; shows the numbers, never invents them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flows.reading import number_text


@dataclass(frozen=True, slots=True)
class MetricRow:
    metric: str
    kind: str  # result | activity
    period_start: date
    period_end: date
    target: float
    actual: float


@dataclass(frozen=True, slots=True)
class Line:
    metric: str
    kind: str
    target: float
    actual: float
    benchmark: float | None

    @property
    def gap(self) -> float:
        return self.actual - self.target

    @property
    def gap_pct(self) -> float | None:
        return None if self.target == 0 else 100.0 * self.gap / self.target

    @property
    def below(self) -> bool:
        return self.actual < self.target

    def as_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric, "kind": self.kind, "target": self.target,
            "actual": self.actual, "gap": self.gap, "gap_pct": self.gap_pct,
            "benchmark": self.benchmark,
        }


def snapshot(
    rows: Iterable[MetricRow], today: date, team_rows: Iterable[MetricRow] = ()
) -> dict[str, Any]:
    """The rep's latest period up to ``today`` with gaps, team benchmark and a verdict."""
    mine = [r for r in rows if r.period_start <= today]
    if not mine:
        return {"period": None, "lines": [], "verdict": "no_data"}
    latest = max(mine, key=lambda r: (r.period_end, r.period_start))
    period = (latest.period_start, latest.period_end)
    current = [r for r in mine if (r.period_start, r.period_end) == period]
    peers: dict[str, list[float]] = {}
    for r in team_rows:
        if (r.period_start, r.period_end) == period:
            peers.setdefault(r.metric, []).append(r.actual)
    lines = [
        Line(r.metric, r.kind, r.target, r.actual,
             sum(peers[r.metric]) / len(peers[r.metric]) if peers.get(r.metric) else None)
        for r in sorted(current, key=lambda r: (r.kind != "result", r.metric))
    ]
    return {
        "period": [period[0].isoformat(), period[1].isoformat()],
        "lines": [line.as_json() for line in lines],
        "verdict": verdict(lines),
    }


def verdict(lines: Sequence[Line]) -> str:
    results = [x for x in lines if x.kind == "result"]
    activity = [x for x in lines if x.kind == "activity"]
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
    return [
        Line(x["metric"], x["kind"], x["target"], x["actual"], x["benchmark"])
        for x in snap.get("lines", [])
    ]


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
            pct = f" ({x.gap_pct:+.0f}%)" if x.gap_pct is not None else ""
            bench = f", team avg {fmt(x.benchmark)}" if x.benchmark is not None else ""
            out.append(
                f"  • {x.metric}: {fmt(x.actual)} of {fmt(x.target)}, gap {fmt(x.gap)}{pct}{bench}"
            )
    out.append(VERDICT_TEXT[snap["verdict"]])
    return "\n".join(out)
