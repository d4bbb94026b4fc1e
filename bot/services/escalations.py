"""The escalation inbox (/escalations): the owner's open and acknowledged escalations,
each with its actions — acknowledge, resolve with a note (a form: flows/escalation.py),
reassign to another manager or leader of the organisation by email or name.

Only the owner, or someone above the owner in the reporting tree, may act (METHOD §9),
checked on every action; anyone else is told the escalation is not theirs, the same
words whether it exists or not (nobody learns of another team's escalations).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.channels.routing import route
from bot.clock import zone
from bot.runner import Turn
from flows.engine import clean_text
from flows.messages import Choice, Message, message_to_json
from flows.playbook import Playbook
from storage import audit, escalations, outbox
from storage.escalations import InboxLine

SHOWN = 10  # escalations listed at once (the oldest open ones first)
CANDIDATES = 10  # new owners offered as choices when reassigning
MAX_ID_DIGITS = 9
MAX_NOTE = 4000


class EscalationsText:
    """Every sentence the inbox says, in one place."""

    empty = "No open escalations for you. Nothing to do here."
    header = "Your escalations: {open} open, {acknowledged} acknowledged."
    more = "…and {count} more. Resolve or reassign these to see the next ones."
    line = ("#{id} {status} · {leaf} · {rep}, raised by {raiser} {age}\n"
            "Impact: {impact}\nEvidence: {evidence}{fix}")
    fix_owner = "\nSuggested owner of the fix: {owner}"
    today = "today"
    days_ago = "{days} days ago"
    one_day_ago = "yesterday"
    open = "OPEN"
    acknowledged = "acknowledged"
    acknowledge = "Acknowledge"
    resolve = "Resolve…"
    reassign = "Reassign…"
    usage = ("{problem} Say /escalations to see your inbox, then /escalations ack <number>, "
             "/escalations resolve <number> or /escalations reassign <number> <email or name>.")
    unknown_verb = "I don't know \"{verb}\" for escalations."
    no_number = "Which escalation? Give its number, like #12."
    bad_number = "\"{given}\" is not an escalation number (like #12)."
    note_too_long = "That note is {size:,} characters; the limit is {limit:,}."
    not_yours = "Escalation #{id} is not in your inbox (nor in the inbox of anyone below you)."
    acknowledged_now = "Acknowledged #{id}. It stays in your inbox until it is resolved."
    already_acknowledged = "#{id} was already acknowledged."
    already_resolved = "#{id} is already resolved."
    resolved_now = "Resolved #{id}."
    pick_owner = ("Reassign #{id} to whom? Pick one, or say "
                  "/escalations reassign {id} <email or name>.")
    more_owners = "(Only the first {count} are listed: name the one you mean.)"
    no_owner = "Nobody else in your organisation can take #{id} (managers and leaders only)."
    no_such_owner = ("No manager or leader of your organisation matches \"{ref}\". Use their "
                     "email, or /escalations reassign {id} to pick from a list.")
    several_owners = "\"{ref}\" matches {names}. Please use the email."
    same_owner = "{name} already owns #{id}."
    reassigned = "Reassigned #{id} to {name}. They have it in their inbox now."
    handed_to_you = ("{actor} passed escalation #{id} to you ({leaf}, about {rep}): {impact}\n"
                     "See /escalations to acknowledge, resolve or reassign it.")


# --- what the person typed --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListInbox:
    pass


@dataclass(frozen=True, slots=True)
class Acknowledge:
    escalation_id: int


@dataclass(frozen=True, slots=True)
class Resolve:
    escalation_id: int
    note: str  # empty: ask for it in a form


@dataclass(frozen=True, slots=True)
class Reassign:
    escalation_id: int
    to: str  # an email or a name; empty: offer a list


@dataclass(frozen=True, slots=True)
class Unclear:
    problem: str  # what to tell the person (the usage follows it)


InboxAction = ListInbox | Acknowledge | Resolve | Reassign | Unclear
VERBS = {"ack": "ack", "acknowledge": "ack", "resolve": "resolve", "reassign": "reassign",
         "list": "list", "inbox": "list"}


def parse_action(rest: str) -> InboxAction:
    """What ``/escalations <rest>`` asks for; any text gives an action or an
    :class:`Unclear` saying what is wrong (never an exception)."""
    words = rest.strip().split(maxsplit=2)
    if not words:
        return ListInbox()
    verb = VERBS.get(words[0].casefold())
    if verb is None:
        return Unclear(EscalationsText.unknown_verb.format(verb=words[0][:40]))
    if verb == "list":
        return ListInbox()
    if len(words) < 2:
        return Unclear(EscalationsText.no_number)
    number = words[1].removeprefix("#")
    if not (number.isascii() and number.isdigit() and len(number) <= MAX_ID_DIGITS
            and int(number) > 0):
        return Unclear(EscalationsText.bad_number.format(given=words[1][:20]))
    escalation_id = int(number)
    extra = clean_text(words[2]) if len(words) > 2 else ""
    if verb == "ack":
        return Acknowledge(escalation_id)
    if verb == "resolve":
        if len(extra) > MAX_NOTE:
            return Unclear(EscalationsText.note_too_long.format(size=len(extra), limit=MAX_NOTE))
        return Resolve(escalation_id, extra)
    return Reassign(escalation_id, extra[:200])


# --- the command ------------------------------------------------------------------------


def escalations_command(turn: Turn, rest: str) -> None:
    """/escalations [ack|resolve|reassign <number> [note | email or name]]."""
    action = parse_action(rest)
    match action:
        case ListInbox():
            show_inbox(turn)
        case Unclear(problem):
            turn.say(Message(EscalationsText.usage.format(problem=problem)))
        case Acknowledge(escalation_id):
            if _allowed(turn, escalation_id):
                _acknowledge(turn, escalation_id)
        case Resolve(escalation_id, note):
            if _allowed(turn, escalation_id):
                _resolve(turn, escalation_id, note)
        case Reassign(escalation_id, to):
            if _allowed(turn, escalation_id):
                _reassign(turn, escalation_id, to)


def show_inbox(turn: Turn) -> None:
    inbox = escalations.inbox(turn.conn, turn.me.id, SHOWN)
    if not inbox.total:
        turn.say(Message(EscalationsText.empty))
        return
    turn.say(Message(EscalationsText.header.format(open=inbox.open,
                                                   acknowledged=inbox.acknowledged)))
    for line in inbox.lines:
        turn.say(Message(describe(line, turn.flows.playbook, turn.now, turn.me.timezone),
                         choices=actions_of(line)))
    if inbox.total > len(inbox.lines):
        turn.say(Message(EscalationsText.more.format(count=inbox.total - len(inbox.lines))))


def describe(line: InboxLine, playbook: Playbook, now: datetime, timezone: str) -> str:
    """One escalation in words: number, status, the leaf by its playbook label, whom it is
    about, who raised it and how long ago, impact and evidence."""
    return EscalationsText.line.format(
        id=line.id, leaf=playbook.leaf_label(line.leaf), rep=line.rep, raiser=line.raised_by,
        status=EscalationsText.open if line.status == "open" else EscalationsText.acknowledged,
        age=age(line.created_at, now, timezone), impact=line.impact, evidence=line.evidence,
        fix=EscalationsText.fix_owner.format(owner=line.fix_owner) if line.fix_owner else "")


def age(created_at: datetime, now: datetime, timezone: str) -> str:
    """How long ago, in calendar days of the reader's time zone."""
    local = zone(timezone)
    days = (now.astimezone(local).date() - created_at.astimezone(local).date()).days
    if days <= 0:
        return EscalationsText.today
    if days == 1:
        return EscalationsText.one_day_ago
    return EscalationsText.days_ago.format(days=days)


def actions_of(line: InboxLine) -> tuple[Choice, ...]:
    """The buttons of one escalation: each a command, so every surface runs it as typed."""
    acknowledge = (Choice(f"/escalations ack {line.id}", EscalationsText.acknowledge),)
    return (*(acknowledge if line.status == "open" else ()),
            Choice(f"/escalations resolve {line.id}", EscalationsText.resolve),
            Choice(f"/escalations reassign {line.id}", EscalationsText.reassign))


def _allowed(turn: Turn, escalation_id: int) -> bool:
    found = escalations.owned(turn.conn, escalation_id)
    if found is not None and escalations.may_act(turn.conn, turn.me.id, found.owner_id):
        return True
    turn.log("refused", verb="escalations", ref=str(escalation_id), reason="not the owner")
    turn.say(Message(EscalationsText.not_yours.format(id=escalation_id)))
    return False


def _acknowledge(turn: Turn, escalation_id: int) -> None:
    change = escalations.acknowledge(turn.conn, escalation_id, turn.me.id, turn.now)
    text = {"done": EscalationsText.acknowledged_now, "already":
            EscalationsText.already_acknowledged, "resolved": EscalationsText.already_resolved}
    turn.say(Message(text[change].format(id=escalation_id)))


def _resolve(turn: Turn, escalation_id: int, note: str) -> None:
    if note:
        change = escalations.resolve(turn.conn, escalation_id, turn.me.id, note, turn.now)
        turn.say(Message((EscalationsText.resolved_now if change == "done"
                          else EscalationsText.already_resolved).format(id=escalation_id)))
        return
    found = escalations.owned(turn.conn, escalation_id)
    if found is None or found.status == "resolved":
        turn.say(Message(EscalationsText.already_resolved.format(id=escalation_id)))
        return
    line = escalations.line_of(turn.conn, escalation_id)
    about = f"#{escalation_id} ({turn.flows.playbook.leaf_label(found.leaf)}"
    about += f", about {line.rep})" if line else ")"
    turn.begin_flow("escalation", None, f"escalation:{escalation_id}", {
        "escalation_id": escalation_id, "about": about,
        "raiser": line.raised_by if line else ""})


def _reassign(turn: Turn, escalation_id: int, to: str) -> None:
    found = escalations.owned(turn.conn, escalation_id)
    assert found is not None and found.owner_id is not None  # _allowed checked both
    if found.status == "resolved":
        turn.say(Message(EscalationsText.already_resolved.format(id=escalation_id)))
        return
    org = turn.person.org_id
    if not to:
        offered = escalations.new_owners(turn.conn, org, "", CANDIDATES + 1,
                                         besides=found.owner_id)
        if not offered:
            turn.say(Message(EscalationsText.no_owner.format(id=escalation_id)))
            return
        text = EscalationsText.pick_owner.format(id=escalation_id)
        if len(offered) > CANDIDATES:
            text += " " + EscalationsText.more_owners.format(count=CANDIDATES)
        turn.say(Message(text, choices=tuple(
            Choice(f"/escalations reassign {escalation_id} {email}", f"{name} <{email}>")
            for _, email, name, _ in offered[:CANDIDATES])))
        return
    matches = escalations.new_owners(turn.conn, org, to, 6)
    exact = [m for m in matches if m[1] == to.strip().lstrip("@").casefold()]
    matches = exact or matches
    if not matches:
        turn.say(Message(EscalationsText.no_such_owner.format(ref=to[:80], id=escalation_id)))
        return
    if len(matches) > 1:
        names = ", ".join(f"{name} <{email}>" for _, email, name, _ in matches[:5])
        turn.say(Message(EscalationsText.several_owners.format(ref=to[:80], names=names)))
        return
    new_id, email, name, timezone = matches[0]
    if new_id == found.owner_id:
        turn.say(Message(EscalationsText.same_owner.format(name=name, id=escalation_id)))
        return
    line = escalations.line_of(turn.conn, escalation_id)
    change = escalations.reassign(turn.conn, escalation_id, turn.me.id, found.owner_id, new_id,
                                  turn.now)
    if change != "done":
        turn.say(Message(EscalationsText.already_resolved.format(id=escalation_id)))
        return
    audit.record(turn.conn, at=turn.now, actor=audit.Actor.person(turn.me.id),
                 action="escalation.reassign", subject=f"escalation:{escalation_id}",
                 org_id=org, detail={"from": found.owner_id, "to": new_id})
    turn.say(Message(EscalationsText.reassigned.format(id=escalation_id, name=name)))
    _tell_new_owner(turn, escalation_id, new_id, email, timezone, line)


def _tell_new_owner(turn: Turn, escalation_id: int, owner_id: int, email: str, timezone: str,
                    line: InboxLine | None) -> None:
    """The new owner hears of it at once, in chat (an ``escalation`` of the rhythm)."""
    if line is None:
        return
    text = EscalationsText.handed_to_you.format(
        actor=turn.me.name, id=escalation_id, leaf=turn.flows.playbook.leaf_label(line.leaf),
        rep=line.rep, impact=line.impact)
    to = route(turn.conn, turn.who, turn.person.org_id, email)
    occurrence = f"esc-{escalation_id}:to-{owner_id}:{turn.now.isoformat()}"
    outbox.enqueue(turn.conn, key=f"escalation:{owner_id}:{occurrence}", kind=to.channel,
                   target=email, now=turn.now, payload={
                       "tenant": to.tenant, "message": message_to_json(Message(text, to=email)),
                       "scheduled": {"kind": "escalation",
                                     "at": turn.now.astimezone(zone(timezone)).isoformat()}})
