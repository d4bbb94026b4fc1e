"""What the Teams surface itself says (the flows' words come from the flows)."""

from __future__ import annotations


class TeamsText:
    outside = ("This Teams organisation is not connected to smOS Coach, so I can't show "
               "you anything here. Ask your admin to add its tenant id to TEAMS_TENANT_ID.")
    unknown = ("I couldn't match your Teams account{email} to anyone in smOS Coach. Ask your "
               "admin to add you (`coach people import people.csv`, with your email or your "
               "Entra object id in `teams_user_id`), then say hello again.")
    rebound = ("{email} is already linked to another Teams account. Ask your admin to clear "
               "`teams_user_id` for it if this account is the right one.")
    welcome = ("Hi, I'm smOS Coach. Type **help** to see what I can do, or **coach** and a "
               "rep's name to start a coaching session.")
    acknowledge = "Got it"
    acknowledged = "Thanks, {name}: your manager will see that you have read the plan."
    not_yours = "That plan belongs to someone else."
    personal_only = ("Coaching is private, so I only talk about it in our one-to-one chat: "
                     "open smOS Coach from Apps, or send me a chat message.")
    submit = "Send"
    choose = "Choose one"
    answered = "✓ {answer}"
    closed = "This question is closed; the latest one is below."
    unreadable = "I couldn't read that card. Please use the latest card, or type your answer."
    clipped = "… (shortened)"
