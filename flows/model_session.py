"""What a field training or a sales coaching starts from, typed: the hand-off gathers it
from the session (bot/services/handoffs.py), the conversation keeps it as plain JSON
(``as_data``, the keys as before) beside the answers, and the steps read it back (``of``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ModelSession:
    """The session that planned the model, the rep, the focus (a label) and, when the
    session set them, the metric with its baseline and target, and the plan's next
    review. The defaults are what the flows say when a key is missing."""

    session_id: int
    rep_name: str = "the rep"
    rep_ref: str = ""  # the rep's email: how commands name them
    rep_id: int | None = None
    focus: str = "today's skill"
    metric: str | None = None
    baseline: float | None = None
    target: float | None = None
    review_date: str = ""  # ISO date of the plan's next review; "" when none

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> ModelSession:
        rep_id, metric = data.get("rep_id"), data.get("metric")
        baseline, target = data.get("baseline"), data.get("target")
        return cls(session_id=int(data["session_id"]),
                   rep_name=str(data.get("rep_name", "the rep")),
                   rep_ref=str(data.get("rep_ref", "")),
                   rep_id=rep_id if isinstance(rep_id, int) else None,
                   focus=str(data.get("focus", "today's skill")),
                   metric=metric if isinstance(metric, str) else None,
                   baseline=float(baseline) if baseline is not None and target is not None
                   else None,
                   target=float(target) if baseline is not None and target is not None
                   else None,
                   review_date=str(data.get("review_date") or ""))

    def as_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"session_id": self.session_id, "rep_id": self.rep_id,
                                "rep_name": self.rep_name, "rep_ref": self.rep_ref,
                                "metric": self.metric, "focus": self.focus}
        if self.baseline is not None and self.target is not None:
            data.update(baseline=self.baseline, target=self.target)
        if self.review_date:
            data["review_date"] = self.review_date
        return data
