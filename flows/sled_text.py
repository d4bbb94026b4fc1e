"""Everything the SLED flow says and asks: sentences, choices and forms, in one place."""

from __future__ import annotations

from flows.messages import Choice, Field, Form

MAX_ACTIONS = 10


class T:
    """Every sentence this flow says, in one place."""

    set_stage = ("{S}\nState today's purpose, objectives and agenda, "
                 "and what {rep} gets out of it.")
    aligned = "Does {rep} understand and agree with the purpose and agenda?"
    not_aligned = "Take a minute with {rep} on what would make today worth it, then revise."
    gap = "{L}\n{roam}\n\nWhich gap is worth pursuing today?"
    views = ("State the gap in numbers. In coaching, ask for {rep}'s view first, then give yours.")
    focus = "Agree on ONE focus area for today."
    agreed = "Do you and {rep} agree this is the problem to work on?"
    revisit = "Work through the views again until you agree on one problem."
    chart_intro = ("{E}\nLet's find the cause with the solution chart. "
                   "Answer each question yes or no.")
    define_gap = "Let's go back to the numbers and name a measurable gap."
    no_action = "You decided the gap is not worth pursuing now. Note why, if you like."
    no_action_done = "Recorded: no action for now. Thanks — see you at the next 1:1."
    escalation = ("This looks systemic, not about {rep}. Your leader will see an escalation: "
                  "describe the impact and the evidence.")
    private_note = ("Keep a private note (never shown to {rep}, never in the digest). "
                    "No skills coaching today.")
    solution = "Note the options {rep} suggested, and the solution you agreed."
    action = "{D}\nAdd an action item: what, who owns it, and by when."
    manager_owned = " This leaf calls for your action: the owner is usually you."
    more = "Action added ({count} so far). Add another?"
    success = ("How will you know it worked? Name the success metric, the baseline, "
               "the target and the next review date.")
    model = "Which model runs next?"
    committed = "Is {rep} committed to this plan?"
    handoff = "Start the {model} now, or later with /model {rep_ref}?"
    done = "Session with {rep} saved. Action plan:\n{plan}"
    rep_summary = "Your action plan from today's session with {manager}:\n{plan}"
    due_past = "The due date {due} is in the past; pick today ({today}) or later."
    review_past = "The review date {due} is in the past; pick today ({today}) or later."
    too_far = "The date {due} is more than a year away; pick something sooner."
    too_many = f"That is {MAX_ACTIONS} actions already: keep the plan short and move on."


MODEL_LABELS = {"training": "field training (Tell, Show, Do, Review)",
                "coaching": "sales coaching (Engage, Practice, Do, Review)",
                "none": "no model"}


ALIGNED = (Choice("yes", "Yes"), Choice("revise", "No — revise the purpose"),
           Choice("go_on", "No, but go on"))
AGREED = (Choice("yes", "Yes"), Choice("revise", "No — revisit the views"),
          Choice("go_on", "No, but go on"))

SET_STAGE = Form("set_stage", (
    Field("purpose", "Purpose"),
    Field("objectives", "Objectives"),
    Field("agenda", "Agenda", required=False),
    Field("value_to_rep", "Value to the rep"),
))
VIEWS = Form("views", (
    Field("gap_statement", "The gap, in numbers"),
    Field("rep_view", "The rep's view", "long_text"),
    Field("manager_view", "Your view", "long_text"),
))
NO_ACTION = Form("no_action", (Field("reason", "Why not now", required=False),))
ESCALATION = Form("escalation", (
    Field("impact", "Impact", "long_text"), Field("evidence", "Evidence", "long_text"),
))
PRIVATE_NOTE = Form("private_note", (Field("note", "Private note", "long_text"),))
SOLUTION = Form("solution", (
    Field("options", "Options the rep suggested", "long_text", required=False),
    Field("agreed_solution", "Agreed solution", "long_text"),
))
OWNERS = (Choice("rep", "The rep"), Choice("manager", "Me (the manager)"))
ACTION = Form("action", (
    Field("description", "Action"),
    Field("owner", "Owner", "choice", options=OWNERS),
    Field("due", "Due date", "date", hint="YYYY-MM-DD"),
))


def action_form(rep_name: str, rep_names: tuple[str, ...], manager_name: str,
                manager_email: str) -> Form:
    """The action form with its owners named: "rep", "manager", "me", or either person's
    name or email (``rep_names``: the rep's other names) picks the owner."""
    rep_label = f"{rep_name} (the rep)" if rep_name else OWNERS[0].label
    owners = (Choice("rep", rep_label, also=(rep_name, *rep_names)),
              Choice("manager", OWNERS[1].label, also=("me", manager_name, manager_email)))
    fields = tuple(f if f.id != "owner" else Field(f.id, f.label, f.kind, options=owners)
                   for f in ACTION.fields)
    return Form(ACTION.id, fields)


MORE = (Choice("add", "Add another action"), Choice("done", "That's the plan"))
SUCCESS = Form("success", (
    Field("metric", "Success metric"),
    Field("baseline", "Baseline", "number"),
    Field("target", "Target", "number"),
    Field("review_date", "Next review date", "date", hint="YYYY-MM-DD"),
))
MODELS = tuple(Choice(k, v[0].upper() + v[1:]) for k, v in MODEL_LABELS.items())
COMMITTED = (Choice("yes", "Yes"), Choice("no", "No"), Choice("revise", "Revise the actions"))
HANDOFF = (Choice("now", "Start now"), Choice("later", "Later"))
