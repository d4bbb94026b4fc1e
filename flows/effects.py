"""What a flow asks the world to do, as data. ``bot/`` carries these out in the
same transaction that stores the new conversation state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Owner = Literal["rep", "manager"]


@dataclass(frozen=True, slots=True)
class RecordStage:
    """A SLED stage (S, L, E, D) is complete; store what was agreed in it."""

    session_id: int
    stage: str
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ActionDraft:
    description: str
    owner: Owner
    due: date


@dataclass(frozen=True, slots=True)
class CompleteSession:
    """The session ended: completed with a plan, ended with no action, or cancelled."""

    session_id: int
    status: Literal["completed", "no_action", "cancelled"]
    leaf: str | None = None
    category: str | None = None
    agreed_solution: str | None = None
    actions: tuple[ActionDraft, ...] = ()
    metric: str | None = None
    baseline: float | None = None
    target: float | None = None
    review_date: date | None = None
    next_model: str | None = None
    rep_committed: bool | None = None


@dataclass(frozen=True, slots=True)
class RaiseEscalation:
    """A systemic leaf: the leader above the manager owns it (METHOD §4)."""

    session_id: int
    leaf: str
    impact: str
    evidence: str


@dataclass(frozen=True, slots=True)
class KeepPrivateNote:
    """A manager-only note: never shown to the rep, never in digest text."""

    session_id: int
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class StartFlow:
    """Hand off to another flow right away (D stage → training or coaching)."""

    flow: str
    session_id: int


@dataclass(frozen=True, slots=True)
class RecordModelStage:
    session_id: int
    model: str
    stage: str
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class CompleteModel:
    session_id: int
    model: str
    decision: str


@dataclass(frozen=True, slots=True)
class PlanModelReview:
    """A coaching run's Do is done; its Review is planned for ``due`` (METHOD §5)."""

    session_id: int
    model: str
    due: date


@dataclass(frozen=True, slots=True)
class CompleteReview:
    """A review is held. Besides the outcome: the rep's commitment from the accountability
    talk (``new_actions``), new dates for the manager's late actions (``rescheduled``:
    action id → date), the next review, and the next focus with its session date."""

    review_id: int
    session_id: int
    metric_value: float
    outcome: Literal["met", "not_done", "improving", "no_change"]
    action_status: Mapping[str, str]
    notes: Mapping[str, Any]
    leaf: str | None = None
    next_review_date: date | None = None
    next_focus: str | None = None
    next_session_date: date | None = None
    new_actions: tuple[ActionDraft, ...] = ()
    rescheduled: tuple[tuple[str, date], ...] = ()


@dataclass(frozen=True, slots=True)
class RecordCheckin:
    checkin_id: int
    status: Literal["answered", "snoozed", "out_of_office"]
    action_updates: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    activity: Mapping[str, int] = field(default_factory=dict)
    got_coaching: bool | None = None
    blockers: str | None = None
    confidence: int | None = None


Effect = (
    RecordStage
    | CompleteSession
    | RaiseEscalation
    | KeepPrivateNote
    | StartFlow
    | RecordModelStage
    | CompleteModel
    | CompleteReview
    | PlanModelReview
    | RecordCheckin
)
