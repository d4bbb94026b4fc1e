"""Typed records of what was agreed after a solution-chart leaf (METHOD §4, "what the bot
does next"). One dataclass per kind of follow-up; ``values()`` is the JSON storage keeps.

Pure data: the forms and sentences that fill them live in :mod:`flows.leaf_steps`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Literal

Decider = Literal["manager", "leader"]
Doer = Literal["rep", "manager"]


@dataclass(frozen=True, slots=True)
class LeafRecord:
    """Base of every record: its kind name and its values as plain JSON."""

    @property
    def kind(self) -> str:
        return type(self).__name__

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.isoformat() if isinstance(value, date) else value
        return out


@dataclass(frozen=True, slots=True)
class GapRestated(LeafRecord):
    """DEFINE_GAP inside a review: the gap named again, in numbers."""

    gap_statement: str


@dataclass(frozen=True, slots=True)
class NoAction(LeafRecord):
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Escalation(LeafRecord):
    """SYSTEMIC_REDESIGN, ESCALATE_SYSTEMIC: who should own the fix, its impact, evidence."""

    owner: str
    impact: str
    evidence: str


@dataclass(frozen=True, slots=True)
class PrivateMatter(LeafRecord):
    """REFER_PERSONAL, JOB_FIT: only that a private note was kept (its text is elsewhere)."""

    note_kind: str


@dataclass(frozen=True, slots=True)
class Feedback(LeafRecord):
    observed: str
    instead: str
    check_in: date
    options: str = ""


@dataclass(frozen=True, slots=True)
class Expectations(LeafRecord):
    what: str
    how_much: str
    how_well: str
    by_when: date
    options: str = ""


@dataclass(frozen=True, slots=True)
class WhyItMatters(LeafRecord):
    why: str
    check_in: date
    options: str = ""


@dataclass(frozen=True, slots=True)
class Obstacle(LeafRecord):
    obstacle: str
    remover: Doer
    by: date
    options: str = ""


@dataclass(frozen=True, slots=True)
class SkillTraining(LeafRecord):
    """TRAINING: the skill and what good looks like (the Tell stage's material)."""

    skill: str
    good_looks_like: str
    options: str = ""


@dataclass(frozen=True, slots=True)
class JobAid(LeafRecord):
    aid: str
    walk_through: date
    options: str = ""


@dataclass(frozen=True, slots=True)
class Practice(LeafRecord):
    skill: str
    how: str
    options: str = ""


@dataclass(frozen=True, slots=True)
class CoachingGoal(LeafRecord):
    behaviour: str
    goal: str
    options: str = ""


@dataclass(frozen=True, slots=True)
class Priorities(LeafRecord):
    """SET_PRIORITIES: the priority order agreed and the time blocks that protect it."""

    priorities: str
    time_blocks: str
    options: str = ""


@dataclass(frozen=True, slots=True)
class Trial(LeafRecord):
    """ADDRESS_BELIEF, ADDRESS_FEAR: the evidence discussed and the trial agreed."""

    evidence: str
    trial: str
    trial_until: date
    options: str = ""


@dataclass(frozen=True, slots=True)
class ConsequenceChange(LeafRecord):
    """REMOVE_PUNISHMENT, REMOVE_REWARD, ARRANGE_CONSEQUENCES: what changes, who decides."""

    what_changes: str
    decider: Decider
    by: date
    options: str = ""


@dataclass(frozen=True, slots=True)
class Accountability(LeafRecord):
    """COACHING_DISCUSSION: the accountability talk's agreement."""

    problem: str
    alternatives: str
    agreed_action: str
    follow_up: date
