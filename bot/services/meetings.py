"""/meetings (a manager's next meetings: move or skip one; answer "did it happen?") and
/away (out of office until a date: no check-in, no nudges meanwhile)."""

from __future__ import annotations

from datetime import UTC, timedelta

from bot.clock import zone
from bot.rhythm.meetings import label_of, when_text
from bot.runner import Turn
from flows.messages import Choice, Message
from flows.reading import date_text, read_away, read_when
from storage import rhythm

LISTED = 10
LOOK_AHEAD = timedelta(days=42)
STATUS_WORDS = {"held": "held", "skip": "skipped", "skipped": "skipped", "moved": "moved"}


class MeetingsText:
    none = "You have no meetings planned in the next six weeks."
    listed = "Your next meetings (pick one to move or skip it):\n{items}"
    item = "{number}) {when}: {label}"
    with_rep = "{meeting} with {rep}"
    pick = "{label}, {when}. Move it or skip it?"
    move = "Move it"
    skip = "Skip it"
    ask_when = ("When is it now? Say /meetings {id} move <day and time>, for example "
                "/meetings {id} move thursday 15:00.")
    unreadable = ("I couldn't read “{text}” as a day and time. Try “thursday 15:00”, "
                  "“tomorrow 3pm” or “2027-03-18 10:00”.")
    past = "{when} has already passed. Pick a time to come."
    moved = "Moved: {label} is now {when}."
    marked = "Noted: {label} on {when} was {status}."
    moved_no_time = ("Noted: it was moved. If it has a new time, say /meetings {id} move "
                     "<day and time>.")
    not_yours = "That is not one of your meetings. Say /meetings to see yours."
    already = "{label} on {when} is already marked {status}."
    usage = ("Say /meetings to see your next meetings, /meetings <number> move <day and time> "
             "or /meetings <number> skip.")
    away_usage = ("Say /away <last day away> (for example /away friday, /away 2027-03-20) "
                  "and I'll skip your check-ins and nudges until then; /away off when you "
                  "are back.")
    away_set = ("Out of office through {day}: no check-ins or nudges until then. "
                "/away off if you are back sooner.")
    away_now = "You are out of office through {day}. /away off if you are back."
    away_none = "You are not marked out of office."
    away_off = "Welcome back: check-ins and nudges are on again."
    away_past = "{day} has already passed. Give the last day you will be away."
    away_unreadable = "I couldn't read “{text}” as a date."


def meetings(turn: Turn, rest: str) -> None:
    words = rest.split(None, 2)
    if not words:
        _list(turn)
        return
    if not words[0].isdecimal() or len(words[0]) > 12:
        turn.say(Message(MeetingsText.usage))
        return
    found = rhythm.occurrence(turn.db, int(words[0]))
    if found is None or found.owner_id != turn.me.id:
        turn.say(Message(MeetingsText.not_yours))
        return
    label = _label(turn, found.meeting_type, found.subject_id)
    local = found.scheduled_for.astimezone(zone(turn.me.timezone))
    action = words[1].casefold() if len(words) > 1 else ""
    if action == "":
        turn.say(Message(MeetingsText.pick.format(label=label, when=when_text(local)),
                         choices=(Choice(f"/meetings {found.id} move", MeetingsText.move),
                                  Choice(f"/meetings {found.id} skip", MeetingsText.skip))))
        return
    if action == "move":
        _move(turn, found, label, words[2] if len(words) > 2 else "")
        return
    status = STATUS_WORDS.get(action)
    if status is None:
        turn.say(Message(MeetingsText.usage))
        return
    if found.status != "planned":
        turn.say(Message(MeetingsText.already.format(label=label, when=when_text(local),
                                                     status=found.status)))
        return
    rhythm.set_occurrence(turn.db, found.id, status, turn.now)
    turn.log("meeting", status=status, occurrence=found.id)
    turn.say(Message(MeetingsText.moved_no_time.format(id=found.id) if status == "moved"
                     else MeetingsText.marked.format(label=label, when=when_text(local),
                                                     status=status)))


def _list(turn: Turn) -> None:
    shown = rhythm.owned_planned(turn.db, turn.me.id, turn.now, turn.now + LOOK_AHEAD, LISTED)
    if not shown:
        turn.say(Message(MeetingsText.none))
        return
    tz = zone(turn.me.timezone)
    labels = [(o, _label(turn, o.meeting_type, o.subject_id),
               when_text(o.scheduled_for.astimezone(tz))) for o in shown]
    items = "\n".join(MeetingsText.item.format(number=o.id, when=when, label=label)
                      for o, label, when in labels)
    turn.say(Message(MeetingsText.listed.format(items=items), choices=tuple(
        Choice(f"/meetings {o.id}", f"{when}: {label}") for o, label, when in labels)))


def _move(turn: Turn, found: rhythm.OccurrenceLine, label: str, text: str) -> None:
    tz = zone(turn.me.timezone)
    if found.status not in ("planned", "moved"):
        local = found.scheduled_for.astimezone(tz)
        turn.say(Message(MeetingsText.already.format(label=label, when=when_text(local),
                                                     status=found.status)))
        return
    if not text.strip():
        turn.say(Message(MeetingsText.ask_when.format(id=found.id)))
        return
    local_now = turn.now.astimezone(tz)
    usual = found.scheduled_for.astimezone(tz).time()
    when = read_when(text, local_now.replace(tzinfo=None), usual)
    if when is None:
        turn.say(Message(MeetingsText.unreadable.format(text=text[:80])))
        return
    at = when.replace(tzinfo=tz).astimezone(UTC)
    if at <= turn.now:
        turn.say(Message(MeetingsText.past.format(when=when_text(when))))
        return
    rhythm.set_occurrence(turn.db, found.id, "moved", turn.now, moved_to=at)
    turn.log("meeting", status="moved", occurrence=found.id, to=at.isoformat())
    turn.say(Message(MeetingsText.moved.format(label=label, when=when_text(when))))


def _label(turn: Turn, meeting_type: str, subject_id: int | None) -> str:
    meeting = label_of(turn.flows.playbook, meeting_type)
    subject = rhythm.member(turn.db, subject_id) if subject_id else None
    return MeetingsText.with_rep.format(meeting=meeting, rep=subject.name) if subject \
        else meeting


def away(turn: Turn, rest: str) -> None:
    local_now = turn.now.astimezone(zone(turn.me.timezone))
    today = local_now.date()
    if not rest.strip():
        until = turn.person.away_until
        turn.say(Message(MeetingsText.away_now.format(day=date_text(until))
                         if until is not None and until >= today else MeetingsText.away_none),
                 Message(MeetingsText.away_usage))
        return
    read = read_away(rest, local_now.replace(tzinfo=None))
    if read is False:
        rhythm.set_away(turn.db, turn.me.id, None)
        turn.log("away", until=None)
        turn.say(Message(MeetingsText.away_off))
        return
    if read is None or read is True:
        turn.say(Message(MeetingsText.away_unreadable.format(text=rest.strip()[:80])),
                 Message(MeetingsText.away_usage))
        return
    if read < today:
        turn.say(Message(MeetingsText.away_past.format(day=date_text(read))))
        return
    rhythm.set_away(turn.db, turn.me.id, read)
    turn.log("away", until=read.isoformat())
    turn.say(Message(MeetingsText.away_set.format(day=date_text(read))))

