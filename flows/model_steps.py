"""Steps shared by field training and sales coaching (METHOD §5).

Each teaching stage is a form followed by "did the rep explain it back
correctly?": yes records the stage and moves on, no repeats the form with a
hint. The wording stays in each flow's ``T``; this module only wires it.
"""

from __future__ import annotations

from collections.abc import Callable

from flows.effects import RecordModelStage
from flows.engine import Answer, Context, FlowState, Go, Step, as_mapping
from flows.messages import YES_NO, Form, Message

Fill = Callable[[str, FlowState], str]


def check_step(step_id: str) -> str:
    """The id of the "explained back?" step that follows ``step_id``."""
    return f"{step_id}_check"


def repeats_key(step_id: str) -> str:
    return f"{step_id}_repeats"


def teach_stage(
    model: str,
    stage: str,
    step_id: str,
    form: Form,
    texts: tuple[str, str, str],
    next_step: str,
    fill: Fill,
    then: str | None = None,
) -> dict[str, Step]:
    """The form step and its understanding check; ``texts`` is (ask, check, hint).
    ``then``: a step the flow puts between the form and the check (it must lead to the
    check and keep its answers under ``step_id``)."""
    ask, check, hint = texts
    check_id = check_step(step_id)
    after_form = then or check_id

    def form_prompt(state: FlowState, ctx: Context) -> Message:
        return Message(fill(ask, state), form=form)

    def check_prompt(state: FlowState, ctx: Context) -> Message:
        return Message(fill(check, state), choices=YES_NO)

    def understood(state: FlowState, answer: Answer, ctx: Context) -> Go:
        repeats = int(state.data.get(repeats_key(step_id), 0))
        if answer != "yes":
            return Go(step_id, {repeats_key(step_id): repeats + 1},
                      say=(Message(fill(hint, state)),))
        values = {**as_mapping(state.data.get(step_id)), "explained_back": True,
                  "repeats": repeats}
        record = RecordModelStage(state.data["session_id"], model, stage, values)
        return Go(next_step, effects=(record,))

    return {
        step_id: Step(step_id, stage, form_prompt,
                      lambda s, a, c: Go(after_form, {step_id: a}), (after_form,)),
        check_id: Step(check_id, stage, check_prompt, understood, (next_step, step_id)),
    }
