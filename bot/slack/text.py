"""Every sentence the Slack surface says on its own (the flows say the rest)."""

from __future__ import annotations

from typing import ClassVar


class SlackText:
    app_name = "smOS Coach"
    pick = "Choose…"
    fill_in = "Fill in…"
    next = "Next"
    later = "Later"
    close = "Close"
    acknowledge = "Got it"
    acknowledged = "Thanks, {name}: your manager will see that you have read the plan."
    not_yours = "That plan belongs to someone else."
    private = "Private: never shown to the rep"
    shortened = "_Earlier text was shortened._"
    nothing = "Nothing to show."
    chose = "✓ {label}"
    picker_title = "Start a session"
    picker = "Whom do you want to coach?"
    picker_search = ("Whom do you want to coach? You can coach more than {count} people: "
                     "type `/coach` and the start of a name, or an email.")
    no_reports = "You have no reports to coach yet. Ask your admin to import your team."
    continue_with = "Continue with {rep}"
    continue_session = "Continue"
    unknown = ("I don't know you yet{email}. Ask your smOS Coach admin to add you: "
               "`coach people import people.csv` with a row for your email, name, role "
               "(rep, manager, leader or admin) and manager. Then try again.")
    outside = ("smOS Coach is not set up for your Slack workspace, so there is nothing here "
               "for you. If you think it should be, ask whoever runs smOS Coach at your "
               "company.")
    team_outside = ("{who} is not in your organisation's Slack workspace, so I can't add "
                    "them to your team.")
    rebound = ("Your Slack account looks different from the one on file for {email}. "
               "Ask your admin to update your Slack user id.")
    busy_submit = ("My storage is briefly unavailable, so your answer was not saved. "
                   "Please press submit again in a moment.")
    help_more = ("The App Home tab shows what is next for you; you can also write to me "
                 "here in the DM.")
    team_usage = "Say `/coach team add @rep` to add a direct report."
    team_not_allowed = ("Adding reports from Slack is turned off in your playbook. "
                        "Ask your admin to import them.")
    team_not_manager = "Only managers and leaders can add direct reports."
    team_no_email = "I couldn't read {who}'s email from Slack (the app needs users:read.email)."
    team_added: ClassVar[dict[str, str]] = {
        "added": "Added {name} as your direct report.",
        "attached": "{name} now reports to you.",
        "already": "{name} already reports to you.",
        "taken": "{name} reports to someone else; ask your admin to move them.",
        "not_a_rep": "{name} is not a rep; ask your admin to change reporting lines.",
    }
    item_done = "Marked done: {description}"
    item_blocked = "Marked blocked: {description}. Tell your manager what is in the way."
    item_missing = "That action item is not yours or no longer exists."
    home_manager = "Your reps"
    home_no_reps = "No reps yet. `/coach team add @rep` or ask your admin to import your team."
    home_rep_line = ("*{name}* — open actions: {open}{overdue} · last session: {last}"
                     "{in_progress}")
    home_overdue = " ({n} overdue)"
    home_in_progress = " · _session in progress_"
    home_start = "Start session"
    home_meetings = "Next cadence meetings"
    home_no_meetings = "No meetings scheduled."
    home_items = "Your action items"
    home_no_items = "No open action items. Nice."
    home_item = "{description} — due {due}{overdue} ({status})"
    home_item_overdue = ", *overdue*"
    home_item_managers = " — your manager's action"
    home_done = "Done"
    home_blocked = "Blocked"
    home_checkin = "Next check-in: {when} ({status})"
    home_checkin_now = "Answer check-in"
    home_digest = "Digest preview (your whole tree)"
    home_digest_body = (
        "Reps: {reps} · coached in the last {days} days: {coached} ({coverage})\n"
        "Sessions: {sessions} · open actions: {open} ({overdue} overdue) · "
        "open escalations for you: {escalations}"
    )
    home_escalations = "Escalations for you ({count})"
    home_escalation = ("*#{id} {leaf}* — about {rep}, raised by {raiser} on {day}"
                       "{acknowledged}\n{impact}")
    home_escalation_acknowledged = " · _acknowledged_"
    home_escalation_ack = "Acknowledge"
    home_escalations_more = "…and {count} more."
    home_escalations_open = "Open the inbox"
    home_admin = ("You are an admin: import people with `coach people import FILE.csv` and "
                  "metrics with `coach metrics import FILE.csv`.")
