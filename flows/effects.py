"""What a flow asks the world to do, as data. ``bot/`` carries these out in the
same transaction that stores the new conversation state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from flows.leaf_records import LeafRecord

Owner = Literal["rep", "manager"]


@dataclass(frozen=True, slots=True)
class RecordStage:
    """A SLED stage (S, L, E, D) is complete; store what was agreed in it."""

    session_id: int
    stage: str
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ActionDraft:
    """An action item to create. ``shared``: the rep sees it (their plan, App Home);
    ``None`` applies the default rule: shared when the rep owns it."""

    description: str
    owner: Owner
    due: date
    shared: bool | None = None

    @property
    def shown_to_rep(self) -> bool:
        return self.owner == "rep" if self.shared is None else self.shared


@dataclass(frozen=True, slots=True)
class CompleteSession:
    """The session ended: completed with a plan, ended with no action, or cancelled."""

    session_id: int
    status: Literal["completed", "no_action", "no_agreement", "cancelled"]
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
    """A systemic problem goes to the person above the coach (METHOD §4); storage finds
    them, stores the row, and ``notice`` is the chat message they are sent."""

    session_id: int
    leaf: str
    impact: str
    evidence: str
    fix_owner: str = ""
    notice: str = ""
    review_id: int | None = None


@dataclass(frozen=True, slots=True)
class RecordLeafOutcome:
    """What was agreed after a chart leaf, as a typed record (session or review)."""

    session_id: int
    review_id: int | None
    leaf: str
    category: str
    record: LeafRecord


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
    """A review is held. Besides the outcome: new action items (``actions``: the rep's
    commitment from the accountability talk, or the action a rerun leaf implies), new dates
    for the manager's late actions (``rescheduled``: action id → date), the next review, the
    model a rerun leaf plans, and the next focus with its session date."""

    review_id: int
    session_id: int
    metric_value: float
    outcome: Literal["met", "not_done", "improving", "no_change", "no_action"]
    action_status: Mapping[str, str]
    notes: Mapping[str, Any]
    leaf: str | None = None
    next_review_date: date | None = None
    next_focus: str | None = None
    next_session_date: date | None = None
    actions: tuple[ActionDraft, ...] = ()  # new items: the commitment, a leaf's action
    rescheduled: tuple[tuple[str, date], ...] = ()
    next_model: str | None = None  # training | coaching: planned for /model


@dataclass(frozen=True, slots=True)
class RecordCheckin:
    checkin_id: int
    status: Literal["answered", "snoozed", "out_of_office"]
    action_updates: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    activity: Mapping[str, int] = field(default_factory=dict)
    got_coaching: bool | None = None
    blockers: str | None = None
    confidence: int | None = None
    ask_again_at: datetime | None = None  # a snooze: when the rhythm asks again


@dataclass(frozen=True, slots=True)
class ResolveEscalation:
    """The escalation's owner (or someone above them) resolved it, saying what was done;
    ``bot/`` checks their right to again when it stores this."""

    escalation_id: int
    note: str


@dataclass(frozen=True, slots=True)
class AskModel:
    """Ask the language model for help with ``task`` (a prompt in prompts/): carried out by
    ``bot/`` after the turn's transaction, never inside it; the answer comes back as an
    ``Event`` named ``task`` whose payload carries ``token`` back, so that a late answer
    reaches only the question it was asked for. ``values``: what the flow knows that the
    prompt may use (the bot adds what is stored and redacts before sending)."""

    task: str
    token: str
    values: Mapping[str, Any] = field(default_factory=dict)


Effect = (
    RecordStage
    | CompleteSession
    | RaiseEscalation
    | RecordLeafOutcome
    | KeepPrivateNote
    | StartFlow
    | RecordModelStage
    | CompleteModel
    | CompleteReview
    | PlanModelReview
    | RecordCheckin
    | ResolveEscalation
    | AskModel
)
