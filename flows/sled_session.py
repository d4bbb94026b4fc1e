"""What a SLED session starts from, typed: /coach gathers it, the conversation keeps it
as plain JSON (``as_data``) beside the answers, and the steps read it back (``of``); and
what the session has agreed so far (``SledAnswers``), read from the same data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class SledSession:
    """``brief``: the context card's facts (only its ROAM numbers are kept once shown);
    ``planned_focus``: the focus a review planned for this session, if any."""

    session_id: int
    rep_name: str
    rep_ref: str  # the rep's email: how commands name them
    rep_id: int | None = None
    brief: Mapping[str, Any] = field(default_factory=dict)
    planned_focus: str | None = None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> SledSession:
        rep_id, planned = data.get("rep_id"), data.get("planned_focus")
        brief = data.get("brief")
        return cls(session_id=int(data["session_id"]), rep_name=str(data.get("rep_name", "")),
                   rep_ref=str(data.get("rep_ref", "")),
                   rep_id=rep_id if isinstance(rep_id, int) else None,
                   brief=brief if isinstance(brief, Mapping) else {},
                   planned_focus=str(planned) if planned else None)

    def as_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"session_id": self.session_id, "rep_name": self.rep_name,
                                "rep_ref": self.rep_ref, "brief": dict(self.brief)}
        if self.rep_id is not None:
            data["rep_id"] = self.rep_id
        if self.planned_focus:
            data["planned_focus"] = self.planned_focus
        return data

    @property
    def rep_or_default(self) -> str:
        """The rep's name, or "the rep" when there is none to say."""
        return self.rep_name or "the rep"


@dataclass(frozen=True, slots=True)
class SledAnswers:
    """The Explore and Decide answers the steps read back, as the conversation keeps
    them: the chart's leaf and its category, the agreed solution ("" before any, None
    after exploring again), the actions so far, the success metric, and the leaf's own
    record (an escalation's answers, or a leaf step's values)."""

    leaf: str | None = None
    category: str | None = None
    agreed_solution: str | None = ""
    actions: list[dict[str, Any]] = field(default_factory=list)
    success: Mapping[str, Any] = field(default_factory=dict)
    escalation: Mapping[str, Any] = field(default_factory=dict)
    leaf_record: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> SledAnswers:
        def text(key: str, default: str | None = None) -> str | None:
            value = data.get(key, default)
            return value if isinstance(value, str) else None

        def mapping(key: str) -> Mapping[str, Any]:
            value = data.get(key)
            return value if isinstance(value, Mapping) else {}

        actions = data.get("actions", [])
        return cls(leaf=text("leaf"), category=text("category"),
                   agreed_solution=text("agreed_solution", ""),
                   actions=actions if isinstance(actions, list) else [],
                   success=mapping("success"), escalation=mapping("escalation"),
                   leaf_record=mapping("leaf_record"))
