"""The concrete next step after each solution-chart leaf (METHOD §4), shared by SLED's
stage E and the review's rerun of the chart.

Per leaf: the form the manager fills in, the typed record it becomes
(:mod:`flows.leaf_records`), the action item it implies, the model it plans and the
sentence that sums it up. Pure: dates are checked against ``today`` passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flows.effects import ActionDraft
from flows.engine import Retry, future_date
from flows.leaf_records import (
    Accountability,
    CoachingGoal,
    ConsequenceChange,
    Escalation,
    Expectations,
    Feedback,
    GapRestated,
    JobAid,
    LeafRecord,
    Obstacle,
    Practice,
    Priorities,
    PrivateMatter,
    SkillTraining,
    Trial,
    WhyItMatters,
)
from flows.messages import Choice, Field, Form

SYSTEMIC = frozenset({"SYSTEMIC_REDESIGN", "ESCALATE_SYSTEMIC"})
PRIVATE: Mapping[str, str] = {"REFER_PERSONAL": "personal", "JOB_FIT": "job_fit"}
# The model a leaf plans: TSDR for what the rep cannot do yet, EPDR for what they can.
PLANNED_MODEL: Mapping[str, str] = {"TRAINING": "training", "JOB_AID": "training",
                                    "PRACTICE": "coaching", "COACHING": "coaching"}


class LeafText:
    """Every sentence of the leaf steps, in one place."""

    feedback = ("Give {rep} the feedback: what you observed (behaviour, not character), "
                "what to do instead, and when you check in.")
    expectations = "Spell out for {rep}: what, how much, how well, and by when."
    why = "Say why it matters (to the customer, the team and {rep}), and when you check in."
    obstacle = "Name the obstacle, who removes it and by when."
    training = "Which skill will field training cover, and what does good look like?"
    job_aid = ("Which job aid (checklist, template) will you give {rep}, and when do you "
               "walk through it together?")
    practice = "Which skill will {rep} practise, and how?"
    coaching = "Which behaviour will coaching work on, and what is the goal?"
    priorities = "Agree the priority order with {rep} and the time blocks that protect it."
    trial = "Share the evidence (top-performer data) and agree a trial with {rep}."
    consequences = "What changes, who decides it (you, or the leader above you) and by when?"
    accountability = ("Hold the accountability talk: agree a problem exists, the alternatives, "
                      "the action and a follow-up date.")
    gap = "Name the gap again, in numbers, before planning anything."
    escalation = ("This looks systemic, not about {rep}. It goes to {above}: who should own "
                  "the fix, the impact and the evidence.")
    above = "the person above you"

    options = "Options the rep suggested"
    observed = "What you observed"
    instead = "What to do instead"
    check_in = "Check-in date"
    what = "What"
    how_much = "How much"
    how_well = "How well"
    by_when = "By when"
    why_field = "Why it matters"
    obstacle_field = "The obstacle"
    remover = "Who removes it"
    by = "By when"
    skill = "Skill"
    good = "What good looks like"
    aid = "Job aid"
    walk_through = "Walk-through date"
    how = "How the rep practises"
    behaviour = "Behaviour"
    goal = "Goal"
    priority_order = "Priorities, in order"
    time_blocks = "Time blocks"
    evidence = "Evidence"
    trial_field = "Trial agreed"
    trial_until = "Trial until"
    what_changes = "What changes"
    decider = "Who decides"
    problem = "The problem, as the rep acknowledged it"
    alternatives = "Alternatives you discussed"
    agreed_action = "Agreed action"
    follow_up = "Follow-up date"
    gap_statement = "The gap, in numbers"
    fix_owner = "Who should own the fix"
    impact = "Impact"
    rep = "The rep"
    manager = "Me (the manager)"
    leader = "The leader above me"

    date_past = "{label} {due} is in the past; pick today ({today}) or later."
    date_far = "{label} {due} is more than a year away; pick something sooner."

    # What the session or review records as the agreed solution, and the actions.
    said: Mapping[str, str] = {
        "GapRestated": "Gap restated: {gap_statement}",
        "Escalation": "Raised with {fix_owner_or_above}: {impact}",
        "PrivateMatter": "Private follow-up (manager only)",
        "Feedback": "Feedback: {observed}. Instead: {instead}. Check-in {check_in}.",
        "Expectations": "Expected: {what}, {how_much}, {how_well}, by {by_when}.",
        "WhyItMatters": "Why it matters: {why}. Check-in {check_in}.",
        "Obstacle": "Remove the obstacle: {obstacle}, by {by}.",
        "SkillTraining": "Field training on {skill}; good looks like: {good_looks_like}.",
        "JobAid": "Job aid: {aid}; walk-through {walk_through}.",
        "Practice": "Sales coaching with practice on {skill}: {how}.",
        "CoachingGoal": "Sales coaching on {behaviour}; goal: {goal}.",
        "Priorities": "Priorities: {priorities}. Time blocks: {time_blocks}.",
        "Trial": "Trial: {trial}, until {trial_until} (evidence: {evidence}).",
        "ConsequenceChange": "Consequences: {what_changes}; decided by the {decider}, by {by}.",
        "Accountability": "Agreed: {agreed_action}; follow-up {follow_up}.",
    }
    act: Mapping[str, str] = {
        "Feedback": "{instead}",
        "Expectations": "{what} ({how_much}, {how_well})",
        "Obstacle": "Remove the obstacle: {obstacle}",
        "JobAid": "Walk through the job aid: {aid}",
        "Trial": "Try it: {trial}",
        "ConsequenceChange": "Change the consequences: {what_changes}",
        "Accountability": "{agreed_action}",
    }
    leader_decides = "The leader above decides: {what_changes} (by {by})."
    notice = ("Escalation for you from {coach}, about {rep} ({leaf}).\n"
              "Impact: {impact}\nEvidence: {evidence}\nSuggested owner of the fix: {owner}")


DOERS = (Choice("rep", LeafText.rep), Choice("manager", LeafText.manager))
DECIDERS = (Choice("manager", LeafText.manager), Choice("leader", LeafText.leader))
_OPTIONS = Field("options", LeafText.options, "long_text", required=False)


def _date(id_: str, label: str) -> Field:
    return Field(id_, label, "date", hint="YYYY-MM-DD")


@dataclass(frozen=True, slots=True)
class LeafStep:
    """One leaf's follow-up: the prompt, the form, and the record it builds."""

    prompt: str
    form: Form
    record: Callable[..., LeafRecord]


def _step(prompt: str, record: Callable[..., LeafRecord], *fields: Field,
          options: bool = True) -> LeafStep:
    return LeafStep(prompt, Form("leaf_step", (*fields, *((_OPTIONS,) if options else ()))),
                    record)


_TRIAL = _step(LeafText.trial, Trial, Field("evidence", LeafText.evidence, "long_text"),
               Field("trial", LeafText.trial_field), _date("trial_until", LeafText.trial_until))
_CONSEQUENCES = _step(LeafText.consequences, ConsequenceChange,
                      Field("what_changes", LeafText.what_changes, "long_text"),
                      Field("decider", LeafText.decider, "choice", options=DECIDERS),
                      _date("by", LeafText.by))

STEPS: Mapping[str, LeafStep] = {
    "DEFINE_GAP": _step(LeafText.gap, GapRestated, Field("gap_statement", LeafText.gap_statement),
                        options=False),
    "FEEDBACK": _step(LeafText.feedback, Feedback, Field("observed", LeafText.observed,
                                                         "long_text"),
                      Field("instead", LeafText.instead), _date("check_in", LeafText.check_in)),
    "CLARIFY_EXPECTATIONS": _step(LeafText.expectations, Expectations, Field("what", LeafText.what),
                                  Field("how_much", LeafText.how_much), Field("how_well",
                                                                              LeafText.how_well),
                                  _date("by_when", LeafText.by_when)),
    "EXPLAIN_WHY": _step(LeafText.why, WhyItMatters, Field("why", LeafText.why_field, "long_text"),
                         _date("check_in", LeafText.check_in)),
    "REMOVE_OBSTACLE": _step(LeafText.obstacle, Obstacle, Field("obstacle",
                                                                LeafText.obstacle_field),
                             Field("remover", LeafText.remover, "choice", options=DOERS),
                             _date("by", LeafText.by)),
    "TRAINING": _step(LeafText.training, SkillTraining, Field("skill", LeafText.skill),
                      Field("good_looks_like", LeafText.good, "long_text")),
    "JOB_AID": _step(LeafText.job_aid, JobAid, Field("aid", LeafText.aid),
                     _date("walk_through", LeafText.walk_through)),
    "PRACTICE": _step(LeafText.practice, Practice, Field("skill", LeafText.skill),
                      Field("how", LeafText.how)),
    "COACHING": _step(LeafText.coaching, CoachingGoal, Field("behaviour", LeafText.behaviour),
                      Field("goal", LeafText.goal)),
    "SET_PRIORITIES": _step(LeafText.priorities, Priorities,
                            Field("priorities", LeafText.priority_order, "long_text"),
                            Field("time_blocks", LeafText.time_blocks)),
    "ADDRESS_BELIEF": _TRIAL,
    "ADDRESS_FEAR": _TRIAL,
    "REMOVE_PUNISHMENT": _CONSEQUENCES,
    "REMOVE_REWARD": _CONSEQUENCES,
    "ARRANGE_CONSEQUENCES": _CONSEQUENCES,
    "COACHING_DISCUSSION": _step(LeafText.accountability, Accountability,
                                 Field("problem", LeafText.problem, "long_text"),
                                 Field("alternatives", LeafText.alternatives, "long_text"),
                                 Field("agreed_action", LeafText.agreed_action),
                                 _date("follow_up", LeafText.follow_up), options=False),
}
ESCALATION = Form("escalation", (
    Field("owner", LeafText.fix_owner), Field("impact", LeafText.impact, "long_text"),
    Field("evidence", LeafText.evidence, "long_text"),
))


def has_step(leaf: str) -> bool:
    return leaf in STEPS


def prompt(leaf: str, rep: str) -> str:
    return STEPS[leaf].prompt.format(rep=rep)


def form(leaf: str) -> Form:
    return STEPS[leaf].form


def read(leaf: str, values: Mapping[str, str], today: date) -> LeafRecord | Retry:
    """The leaf's typed record from its validated form; a date out of range is a Retry."""
    step = STEPS[leaf]
    typed: dict[str, Any] = {}
    for f in step.form.fields:
        raw = values.get(f.id, "")
        if f.kind == "date":
            due = future_date(raw, today, past=LeafText.date_past, far=LeafText.date_far,
                              label=f.label)
            if isinstance(due, Retry):
                return due
            typed[f.id] = due
        else:
            typed[f.id] = raw
    return step.record(**typed)


def rebuild(leaf: str, values: Mapping[str, Any]) -> LeafRecord:
    """A record again from its stored ``values()`` (dates were kept as ISO text)."""
    typed: dict[str, Any] = {}
    for f in STEPS[leaf].form.fields:
        raw = values.get(f.id, "")
        typed[f.id] = date.fromisoformat(str(raw)) if f.kind == "date" else str(raw)
    return STEPS[leaf].record(**typed)


def escalation(values: Mapping[str, str]) -> Escalation:
    return Escalation(values["owner"], values["impact"], values["evidence"])


def summary(record: LeafRecord) -> str:
    """The agreed solution, in one line, from the record."""
    values = record.values()
    if isinstance(record, Escalation):
        values["fix_owner_or_above"] = record.owner or LeafText.above
    return LeafText.said[record.kind].format(**values)


def action(record: LeafRecord) -> ActionDraft | None:
    """The action item a record implies (the rep's by default), or None."""
    template = LeafText.act.get(record.kind)
    if template is None:
        return None
    text = template.format(**record.values())
    match record:
        case Feedback(check_in=due):
            return ActionDraft(text, "rep", due)
        case Expectations(by_when=due):
            return ActionDraft(text, "rep", due)
        case Obstacle(remover=who, by=due):
            return ActionDraft(text, who, due)
        case JobAid(walk_through=due):
            return ActionDraft(text, "manager", due)
        case Trial(trial_until=due):
            return ActionDraft(text, "rep", due)
        case ConsequenceChange(by=due):
            return ActionDraft(text, "manager", due)
        case Accountability(follow_up=due):
            return ActionDraft(text, "rep", due)
    return None


def leader_decides(record: LeafRecord) -> str | None:
    """A consequence change the leader above must decide (pay or policy): the impact
    line of its escalation; None when the manager decides."""
    if isinstance(record, ConsequenceChange) and record.decider == "leader":
        return LeafText.leader_decides.format(**record.values())
    return None


def notice(*, coach: str, rep: str, leaf: str, impact: str, evidence: str,
           owner: str) -> str:
    """The escalation owner's message; ``leaf`` is the leaf's label from the playbook."""
    return LeafText.notice.format(coach=coach, rep=rep, leaf=leaf, impact=impact,
                                  evidence=evidence, owner=owner or "-")


def private_record(leaf: str) -> PrivateMatter:
    return PrivateMatter(PRIVATE[leaf])
