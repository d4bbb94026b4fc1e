"""Sales coaching: Engage, Practice, Do, Review (METHOD §5).

Facilitative: the rep knows how but must do it better. The rep speaks first at
every stage; the manager's feedback opens only after the rep's self-assessment
is in and the rep has granted permission; the review re-checks the metric.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flows.effects import CompleteModel, PlanModelReview, RecordModelStage
from flows.engine import (
    END,
    Answer,
    Context,
    Flow,
    FlowBug,
    FlowState,
    Go,
    Outcome,
    Prompt,
    Retry,
    Step,
    as_mapping,
    begin,
    future_date,
    number,
)
from flows.feedback import check_behaviour
from flows.messages import Choice, Field, Form, Message
from flows.model_session import ModelSession
from flows.model_steps import check_step, teach_stage
from flows.playbook import Playbook
from flows.roam import fmt
from flows.spec import FlowSpec, rep_named_in

NAME = "coaching"
STAGES = {"E": "E — Engage", "P": "P — Practice", "D": "D — Do", "R": "R — Review"}


class CoachingText:
    """Every sentence this flow says, in one place."""

    title = "Sales coaching (Engage, Practice, Do, Review)"
    engage = ("{E}\nSales coaching with {rep} on {focus}. Ask for {rep}'s view first, "
              "then agree ONE goal and ONE behaviour for this session.")
    engage_check = "Ask {rep} to say the goal and the behaviour back. Did {rep} get them right?"
    engage_hint = "Narrow it down: one goal, one behaviour, in {rep}'s own words. Try again."
    practice = "{P}\nRole-play the behaviour. {rep} critiques their own attempt first."
    practice_permission = ("Before your notes, ask {rep}: “May I add what I noticed?” "
                           "What did {rep} say?")
    practice_declined = "Recorded: {rep} declined your notes this time."
    practice_notes = "Your notes on the role-play: the behaviour you saw and what to try next."
    practice_check = "Can {rep} say what to keep and what to change next time?"
    practice_hint = "Run the role-play again and ask {rep} what they would change first."
    do = "{D}\n{rep} applies it live; you observe. What did you see and hear?"
    do_check = "Did {rep} explain how the live attempt compared with the goal?"
    do_hint = "Walk through the live attempt together, moment by moment, then ask again."
    review_when = ("Review it now, or on another day once {rep} has applied it on a few "
                   "more calls?")
    review_date = "When will you review it with {rep}?"
    review_planned = ("Saved. The Review with {rep} is planned for {date}; pick it up then "
                      "with /model {rep_ref} (or /resume).")
    review_waiting = "{R}\nThe Review with {rep} is planned for {date}. When you meet, start it."
    self_assessment = "{R}\n{rep} speaks first: how does {rep} think it went?"
    permission = "Ask {rep}: “May I share what I noticed?” What did {rep} say?"
    declined = "Recorded: {rep} declined feedback this time. No feedback is given."
    feedback = "Your feedback: the behaviour you saw, its effect, and what to try next."
    metric = "Re-check the ROAM number: what is {metric} now?"
    metric_plan = " (baseline {baseline}, target {target})"
    done = "Sales coaching with {rep} on {focus} saved ({metric} is now {value})."
    next_review = " The plan's review is on {review_date}: /review {rep_ref}."
    guard = "feedback needs the self-assessment and permission granted first"

    rep_view = "The rep's view (ask first)"
    goal = "One goal"
    behaviour = "One behaviour"
    role_play = "Role-play notes"
    rep_critique = "The rep's own critique (ask first)"
    manager_notes = "Your notes"
    review_now = "Review now"
    review_later = "Review on another day"
    review_day = "Review date"
    start_review = "Start the review"
    change_date = "Change the date"
    date_past = "{label} {due} is in the past; pick today ({today}) or later."
    date_far = "{label} {due} is more than a year away; pick something sooner."
    observed = "What you observed live"
    rep_self = "The rep's self-assessment"
    granted = "Asked, and granted"
    refused = "Asked, and the rep declined"
    feedback_label = "Your feedback"
    metric_value = "Current value of {metric}"
    the_metric = "the focus metric"


ENGAGE = Form("engage", (
    Field("rep_view", CoachingText.rep_view, "long_text"),
    Field("goal", CoachingText.goal),
    Field("behaviour", CoachingText.behaviour),
))
PRACTICE = Form("practice", (
    Field("role_play", CoachingText.role_play, "long_text"),
    Field("rep_critique", CoachingText.rep_critique, "long_text"),
))
PRACTICE_NOTES = Form("practice_notes", (Field("manager_notes", CoachingText.manager_notes,
                                               "long_text"),))
WHEN = (Choice("now", CoachingText.review_now), Choice("later", CoachingText.review_later))
REVIEW_DATE = Form("review_date", (Field("date", CoachingText.review_day, "date",
                                         hint="YYYY-MM-DD"),))
WAITING = (Choice("start", CoachingText.start_review), Choice("change", CoachingText.change_date))
DO = Form("do", (Field("observed", CoachingText.observed, "long_text"),))
SELF_ASSESSMENT = Form("self_assessment", (Field("self_assessment", CoachingText.rep_self,
                                                 "long_text"),))
PERMISSION = (Choice("granted", CoachingText.granted), Choice("declined", CoachingText.refused))
FEEDBACK = Form("feedback", (Field("feedback", CoachingText.feedback_label, "long_text"),))


@dataclass(frozen=True, slots=True)
class CoachingAnswers:
    """The answers so far, as the conversation keeps them: each form's values under its
    step's id, the Review's permission as chosen ("granted" / "declined"), the date a
    later Review was planned for."""

    practice: Mapping[str, Any]
    self_assessment: Mapping[str, Any]
    permission: str | None
    feedback: Mapping[str, Any]
    review_due: str

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> CoachingAnswers:
        permission = data.get("permission")
        return cls(as_mapping(data.get("practice")), as_mapping(data.get("self_assessment")),
                   permission if isinstance(permission, str) else None,
                   as_mapping(data.get("feedback")), str(data.get("review_due", "")))

    @property
    def granted(self) -> bool:
        return self.permission == "granted"


def start(playbook: Playbook, ctx: Context, data: Mapping[str, Any],
          flow: Flow | None = None) -> Outcome:
    """``data``: a :class:`ModelSession` as stored (``as_data``)."""
    return begin(flow or build(playbook), data, ctx)


def fill(template: str, state: FlowState, **extra: str) -> str:
    session = ModelSession.of(state.data)
    return template.format(rep=session.rep_name, rep_ref=session.rep_ref,
                           review_date=session.review_date, focus=session.focus,
                           metric=_metric(session), **STAGES, **extra)


def build(playbook: Playbook) -> Flow:
    steps: dict[str, Step] = {
        **teach_stage(NAME, "E", "engage", ENGAGE,
                      (CoachingText.engage, CoachingText.engage_check,
                       CoachingText.engage_hint), "practice", fill),
        **teach_stage(NAME, "P", "practice", PRACTICE,
                      (CoachingText.practice, CoachingText.practice_check,
                       CoachingText.practice_hint), "do", fill,
                      then="practice_permission"),
        "practice_permission": Step("practice_permission", "P", _ask_permission(
            CoachingText.practice_permission), _practice_permission,
            ("practice_notes", check_step("practice"))),
        "practice_notes": Step("practice_notes", "P", _form(CoachingText.practice_notes,
                                                            PRACTICE_NOTES),
                               _practice_notes, (check_step("practice"),)),
        **teach_stage(NAME, "D", "do", DO, (CoachingText.do, CoachingText.do_check,
                                            CoachingText.do_hint),
                      "review_when", fill),
        "review_when": Step("review_when", "R", _choices(CoachingText.review_when, WHEN),
                            _review_when,
                            ("self_assessment", "review_date")),
        "review_date": Step("review_date", "R", _form(CoachingText.review_date, REVIEW_DATE),
                            _review_date, ("review_waiting",)),
        "review_waiting": Step("review_waiting", "R", _waiting_prompt,
                               lambda s, a, c: Go("self_assessment" if a == "start"
                                                  else "review_date"),
                               ("self_assessment", "review_date")),
        "self_assessment": Step("self_assessment", "R", _form(CoachingText.self_assessment,
                                                              SELF_ASSESSMENT),
                                lambda s, a, c: Go("permission", {"self_assessment": a}),
                                ("permission",)),
        "permission": Step("permission", "R", _permission_prompt, _permission,
                           ("feedback", "metric")),
        "feedback": Step("feedback", "R", _form(CoachingText.feedback, FEEDBACK), _feedback,
                         ("metric",)),
        "metric": Step("metric", "R", _metric_prompt, _metric_now, (END,)),
    }
    return Flow(NAME, CoachingText.title, STAGES, steps, "engage")


def _form(template: str, form: Form) -> Prompt:
    return lambda state, ctx: Message(fill(template, state), form=form)


def _choices(template: str, choices: tuple[Choice, ...]) -> Prompt:
    return lambda state, ctx: Message(fill(template, state), choices=choices)


def _ask_permission(template: str) -> Prompt:
    return _choices(template, PERMISSION)


def _practice_permission(state: FlowState, answer: Answer, ctx: Context) -> Go:
    practice = dict(CoachingAnswers.of(state.data).practice)
    practice.pop("manager_notes", None)  # notes typed before going back need a new yes
    if answer == "granted":
        return Go("practice_notes", {"practice": {**practice, "permission": "granted"}})
    return Go(check_step("practice"), {"practice": {**practice, "permission": "declined"}},
              say=(Message(fill(CoachingText.practice_declined, state)),))


def _practice_notes(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    practice = CoachingAnswers.of(state.data).practice
    if practice.get("permission") != "granted":
        raise FlowBug(CoachingText.guard)
    values = as_mapping(answer)
    problem = check_behaviour(values, {"manager_notes": CoachingText.manager_notes},
                              ModelSession.of(state.data).rep_name)
    return problem or Go(check_step("practice"), {"practice": {**practice, **values}})


def _review_when(state: FlowState, answer: Answer, ctx: Context) -> Go:
    return Go("self_assessment" if answer == "now" else "review_date")


def _review_date(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    when = future_date(as_mapping(answer)["date"], ctx.today, past=CoachingText.date_past,
                       far=CoachingText.date_far, label=CoachingText.review_day)
    if isinstance(when, Retry):
        return when
    planned = PlanModelReview(ModelSession.of(state.data).session_id, NAME, when)
    said = fill(CoachingText.review_planned, state, date=when.isoformat())
    return Go("review_waiting", {"review_due": when.isoformat()}, (planned,),
              say=(Message(said),))


def _waiting_prompt(state: FlowState, ctx: Context) -> Message:
    due = CoachingAnswers.of(state.data).review_due
    return Message(fill(CoachingText.review_waiting, state, date=due), choices=WAITING)


def _permission_prompt(state: FlowState, ctx: Context) -> Message:
    return Message(fill(CoachingText.permission, state), choices=PERMISSION)


def _permission(state: FlowState, answer: Answer, ctx: Context) -> Go:
    if answer == "granted":
        return Go("feedback", {"permission": "granted"})
    # Feedback typed before going back must not survive a refusal.
    return Go("metric", {"permission": "declined", "feedback": None},
              say=(Message(fill(CoachingText.declined, state)),))


def _feedback(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    answers = CoachingAnswers.of(state.data)
    if not answers.self_assessment.get("self_assessment") or not answers.granted:
        raise FlowBug(CoachingText.guard)
    values = as_mapping(answer)
    problem = check_behaviour(values, {"feedback": CoachingText.feedback_label},
                              ModelSession.of(state.data).rep_name)
    return problem or Go("metric", {"feedback": values})


def _metric(session: ModelSession) -> str:
    return session.metric or CoachingText.the_metric


def _metric_prompt(state: FlowState, ctx: Context) -> Message:
    session = ModelSession.of(state.data)
    text = fill(CoachingText.metric, state)
    if session.baseline is not None and session.target is not None:
        text += CoachingText.metric_plan.format(baseline=fmt(session.baseline),
                                                target=fmt(session.target))
    form = Form("metric", (Field("value", fill(CoachingText.metric_value, state), "number"),))
    return Message(text, form=form)


def _metric_now(state: FlowState, answer: Answer, ctx: Context) -> Go:
    value = number(as_mapping(answer)["value"])
    session, answers = ModelSession.of(state.data), CoachingAnswers.of(state.data)
    values = {
        "self_assessment": answers.self_assessment.get("self_assessment"),
        "permission": answers.permission,
        "feedback": answers.feedback.get("feedback") if answers.granted else None,
        "metric": _metric(session),
        "metric_value": value,
    }
    sid = session.session_id
    then = fill(CoachingText.next_review, state) if session.review_date else ""
    done = Message(fill(CoachingText.done, state, value=fmt(value)) + then)
    return Go(END, {"metric_value": value},
              (RecordModelStage(sid, NAME, "R", values), CompleteModel(sid, NAME, "done")),
              say=(done,))


SPEC = FlowSpec(NAME, title=CoachingText.title, short_title="Sales coaching", runs_in="modal",
                build=build, start=start, subject=rep_named_in, resumed_by="/model {ref}")
