"""Field training: Tell, Show, Do, Review (METHOD §5).

Directive: the rep does not yet know what, why or how. Each teaching stage ends
with the rep explaining it back; the review lets the rep self-assess first and
takes positives before constructive points.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flows.effects import CompleteModel, RecordModelStage
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
)
from flows.feedback import check_behaviour
from flows.messages import Choice, Field, Form, Message
from flows.model_session import ModelSession
from flows.model_steps import teach_stage
from flows.playbook import Playbook
from flows.spec import FlowSpec, rep_named_in

NAME = "training"
STAGES = {"T": "T — Tell", "S": "S — Show", "D": "D — Do", "R": "R — Review"}


class TrainingText:
    """Every sentence this flow says, in one place."""

    title = "Field training (Tell, Show, Do, Review)"
    tell = ("{T}\nField training with {rep} on {focus}. Walk {rep} through the steps, "
            "why they matter and what good looks like.")
    tell_check = "Ask {rep} to explain it back. Did {rep} get the steps and the why right?"
    tell_hint = ("Go over the part that got lost in smaller steps, with an example, "
                 "then ask {rep} to explain it back again.")
    show = "{S}\nDemonstrate it, live or with a recording, and note what {rep} should notice."
    show_check = "Did {rep} describe back what you did and why it worked?"
    show_hint = "Show it again and name each step out loud as you do it."
    do = ("{D}\n{rep} performs it: a role-play first, then live, each against what good "
          "looks like.")
    do_check = "Did {rep} explain what they did and how it compared with the criteria?"
    do_hint = "Role-play it once more, slower, pausing after each step to compare."
    self_assessment = "{R}\n{rep} goes first: how does {rep} think it went?"
    positives = ("What went well? Name the behaviours you saw, before any point to improve.")
    constructive = ("Now one or two points to improve: a behaviour you saw and what to do "
                    "instead.")
    decision = "What next for {rep} on {focus}?"
    done = "Field training with {rep} on {focus} saved. {next}"
    next_repeat = "Next: the training again, when you next meet: /model {rep_ref}."
    next_coaching = "Next: sales coaching on {focus}: /model {rep_ref}."
    next_move_on = "{rep} has it: move on."
    next_review = " The plan's review is on {review_date}: /review {rep_ref}."
    no_positives_yet = "positives must be entered before constructive points"

    tell_steps = "The steps, in order"
    tell_why = "Why it matters"
    tell_good = "What good looks like (the criteria)"
    show_how = "How you demonstrated it"
    show_live = "Live"
    show_recording = "Recording"
    show_notes = "What to notice"
    do_role_play = "Role-play: how it went against the criteria"
    do_live = "Live: how it went against the criteria"
    do_live_hint = "if it happened today"
    rep_view = "The rep's self-assessment"
    positives_label = "What went well (behaviours)"
    point_1 = "First point to improve"
    point_2 = "Second point to improve"
    repeat = "Repeat the training"
    move_on = "Move on: the rep has it"
    hand_off = "Hand off to sales coaching"


TELL = Form("tell", (
    Field("steps", TrainingText.tell_steps, "long_text"),
    Field("why", TrainingText.tell_why, "long_text"),
    Field("good", TrainingText.tell_good, "long_text"),
))
SHOW = Form("show", (
    Field("how", TrainingText.show_how, "choice",
          options=(Choice("live", TrainingText.show_live),
                   Choice("recording", TrainingText.show_recording))),
    Field("notes", TrainingText.show_notes, "long_text"),
))
DO = Form("do", (
    Field("role_play", TrainingText.do_role_play, "long_text"),
    Field("live", TrainingText.do_live, "long_text", required=False,
          hint=TrainingText.do_live_hint),
))
SELF_ASSESSMENT = Form("self_assessment", (Field("self_assessment", TrainingText.rep_view,
                                                 "long_text"),))
POSITIVES = Form("positives", (Field("positives", TrainingText.positives_label, "long_text"),))
CONSTRUCTIVE = Form("constructive", (
    Field("point_1", TrainingText.point_1, "long_text"),
    Field("point_2", TrainingText.point_2, "long_text", required=False),
))
DECISIONS = (Choice("repeat", TrainingText.repeat), Choice("move_on", TrainingText.move_on),
             Choice("coaching", TrainingText.hand_off))


NEXT = {"repeat": TrainingText.next_repeat, "coaching": TrainingText.next_coaching,
        "move_on": TrainingText.next_move_on}


@dataclass(frozen=True, slots=True)
class TrainingAnswers:
    """The Review's answers so far, as the conversation keeps them (each form's values
    under its step's id; the decision as chosen)."""

    self_assessment: Mapping[str, Any]
    positives: Mapping[str, Any]
    constructive: Mapping[str, Any]

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> TrainingAnswers:
        return cls(as_mapping(data.get("self_assessment")), as_mapping(data.get("positives")),
                   as_mapping(data.get("constructive")))


def start(playbook: Playbook, ctx: Context, data: Mapping[str, Any],
          flow: Flow | None = None) -> Outcome:
    """``data``: a :class:`ModelSession` as stored (``as_data``)."""
    return begin(flow or build(playbook), data, ctx)


def fill(template: str, state: FlowState, **extra: str) -> str:
    session = ModelSession.of(state.data)
    return template.format(rep=session.rep_name, rep_ref=session.rep_ref,
                           review_date=session.review_date, focus=session.focus, **STAGES,
                           **extra)


def build(playbook: Playbook) -> Flow:
    steps: dict[str, Step] = {
        **teach_stage(NAME, "T", "tell", TELL, (TrainingText.tell, TrainingText.tell_check,
                                                TrainingText.tell_hint),
                      "show", fill),
        **teach_stage(NAME, "S", "show", SHOW, (TrainingText.show, TrainingText.show_check,
                                                TrainingText.show_hint),
                      "do", fill),
        **teach_stage(NAME, "D", "do", DO, (TrainingText.do, TrainingText.do_check,
                                            TrainingText.do_hint),
                      "self_assessment", fill),
        "self_assessment": Step("self_assessment", "R", _form(TrainingText.self_assessment,
                                                              SELF_ASSESSMENT),
                                lambda s, a, c: Go("positives", {"self_assessment": a}),
                                ("positives",)),
        "positives": Step("positives", "R", _form(TrainingText.positives, POSITIVES), _positives,
                          ("constructive",)),
        "constructive": Step("constructive", "R", _form(TrainingText.constructive, CONSTRUCTIVE),
                             _constructive, ("decision",)),
        "decision": Step("decision", "R", _decision_prompt, _decision, (END,)),
    }
    return Flow(NAME, TrainingText.title, STAGES, steps, "tell")


def _form(template: str, form: Form) -> Prompt:
    return lambda state, ctx: Message(fill(template, state), form=form)


def _positives(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    values = as_mapping(answer)
    problem = check_behaviour(values, {"positives": TrainingText.positives_label}, _rep(state))
    return problem or Go("constructive", {"positives": values})


def _constructive(state: FlowState, answer: Answer, ctx: Context) -> Go | Retry:
    if not TrainingAnswers.of(state.data).positives:
        raise FlowBug(TrainingText.no_positives_yet)
    values = as_mapping(answer)
    problem = check_behaviour(values, {"point_1": TrainingText.point_1,
                                       "point_2": TrainingText.point_2}, _rep(state))
    return problem or Go("decision", {"constructive": values})


def _decision_prompt(state: FlowState, ctx: Context) -> Message:
    return Message(fill(TrainingText.decision, state), choices=DECISIONS)


def _decision(state: FlowState, answer: Answer, ctx: Context) -> Go:
    decision = str(answer)
    session, answers = ModelSession.of(state.data), TrainingAnswers.of(state.data)
    values = {
        "self_assessment": answers.self_assessment.get("self_assessment"),
        "positives": answers.positives.get("positives"),
        "constructive": [answers.constructive[k] for k in ("point_1", "point_2")
                         if k in answers.constructive],
        "decision": decision,
    }
    sid = session.session_id
    then = fill(NEXT[decision], state)
    if session.review_date:
        then += fill(TrainingText.next_review, state)
    done = Message(fill(TrainingText.done, state, next=then))
    return Go(END, {"decision": decision},
              (RecordModelStage(sid, NAME, "R", values), CompleteModel(sid, NAME, decision)),
              say=(done,))


def _rep(state: FlowState) -> str:
    return ModelSession.of(state.data).rep_name


SPEC = FlowSpec(NAME, title=TrainingText.title, short_title="Field training", runs_in="modal",
                build=build, start=start, subject=rep_named_in, resumed_by="/model {ref}")
