"""Everything the SLED flow says and asks: sentences, choices and forms, in one place."""

from __future__ import annotations

from flows.messages import Choice, Field, Form

MAX_ACTIONS = 10
STAGES = {
    "S": "S — Set the stage",
    "L": "L — Lead the performance analysis",
    "E": "E — Explore solutions",
    "D": "D — Develop the action plan",
}


class SledText:
    """Every sentence this flow says, in one place."""

    set_stage = ("{S}\nState today's purpose, objectives and agenda, "
                 "and what {rep} gets out of it.")
    aligned = "Does {rep} understand and agree with the purpose and agenda?"
    not_aligned = "Take a minute with {rep} on what would make today worth it, then revise."
    gap = "{L}\nWhich gap is worth pursuing today? (The ROAM numbers are in the card above.)"
    views = ("State the gap in numbers. In coaching, ask for {rep}'s view first, then give yours.")
    views_from_data = ("The gap: {gap}. In coaching, ask for {rep}'s view first, "
                       "then give yours.")
    gap_kept = "Leave blank to keep: {gap}"
    gap_in_numbers = "the gap is in numbers: {gap}"
    peers_met = "{met} of {peers} teammates reached their {metric} target in the same period"
    peers_missed = ("none of {peers} teammates reached their {metric} target in the same "
                    "period{avg}")
    team_avg = " (team avg {value})"
    stretch_goal = ("{rep} is on target: set a stretch or development goal (no corrective "
                    "chart today). Ask for {rep}'s view first.")

    # The context card (shown once, when the session starts).
    card_title = "Coaching {rep} — before you start:"
    card_last = "Last session: {date}, focus {focus}, result {leaf}."
    card_no_last = "Last session: none recorded."
    card_review = "Next review planned: {date}."
    card_model = "Planned, not yet run: {model} (agreed {date}); run it with /model {rep_ref}."
    card_actions = "Open action items: {count}"
    card_action = "  • {description} — {owner}, due {due} ({status})"
    card_blocked_note = "  • {description} — {owner}, due {due} (blocked: {note})"
    card_checkins = "Recent check-ins:"
    card_checkin = "  • {week}: {summary}"
    card_blockers = "Blockers from check-ins:"
    card_blocker = "  • {week}: {note}"
    focus = "Agree on ONE focus area for today."
    agreed = "Do you and {rep} agree this is the problem to work on?"
    revisit = "Work through the views again until you agree on one problem."
    chart_intro = ("{E}\nLet's find the cause with the solution chart. "
                   "Answer each question yes or no.")
    define_gap = "Let's go back to the numbers and name a measurable gap."
    no_action = "You decided the gap is not worth pursuing now. Note why, if you like."
    no_action_done = "Recorded: no action for now. Thanks — see you at the next 1:1."
    private_note = ("Keep a private note (never shown to {rep}, never in the digest). "
                    "No skills coaching today.")
    action = ("{D}\nAdd an action item: what, who owns it, and by when. {rep} sees it "
              "when they own it, or when you choose to share it.")
    private_action = ("{D}\nAdd an action item for yourself. Nothing of this plan is shown "
                      "to {rep}.")
    manager_owned = " This leaf calls for your action: the owner is usually you."
    not_committed = ("{rep} is not committed. Go back to exploring solutions, or end the "
                     "session with no agreement?")
    no_agreement_done = ("Session with {rep} saved as \"no agreement\". No plan was sent "
                         "to {rep}.")
    rep_private = "Your conversation with {manager} today has been recorded."
    more = "Action added ({count} so far). Add another?"
    success_from_data = ("How will you know it worked? The metric, baseline and target come "
                         "from {metric} as you picked it (change them if you like); when is "
                         "the next review?")
    success = ("How will you know it worked? Name the success metric, the baseline, "
               "the target and the next review date.")
    model = "Which model runs next?"
    committed = "Is {rep} committed to this plan?"
    private_committed = "Are you and {rep} agreed on the next steps?"
    handoff = "Start the {model} now, or later with /model {rep_ref}?"
    planned = " (planned at the last review)"
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
STRETCH = Form("stretch_goal", (
    Field("goal", "The stretch or development goal", "long_text"),
    Field("rep_view", "The rep's view", "long_text", required=False),
))


def views_from_data(gap: str) -> Form:
    """The views form when the gap came from the data: its numbers are already known."""
    given, *rest = VIEWS.fields
    return Form(VIEWS.id, (Field(given.id, given.label, required=False,
                                 hint=SledText.gap_kept.format(gap=gap)), *rest))

NO_ACTION = Form("no_action", (Field("reason", "Why not now", required=False),))
PRIVATE_NOTE = Form("private_note", (Field("note", "Private note", "long_text"),))
OWNERS = (Choice("rep", "The rep"), Choice("manager", "Me (the manager)"))
SHARE = (Choice("yes", "Yes, show it to the rep"), Choice("no", "No, keep it to me"))
_ACTION_FIELDS = (
    Field("description", "Action"),
    Field("owner", "Owner", "choice", options=OWNERS),
    Field("due", "Due date", "date", hint="YYYY-MM-DD"),
)
ACTION = Form("action", (*_ACTION_FIELDS, Field(
    "shared", "Show it to the rep", "choice", required=False, options=SHARE,
    hint="default: yes when the rep owns it")))
PRIVATE_ACTION = Form("action", _ACTION_FIELDS)  # after a private leaf: never shared


def action_form(rep_name: str, rep_names: tuple[str, ...], manager_name: str,
                manager_email: str, base: Form = ACTION) -> Form:
    """The action form with its owners named: "rep", "manager", "me", or either person's
    name or email (``rep_names``: the rep's other names) picks the owner."""
    rep_label = f"{rep_name} (the rep)" if rep_name else OWNERS[0].label
    owners = (Choice("rep", rep_label, also=(rep_name, *rep_names)),
              Choice("manager", OWNERS[1].label, also=("me", manager_name, manager_email)))
    fields = tuple(f if f.id != "owner" else Field(f.id, f.label, f.kind, options=owners)
                   for f in base.fields)
    return Form(base.id, fields)


MORE = (Choice("add", "Add another action"), Choice("done", "That's the plan"))
SUCCESS = Form("success", (
    Field("metric", "Success metric"),
    Field("baseline", "Baseline", "number"),
    Field("target", "Target", "number"),
    Field("review_date", "Next review date", "date", hint="YYYY-MM-DD"),
))
MODELS = tuple(Choice(k, v[0].upper() + v[1:]) for k, v in MODEL_LABELS.items())
COMMITTED = (Choice("yes", "Yes"), Choice("no", "No"), Choice("revise", "Revise the actions"))
NOT_COMMITTED = (Choice("explore", "Back to exploring solutions"),
                 Choice("end", "End with no agreement"))
HANDOFF = (Choice("now", "Start now"), Choice("later", "Later"))
